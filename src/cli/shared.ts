/** What every subcommand shares: option parsing with the usage text on a mistake (exit 2). */
import { parseArgs, type ParseArgsConfig } from "node:util";

import { USAGE } from "./usage.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with positionals allowed; a usage error prints the usage and gives exit code 2. */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>> | number {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (error) {
    return usageError((error as Error).message);
  }
}

export function usageError(message: string): number {
  process.stderr.write(`error: ${message}\n\n${USAGE}`);
  return 2;
}
