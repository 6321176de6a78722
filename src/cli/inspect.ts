/** `config-tracker inspect <path> [--json]`: parameter counts and architecture of a checkpoint. */
import { inspectCheckpoint } from "../checkpoint.js";
import { isConfigTrackerError } from "../errors.js";
import { formatModelInfo } from "../text.js";
import { parseCommandArgs, usageError } from "./shared.js";

export async function inspectCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean", default: false } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError("inspect takes one checkpoint path");
  const path = positionals[0] as string;
  try {
    const info = await inspectCheckpoint(path);
    process.stdout.write(`${values.json ? JSON.stringify(info, null, 2) : formatModelInfo(info)}\n`);
    return 0;
  } catch (error) {
    if (!isConfigTrackerError(error) || error.code === "ADDON_LOAD_FAILED") throw error;
    // One line: the reader's message already starts with the path.
    process.stderr.write(`error: ${error.message.split("\n")[0]}\n`);
    return 1;
  }
}
