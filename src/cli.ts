#!/usr/bin/env node
/** config-tracker: the command line. Exit 0 on success, 1 on a bad input, 2 on bad usage. */
import { parseArgs } from "node:util";

import { isConfigTrackerError } from "./errors.js";
import { inspectCheckpoint } from "./checkpoint.js";
import { formatHardware, formatModelInfo } from "./format.js";
import { getHardwareInfo } from "./hardware.js";
import { stringifyPythonJson } from "./python-json.js";

const USAGE = `Usage: config-tracker <command> [options]

Commands:
  run [options] -- <cmd>   run a training command and record it: config, output, metrics,
                           checkpoints, GPU and process samples, results (run --help)
  hardware [--json]        GPUs (NVML), driver and CUDA versions, CPU, memory, torch
  inspect <path> [--json]  parameter counts and architecture of a checkpoint file or folder
                           (torch.save zip or legacy, TorchScript, safetensors, sharded
                           *.index.json, Hugging Face folder, torch.distributed.checkpoint)
  help                     this text

Options:
  --json                   print JSON instead of the readable summary
  -h, --help               this text
  -v, --version            the package version

Environment:
  CUDA_VISIBLE_DEVICES          applied as CUDA applies it
  CONFIG_TRACKER_NVML_LIBRARY   path of libnvidia-ml.so.1 to load
  CONFIG_TRACKER_CUDA_LIBRARY   path of libcuda.so.1 to load
  CONFIG_TRACKER_ADDON          path of a built config_tracker.node
`;

async function packageVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "run") {
    // Its own options, and everything after -- is the command's.
    const { runCommand } = await import("./cli/run.js");
    const exit = await runCommand(argv.slice(1));
    if ("signal" in exit) {
      // Ended as the child did: by its signal (shells and launchers see 128 + n).
      process.kill(process.pid, exit.signal);
      await new Promise(() => {}); // the signal ends the process
    }
    return (exit as { code: number }).code;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "v", default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${await packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }

  switch (command) {
    case "hardware": {
      if (rest.length > 0) return usageError(`hardware takes no arguments (got ${rest.join(" ")})`);
      const info = await getHardwareInfo();
      process.stdout.write(`${values.json ? stringifyPythonJson(info) : formatHardware(info)}\n`);
      return 0;
    }
    case "inspect": {
      if (rest.length !== 1) return usageError("inspect takes one checkpoint path");
      const path = rest[0] as string;
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
    default:
      return usageError(`unknown command: ${command}`);
  }
}

function usageError(message: string): number {
  process.stderr.write(`error: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = isConfigTrackerError(error) ? error.message : (error as Error)?.stack ?? String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  },
);
