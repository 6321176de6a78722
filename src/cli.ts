#!/usr/bin/env node
/**
 * config-tracker: the command line. Exit 0 on success, 1 on a bad input, 2 on bad usage (the
 * grammar, its help and docs/cli.md: src/cli/grammar.ts). Each command lives in
 * src/cli/<command>.ts and is imported only when asked for, so `--version` and `help` load
 * nothing else (and nothing native).
 */
import { readFileSync } from "node:fs";

import { closest, UsageError, wantsHelp } from "./cli/args.js";
import { COMMANDS, commandSpec, PROGRAM, type CommandSpec } from "./cli/grammar.js";
import { commandHelp, programHelp, usageHint } from "./cli/help.js";
import { isConfigTrackerError } from "./errors.js";

type Exit = { code: number } | { signal: NodeJS.Signals };

/** name -> loader; a command takes its own argv (after the name) and returns an exit code. */
const LOADERS: Record<string, () => Promise<(argv: string[]) => Promise<number | Exit>>> = {
  run: async () => (await import("./cli/run.js")).runCliCommand,
  hardware: async () => (await import("./cli/hardware.js")).hardwareCommand,
  inspect: async () => (await import("./cli/inspect.js")).inspectCommand,
  ls: async () => (await import("./cli/ls.js")).lsCommand,
  show: async () => (await import("./cli/show.js")).showCommand,
  diff: async () => (await import("./cli/diff.js")).diffCommand,
  compare: async () => (await import("./cli/compare.js")).compareCommand,
  sweep: async () => (await import("./cli/sweep.js")).sweepCommand,
  ui: async () => (await import("./cli/ui.js")).uiCommand,
};

// node:fs is loaded with Node itself; node:fs/promises would load streams and more.
function packageVersion(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** A line on stderr made safe for a terminal (text.js loaded only here: --version and help load nothing more). */
async function printError(text: string): Promise<void> {
  const { forTerminal } = await import("./text.js");
  process.stderr.write(forTerminal(text));
}

/** Bad usage: one line naming the mistake, the usage line and where the help is; exit 2. */
async function usageError(command: CommandSpec | null, message: string): Promise<number> {
  await printError(`${PROGRAM}${command ? ` ${command.name}` : ""}: ${message}\n${usageHint(command)}`);
  return 2;
}

function unknownCommand(name: string): Promise<number> {
  if (name.startsWith("-")) return usageError(null, `unknown option ${name}`);
  const guess = closest(name, COMMANDS.map((command) => command.name));
  return usageError(null, `unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${guess}?)` : ""}`);
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "-v" || first === "--version") {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === undefined || first === "-h" || first === "--help") {
    process.stdout.write(programHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === "help") {
    if (rest.length === 0) {
      process.stdout.write(programHelp());
      return 0;
    }
    const asked = commandSpec(rest[0] as string);
    if (asked === undefined || rest.length > 1) return asked === undefined ? unknownCommand(rest[0] as string) : usageError(null, "help takes one command");
    process.stdout.write(commandHelp(asked));
    return 0;
  }
  const spec = Object.hasOwn(LOADERS, first) ? commandSpec(first) : undefined;
  if (spec === undefined) return unknownCommand(first);
  if (wantsHelp(spec, rest)) {
    process.stdout.write(commandHelp(spec));
    return 0;
  }
  const command = await (LOADERS[first] as (typeof LOADERS)[string])();
  let exit: number | Exit;
  try {
    exit = await command(rest);
  } catch (error) {
    // A usage mistake, or an argument the library refused: exit 2. Another known error: exit 1.
    if (error instanceof UsageError || (isConfigTrackerError(error) && error.code === "INVALID_ARGUMENT")) {
      return usageError(spec, (error as Error).message);
    }
    if (!isConfigTrackerError(error)) throw error;
    await printError(`${PROGRAM} ${spec.name}: ${error.message}\n`);
    return 1;
  }
  if (typeof exit === "number") return exit;
  if ("signal" in exit) {
    // Ended as the child did: by its signal (shells and launchers see 128 + n).
    process.kill(process.pid, exit.signal);
    await new Promise(() => {}); // the signal ends the process
  }
  return (exit as { code: number }).code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    const message = isConfigTrackerError(error) ? error.message : (error as Error)?.stack ?? String(error);
    await printError(`${PROGRAM}: ${message}\n`);
    process.exitCode = 1;
  },
);
