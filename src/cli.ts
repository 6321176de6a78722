#!/usr/bin/env node
/**
 * config-tracker: the command line. Exit 0 on success, 1 on a bad input, 2 on bad usage.
 * Each command lives in src/cli/<command>.ts and is imported only when asked for, so `--version`
 * and `help` load nothing else (and nothing native).
 */
import { readFileSync } from "node:fs";

import { USAGE } from "./cli/usage.js";
import { isConfigTrackerError } from "./errors.js";

type Exit = { code: number } | { signal: NodeJS.Signals };

/** name -> loader; a command takes its own argv (after the name) and returns an exit code. */
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number | Exit>>> = {
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

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "-v" || first === "--version") {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === undefined || first === "help" || first === "-h" || first === "--help") {
    process.stdout.write(USAGE);
    return first === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (load === undefined) {
    const { forTerminal } = await import("./text.js"); // only here: --version and help load nothing more
    process.stderr.write(`${forTerminal(`error: ${first.startsWith("-") ? `unknown option: ${first}` : `unknown command: ${first}`}`)}\n\n${USAGE}`);
    return 2;
  }
  const command = await load();
  const exit = await command(rest);
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
    const { forTerminal } = await import("./text.js");
    process.stderr.write(`${forTerminal(`error: ${message}`)}\n`);
    process.exitCode = 1;
  },
);
