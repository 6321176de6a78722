/**
 * Reads a command's arguments by its grammar (grammar.ts): options by their spec, each mistake a
 * UsageError whose message names the option (and the closest one, for a typo). Node's parseArgs
 * splits the tokens; the checks and the messages are ours.
 */
import { parseArgs } from "node:util";

import { closest } from "../options.js";
import { HELP_OPTION, type CommandSpec, type OptionSpec } from "./grammar.js";

export { closest };

/** Bad usage: the dispatcher prints it with the command's name and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface CommandLine {
  positionals: string[];
  /** A flag's value (false when not given). */
  flag(name: string): boolean;
  /** An option's value (the last one given), or undefined. */
  string(name: string): string | undefined;
  /** Every value of a repeatable option, in order. */
  strings(name: string): string[];
}

type Tokens = NonNullable<ReturnType<typeof parseArgs>["tokens"]>;

function tokenize(options: OptionSpec[], argv: string[]): Tokens {
  const config = Object.fromEntries(
    options.map((option) => [
      option.name,
      { type: option.value === undefined ? ("boolean" as const) : ("string" as const), ...(option.short ? { short: option.short } : {}) },
    ]),
  );
  return parseArgs({ args: argv, options: config, strict: false, allowPositionals: true, tokens: true }).tokens;
}

const optionsOf = (command: CommandSpec): OptionSpec[] => [...command.options, HELP_OPTION];

/** Whether the arguments ask for the command's help (-h or --help, before any `--`). */
export function wantsHelp(command: CommandSpec, argv: string[]): boolean {
  const own = argv.indexOf("--") === -1 ? argv : argv.slice(0, argv.indexOf("--"));
  return tokenize(optionsOf(command), own).some((token) => token.kind === "option" && token.name === HELP_OPTION.name);
}

/** Reads `argv` by the command's options; a UsageError names what is wrong. */
export function parseCommandLine(command: CommandSpec, argv: string[]): CommandLine {
  const options = optionsOf(command);
  const byName = new Map(options.map((option) => [option.name, option]));
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (const token of tokenize(options, argv)) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const option = byName.get(token.name);
    if (option === undefined || (token.rawName.startsWith("--") ? token.name !== option.name : option.short === undefined)) {
      const shown = options.filter((candidate) => !candidate.internal).map((candidate) => `--${candidate.name}`);
      const guess = token.rawName.startsWith("--") ? closest(token.rawName, shown) : null;
      throw new UsageError(`unknown option ${token.rawName}${guess ? ` (did you mean ${guess}?)` : ""}`);
    }
    const display = `--${option.name}`;
    if (option.value === undefined) {
      if (token.inlineValue) throw new UsageError(`${display} takes no value (got ${token.rawName}=${token.value})`);
      flags.add(option.name);
      continue;
    }
    if (token.value === undefined) throw new UsageError(`${display} needs a value: ${display} ${option.value}`);
    if (!token.inlineValue && token.value.startsWith("-") && token.value !== "-") {
      // `--sort --json`: the value was forgotten. One that starts with a dash is written --sort=-KEY.
      throw new UsageError(`${display} needs a value (got the option ${token.value}); give one that starts with a dash as ${display}=${token.value}`);
    }
    const list = values.get(option.name) ?? [];
    list.push(token.value);
    values.set(option.name, list);
  }
  const known = (name: string, kind: "flag" | "value") => {
    const option = byName.get(name);
    if (option === undefined || (option.value === undefined) !== (kind === "flag")) {
      throw new Error(`${command.name}: the grammar has no ${kind} option --${name}`); // a programming error
    }
  };
  return {
    positionals,
    flag: (name) => (known(name, "flag"), flags.has(name)),
    string: (name) => (known(name, "value"), values.get(name)?.at(-1)),
    strings: (name) => (known(name, "value"), values.get(name) ?? []),
  };
}

/** A comma-separated list option (--metrics a,b): its names, blanks dropped; undefined when not given. */
export function listOption(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(",").map((name) => name.trim()).filter(Boolean);
}
