/**
 * `config-tracker run [options] -- <command> [args...]`: the arguments to runCommand's options;
 * what the run says (a refusal, a command that could not start, warnings) printed on stderr; the
 * exit as the command's (its code, or its signal).
 */
import { basename, join } from "node:path";
import { parseArgs } from "node:util";

import { ConfigTrackerError } from "../errors.js";
import { readRegularFile } from "../io/read-file.js";
import { emptyRecord, isPlainRecord, MAX_JSON_BYTES, setKey } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";
import { nodeFromEnv, type NodeIdentity } from "../run/node-record.js";
import { prepareRun, type RunCommandOptions } from "../run/run-command.js";
import { printError } from "./shared.js";

export const RUN_USAGE = `Usage: config-tracker run [options] -- <command> [args...]

Runs <command>, recording it as an experiment: config.json, status.json, output.log,
metrics.jsonl, checkpoints.jsonl, system.jsonl, results.json. Exits as the command did.

Options:
  --dir D                 the experiment folder
  --root R --name N       the folder R/N (default root: runs; default name: the script's name
                          and the Slurm job id, or the time)
  --config FILE.json      the run's config (JSON; Python's NaN / Infinity accepted)
  --set key=value         a config value (dotted keys nest; JSON values, else a string); repeatable
  --checkpoints GLOB      record checkpoint files or folders matching GLOB once complete
  --metrics-file PATH     follow a metrics file the command writes (JSON lines, or CSV with a header)
  --metrics-regex RE      metrics from output lines matching RE: named groups \`step\` and metrics,
                          e.g. 'iter (?<step>\\d+): loss (?<loss>[\\d.]+)'; repeatable (first match wins)
  --interval SECONDS      how often GPUs and processes are sampled (default 1)
  --resume                carry on a run whose config changed (recorded in config.json)
  --model CHECKPOINT      read the model (parameters, layers, d_model) from a checkpoint now,
                          e.g. the one a fine-tune starts from (MFU needs the parameter count)
  --best NAME=min|max     a metric whose best value and step results report, and that picks the
                          best checkpoint; repeatable (default val_loss=min)

Output lines that are JSON objects with a numeric "step" are logged as metrics.
`;

class UsageError extends Error {}

/**
 * "a.b=1" into { a: { b: 1 } } (values parsed as JSON when they are JSON, else strings). Any name
 * is a key (`__proto__` and `constructor` too: objects made here have no prototype).
 */
