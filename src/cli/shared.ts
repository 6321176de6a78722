/**
 * What every command shares: its arguments read by its grammar, and the one way to print: every
 * byte a command writes goes through forTerminal (text) or jsonForTerminal (--json), so nothing a
 * run folder holds reaches the terminal as a control sequence. Its own lines on stderr start with
 * the command's name (`config-tracker ls: warning: ...`). Bad usage is thrown as a UsageError,
 * which the dispatcher (cli.ts) prints with the usage line and exits 2 for.
 */
import { stringifyPythonJson } from "../python-json.js";
import { forTerminal, jsonForTerminal } from "../text.js";
import { parseCommandLine, type CommandLine } from "./args.js";
import { commandSpec, PROGRAM } from "./grammar.js";

export { UsageError, listOption } from "./args.js";

/** The arguments of `command` read by its grammar (a mistake throws a UsageError). */
export function commandLine(command: string, argv: string[]): CommandLine {
  const spec = commandSpec(command);
  if (spec === undefined) throw new Error(`no grammar for the command ${command}`);
  return parseCommandLine(spec, argv);
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

/** A line on stderr from `command`: `config-tracker <command>: <text>`. */
export function say(command: string, text: string): void {
  printError(`${PROGRAM} ${command}: ${text}\n`);
}

/** A warning on stderr from `command`: something the user should know; the command goes on. */
export function warn(command: string, text: string): void {
  say(command, `warning: ${text}`);
}
