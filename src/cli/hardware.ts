/** `config-tracker hardware [--json]`: GPUs, driver and CUDA versions, CPU, memory, torch. */
import { getHardwareInfo } from "../hardware.js";
import { stringifyPythonJson } from "../python-json.js";
import type { HardwareInfo } from "../schema.js";
import { formatBytes, oneLine } from "../text.js";
import { parseCommandArgs, print, usageError } from "./shared.js";

export async function hardwareCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean", default: false } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0) return usageError(`hardware takes no arguments (got ${positionals.join(" ")})`);
  const info = await getHardwareInfo();
  print(`${values.json ? stringifyPythonJson(info) : formatHardware(info)}\n`);
  return 0;
}

/** The readable summary. */
export function formatHardware(info: HardwareInfo): string {
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
  lines.push(`torch           ${info.torch_version === null ? "not found for python3 on PATH" : `${info.torch_version} (${build})`}`);
  return lines.join("\n");
}
