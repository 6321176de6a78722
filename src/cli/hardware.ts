/** `config-tracker hardware [--json]`: GPUs, driver and CUDA versions, CPU, memory, torch. */
import { formatHardware } from "../text.js";
import { getHardwareInfo } from "../hardware.js";
import { stringifyPythonJson } from "../python-json.js";
import { parseCommandArgs, usageError } from "./shared.js";

export async function hardwareCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: "boolean", default: false } });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0) return usageError(`hardware takes no arguments (got ${positionals.join(" ")})`);
  const info = await getHardwareInfo();
  process.stdout.write(`${values.json ? stringifyPythonJson(info) : formatHardware(info)}\n`);
  return 0;
}
