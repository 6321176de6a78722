/** `config-tracker hardware [--python PYTHON] [--json]`: GPUs, driver and CUDA versions, CPU, memory, Python, torch. */
import { getHardwareInfo } from "../hardware.js";
import { stringifyPythonJson } from "../python-json.js";
import type { HardwareInfo } from "../schema.js";
import { formatBytes, oneLine } from "../text.js";
import { commandLine, print, UsageError } from "./shared.js";

export async function hardwareCommand(argv: string[]): Promise<number> {
  const args = commandLine("hardware", argv);
  if (args.positionals.length > 0) throw new UsageError(`hardware takes no arguments (got ${args.positionals.join(" ")})`);
  const python = args.string("python");
  if (python === "") throw new UsageError("--python needs an interpreter: a path, or a name on PATH");
  const info = await getHardwareInfo(python === undefined ? {} : { python });
  const asked = python ?? (process.env.CONFIG_TRACKER_PYTHON || "python3");
  print(`${args.flag("json") ? stringifyPythonJson(info) : formatHardware(info, asked)}\n`);
  return 0;
}

/** The readable summary; `python`: the interpreter that was asked about torch (as given). */
export function formatHardware(info: HardwareInfo, python = "python3"): string {
  const lines = [
    `platform        ${info.platform} ${info.arch} (${info.os_release}), Node ${info.node_version}`,
    `cpu             ${info.cpu_count} x ${info.cpu_model ?? "unknown"}`,
    `memory          ${formatBytes(info.memory_total_bytes)}`,
  ];
  const runtimes = [
    info.cuda_version === null ? null : `CUDA ${info.cuda_version}`,
    info.rocm_version ? `HIP ${info.rocm_version}` : null,
  ].filter((part) => part !== null);
  if (info.driver_version !== null || runtimes.length > 0) {
    lines.push(`driver          ${info.driver_version ?? "unknown"} (${runtimes.join(", ") || "CUDA unknown"})`);
  }
  const visibility = (
    [
      ["CUDA_VISIBLE_DEVICES", info.cuda_visible_devices],
      ["HIP_VISIBLE_DEVICES", info.hip_visible_devices],
      ["ROCR_VISIBLE_DEVICES", info.rocr_visible_devices],
    ] as const
  )
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  lines.push(
    `gpus            ${info.gpu_count} usable of ${info.host_gpu_count} on this host${
      visibility.length === 0 ? "" : ` (${visibility.join(", ")})`
    }`,
  );
  for (const gpu of info.gpus) {
    const details = [
      formatBytes(gpu.memory_total_bytes),
      gpu.compute_capability === null ? null : `sm ${gpu.compute_capability}`,
      gpu.pci_bus_id,
      gpu.mig_mode ? "MIG" : null,
    ].filter((part) => part !== null);
    // The ordinal the trainer uses: CUDA's for NVIDIA, HIP's for AMD (torch calls both "cuda:N").
    const label = `${gpu.vendor === "amd" ? "hip" : "cuda"}:${gpu.index}`;
    lines.push(`  ${label.padEnd(14)}${oneLine(gpu.name ?? "unknown")}  ${details.map((part) => oneLine(part)).join(", ")}`);
    if (gpu.uuid) lines.push(`                  ${oneLine(gpu.uuid)}`);
    if (gpu.error) lines.push(`                  error: ${oneLine(gpu.error)}`);
  }
  if (!info.gpu_available) lines.push(`no gpu          ${info.gpu_unavailable_reason ?? "unknown reason"}`);
  const build =
    info.torch_cuda_version !== null
      ? `CUDA ${info.torch_cuda_version}`
      : info.torch_hip_version
        ? `ROCm, HIP ${info.torch_hip_version}`
        : "CPU build";
  const other = "(--python or CONFIG_TRACKER_PYTHON names another interpreter)";
  if (info.python_version === null) {
    lines.push(`python          ${oneLine(python)} not found ${other}`);
    lines.push("torch           unknown (no Python)");
  } else {
    const interpreter = oneLine(info.python_executable ?? python);
    lines.push(`python          ${oneLine(info.python_version)} (${interpreter})`);
    lines.push(`torch           ${info.torch_version === null ? `not installed for ${interpreter} ${other}` : `${oneLine(info.torch_version)} (${build})`}`);
  }
  return lines.join("\n");
}