function applySet(config: Record<string, unknown>, assignment: string): void {
  const at = assignment.indexOf("=");
  if (at <= 0) throw new UsageError(`--set ${assignment}: expected key=value`);
  const path = assignment.slice(0, at).split(".");
  if (path.some((part) => part === "")) throw new UsageError(`--set ${assignment}: not a key path`);
  const text = assignment.slice(at + 1);
  let value: unknown = text;
  try {
    value = parsePythonJson(text);
  } catch {
    // a plain string
  }
  let target = config;
  for (const part of path.slice(0, -1)) {
    if (!Object.hasOwn(target, part)) setKey(target, part, emptyRecord());
    else if (!isPlainRecord(target[part])) throw new UsageError(`--set ${assignment}: ${part} is already a value, not an object`);
    target = target[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (Object.hasOwn(target, last) && isPlainRecord(target[last]) && !isPlainRecord(value)) {
    throw new UsageError(`--set ${assignment}: ${last} already holds keys set by another --set`);
  }
  setKey(target, last, value);
}

/** The script a command runs, for a default folder name: train.py from `torchrun ... train.py`. */
function scriptName(command: string[]): string {
  const script = command.find((arg) => /\.(py|js|mjs|sh)$/.test(arg)) ?? command[0] ?? "run";
  return basename(script).replace(/\.[^.]+$/, "").replace(/[^\w.-]/g, "_") || "run";
}

function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv, node: NodeIdentity): { command: string[]; options: RunCommandOptions } {
  const split = argv.indexOf("--");
  const optionArgs = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({
    args: optionArgs,
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      root: { type: "string" },
      name: { type: "string" },
      config: { type: "string" },
      set: { type: "string", multiple: true },
      checkpoints: { type: "string" },
      "metrics-file": { type: "string" },
      "metrics-regex": { type: "string", multiple: true },
      interval: { type: "string" },
      resume: { type: "boolean", default: false },
      model: { type: "string" },
      best: { type: "string", multiple: true },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(" ")}: put the command after --`);
  if (command.length === 0) throw new UsageError("no command: config-tracker run [options] -- <command> [args...]");
  if (values.dir !== undefined && (values.root !== undefined || values.name !== undefined)) {
    throw new UsageError("give --dir, or --root and --name, not both");
  }
  let name = values.name;
  if (values.dir === undefined && name === undefined) {
    if (env.SLURM_JOB_ID) name = `${scriptName(command)}_job${env.SLURM_JOB_ID}`;
    else if (node.source !== null) {
      throw new UsageError("on several nodes, every node's wrapper must name the same folder: give --dir or --name");
    } else name = `${scriptName(command)}_${new Date().toISOString().replace(/[:.]/g, "-")}`;
  }
  const dir = values.dir ?? join(values.root ?? "runs", name as string);

  let config: Record<string, unknown> = emptyRecord();
  if (values.config !== undefined) {
    const { text } = readRegularFile(values.config, MAX_JSON_BYTES);
    let parsed: unknown;
    try {
      parsed = parsePythonJson(text.replace(/^\uFEFF/, "")); // a BOM is not JSON
    } catch (error) {
      throw new ConfigTrackerError("INVALID_FILE", `${values.config}: ${(error as Error).message}`, { path: values.config });
    }
    if (!isPlainRecord(parsed)) throw new ConfigTrackerError("INVALID_FILE", `${values.config}: not a JSON object`, { path: values.config });
    config = parsed;
  }
  for (const assignment of values.set ?? []) applySet(config, assignment);

  let best: Record<string, "min" | "max"> | undefined;
  for (const item of values.best ?? []) {
    const match = /^([^=]+)=(min|max)$/.exec(item);
    if (!match) throw new UsageError(`--best ${item}: expected name=min or name=max`);
    best = { ...best, [match[1] as string]: match[2] as "min" | "max" };
  }
  if (name !== undefined && (name === "." || name === ".." || /[\\/]/.test(name))) {
    throw new UsageError(`--name ${name}: a folder name, not a path (use --dir for a path)`);
  }

  const seconds = values.interval === undefined ? 1 : Number(values.interval);
  if (!(seconds >= 0.05 && seconds <= 3600)) throw new UsageError(`--interval ${values.interval}: seconds between 0.05 and 3600`);
  return {
    command,
    options: {
      dir,
      config,
      resume: values.resume === true,
      intervalMs: Math.round(seconds * 1000),
      ...(values.model === undefined ? {} : { model: values.model }),
      ...(best === undefined ? {} : { best }),
      ...(values.checkpoints === undefined ? {} : { checkpoints: values.checkpoints }),
      ...(values["metrics-file"] === undefined ? {} : { metricsFile: values["metrics-file"] }),
      ...(values["metrics-regex"] === undefined ? {} : { metricsRegex: values["metrics-regex"] }),
      stdout: process.stdout,
      stderr: process.stderr,
      progress: true,
    },
  };
}

export type RunExit = { code: number } | { signal: NodeJS.Signals };

export async function runCliCommand(argv: string[]): Promise<RunExit> {
  const own = argv.indexOf("--") === -1 ? argv : argv.slice(0, argv.indexOf("--"));
  if (own.includes("-h") || own.includes("--help")) {
    process.stdout.write(RUN_USAGE);
    return { code: 0 };
  }
  const usage = (error: unknown): RunExit | null => {
    const code = (error as { code?: string }).code;
    if (!(error instanceof UsageError || code?.startsWith("ERR_PARSE_ARGS") || code === "INVALID_ARGUMENT")) return null;
    printError(`config-tracker run: ${(error as Error).message}\n(config-tracker run --help for the options)\n`);
    return { code: 2 };
  };
  let prepared: Awaited<ReturnType<typeof prepareRun>>;
  try {
    const { command, options } = parseRunArgs(argv, process.env, nodeFromEnv(process.env));
    prepared = await prepareRun(command, options);
  } catch (error) {
    const exit = usage(error);
    if (exit === null) throw error;
    return exit;
  }
  if ("refused" in prepared) {
    const error = prepared.refused;
    const message =
      error.code === "CONFIG_EXISTS" && error.keys !== undefined
        ? `${error.message.replace(/ Pass \{ mode: "resume" \}.*$/, "")} Add --resume to carry on with these changes, or give another --dir / --name.`
        : error.message;
    printError(`config-tracker: ${message}\n`);
    return { code: 1 };
  }
  const outcome = await prepared.start();
  if (!outcome.started) printError(`config-tracker: ${outcome.error}\n`);
  for (const warning of outcome.warnings) printError(`config-tracker: ${warning}\n`);
  if (outcome.signal !== null) return { signal: outcome.signal };
  return { code: outcome.exit_code ?? 1 };
}
