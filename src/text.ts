/** Human-readable renderings for the CLI. */
import type { ModelInfo } from "./checkpoint.js";
import type { HardwareInfo } from "./schema.js";

const number = (n: number) => n.toLocaleString("en-US");

// C0 and C1 controls, DEL, line / paragraph separators and the bidirectional marks and overrides:
// what a terminal or an editor would act on rather than show.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `text` made inert for one line of readable output: every character a terminal would act on is
 * written as an escape (\n, \t, \x1b, \u2028, ...). File names, pickle keys and architecture
 * names come from untrusted files.
 */
export function inert(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "unknown";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

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
    lines.push(`  ${label.padEnd(14)}${inert(gpu.name ?? "unknown")}  ${details.map((part) => inert(part)).join(", ")}`);
    if (gpu.uuid) lines.push(`                  ${inert(gpu.uuid)}`);
    if (gpu.error) lines.push(`                  error: ${inert(gpu.error)}`);
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

export function formatModelInfo(info: ModelInfo): string {
  const where = [info.format, info.state_dict_key === null ? null : `key "${inert(info.state_dict_key)}"`]
    .filter((part) => part !== null)
    .join(", ");
  const arch = [
    info.d_model === null ? null : `d_model ${info.d_model}`,
    info.num_layers === null ? null : `${info.num_layers} layers`,
    info.num_heads === null ? null : `${info.num_heads} heads`,
    info.vocab_size === null ? null : `vocab ${number(info.vocab_size)}`,
    info.max_seq_len === null ? null : `context ${number(info.max_seq_len)}`,
  ].filter((part) => part !== null);
  const dtypes = Object.entries(info.dtypes)
    .map(([dtype, count]) => `${inert(dtype)} ${number(count)}`)
    .join(", ");
  return [
    inert(info.source),
    `  type            ${inert(info.type)} (${inert(where)})`,
    `  parameters      ${number(info.num_parameters)} (trainable ${number(info.num_trainable_parameters)}, ${
      info.exact ? "exact" : "not exact"
    })`,
    ...(info.exact_reason ? [`  counted         ${inert(info.exact_reason)}`] : []),
    `  buffers         ${number(info.num_buffer_elements)} elements`,
    `  tensors         ${number(info.num_tensors)}, ${formatBytes(info.parameter_bytes)} of parameters`,
    `  dtypes          ${dtypes || "none"}`,
    `  architecture    ${arch.length === 0 ? "unknown" : `${arch.join(", ")} (from ${inert(info.architecture_source ?? "")})`}`,
    ...(info.classes_needed.length === 0
      ? []
      : [`  weights_only    torch.load(weights_only=True) refuses it until these are allowed: ${inert(info.classes_needed.join(", "))}`]),
  ].join("\n");
}
