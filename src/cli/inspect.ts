/** `config-tracker inspect <path> [--json]`: parameter counts and architecture of a checkpoint. */
import { inspectCheckpoint, type ModelInfo } from "../checkpoint.js";
import { isConfigTrackerError } from "../errors.js";
import { formatBytes, oneLine } from "../text.js";
import { commandLine, print, say, UsageError } from "./shared.js";

export async function inspectCommand(argv: string[]): Promise<number> {
  const args = commandLine("inspect", argv);
  if (args.positionals.length !== 1) throw new UsageError("inspect takes one checkpoint path");
  const path = args.positionals[0] as string;
  try {
    const info = await inspectCheckpoint(path);
    print(`${args.flag("json") ? JSON.stringify(info, null, 2) : formatModelInfo(info)}\n`);
    return 0;
  } catch (error) {
    if (!isConfigTrackerError(error) || error.code === "ADDON_LOAD_FAILED") throw error;
    // One line: the reader's message already starts with the path.
    say("inspect", error.message.split("\n")[0] as string);
    return 1;
  }
}

const number = (n: number) => n.toLocaleString("en-US");

/** The readable summary; every string from the file made safe for its line. */
export function formatModelInfo(info: ModelInfo): string {
  const where = [info.format, info.state_dict_key === null ? null : `key "${oneLine(info.state_dict_key)}"`]
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
    .map(([dtype, count]) => `${oneLine(dtype)} ${number(count)}`)
    .join(", ");
  return [
    oneLine(info.source),
    `  type            ${oneLine(info.type)} (${oneLine(where)})`,
    `  parameters      ${number(info.num_parameters)} (trainable ${number(info.num_trainable_parameters)}, ${
      info.exact ? "exact" : "not exact"
    })`,
    ...(info.exact_reason ? [`  counted         ${oneLine(info.exact_reason)}`] : []),
    `  buffers         ${number(info.num_buffer_elements)} elements`,
    `  tensors         ${number(info.num_tensors)}, ${formatBytes(info.parameter_bytes)} of parameters`,
    `  dtypes          ${dtypes || "none"}`,
    `  architecture    ${arch.length === 0 ? "unknown" : `${arch.join(", ")} (from ${oneLine(info.architecture_source ?? "")})`}`,
    ...(info.classes_needed.length === 0
      ? []
      : [`  weights_only    torch.load(weights_only=True) refuses it until these are allowed: ${oneLine(info.classes_needed.join(", "))}`]),
  ].join("\n");
}
