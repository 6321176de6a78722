/**
 * What every subcommand shares: option parsing with the usage text on a mistake (exit 2), and the
 * one way to print: every byte a command writes goes through forTerminal (text) or jsonForTerminal
 * (--json), so nothing a run folder holds reaches the terminal as a control sequence.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

import { stringifyPythonJson } from "../python-json.js";
import { forTerminal, jsonForTerminal } from "../text.js";

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
  printError(`error: ${message}\n`);
  process.stderr.write(`\n${USAGE}`);
  return 2;
}

/** Text on stdout, made safe for a terminal. */
export function print(text: string): void {
  process.stdout.write(forTerminal(text));
}

/** A value as JSON on stdout (Python's NaN / Infinity), made safe for a terminal, then a newline. */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(stringifyPythonJson(value))}\n`);
}

/** Text on stderr (warnings, errors, progress), made safe for a terminal. */
export function printError(text: string): void {
  process.stderr.write(forTerminal(text));
}

/** One warning line on stderr. */
export function warn(message: string): void {
  printError(`warning: ${message}\n`);
}
