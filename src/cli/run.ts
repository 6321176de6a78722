/**
 * `config-tracker run [options] -- <command> [args...]`: the arguments to runCommand's options;
 * what the run says (a refusal, a command that could not start, warnings) printed on stderr; the
 * exit as the command's (its code, or its signal).
 */
import { basename, join } from "node:path";

import { readRegularFile } from "../io/read-file.js";
import { emptyRecord, isPlainRecord, MAX_JSON_BYTES, setKey } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";
import { nodeFromEnv, type NodeIdentity } from "../run/node-record.js";
import { endedLine, recordingLine } from "../run/outcome.js";
import { prepareRun, type RunCommandOptions } from "../run/run-command.js";
import { commandLine, printError, say, UsageError, warn } from "./shared.js";

/**
 * Why a --set value that is not JSON, and so is stored as a string, may be a mistake: it starts
 * like a number, like JSON, or is a Python literal. Null when it reads as the string it is.
 */
export function mistypedValue(text: string): string | null {
  const value = text.trim();
  if (/^[-+]?(\d|\.\d)/.test(value)) return "it starts like a number but is not one";
  if (/^[[{"]/.test(value)) {
    try {
      parsePythonJson(value);
    } catch (error) {
      return `it starts like JSON but is not JSON (${(error as Error).message})`;
    }
  }
  const literal = { True: "true", False: "false", None: "null", nan: "NaN", inf: "Infinity", "-inf": "-Infinity" }[value];
  if (literal !== undefined) return `it is Python's ${value}; JSON writes ${literal}`;
  return null;
}

/**
 * "a.b=1" into { a: { b: 1 } } (values parsed as JSON when they are JSON, else strings; any name
 * is a key, `__proto__` and `constructor` too: objects made here have no prototype). Returns
 * a warning when a value stored as a string looks like a mistyped number or JSON.
 */
function applySet(config: Record<string, unknown>, assignment: string): string | null {
  const at = assignment.indexOf("=");
  if (at <= 0) throw new UsageError(`--set ${assignment}: expected key=value`);
  const path = assignment.slice(0, at).split(".");
  if (path.some((part) => part === "")) throw new UsageError(`--set ${assignment}: not a key path`);
  const text = assignment.slice(at + 1);
  let value: unknown = text;
  let warning: string | null = null;
  try {
    value = parsePythonJson(text);
  } catch {
    const why = mistypedValue(text);
    const key = assignment.slice(0, at);
    if (why !== null) warning = `--set ${assignment}: stored as the string ${JSON.stringify(text)}: ${why}. To store a string on purpose, give it as JSON: --set '${key}=${JSON.stringify(text)}'`;
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
  return warning;
}

/** The script a command runs, for a default folder name: train.py from `torchrun ... train.py`. */
function scriptName(command: string[]): string {
  const script = command.find((arg) => /\.(py|js|mjs|sh)$/.test(arg)) ?? command[0] ?? "run";
  return basename(script).replace(/\.[^.]+$/, "").replace(/[^\w.-]/g, "_") || "run";
}

function parseRunArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
  node: NodeIdentity,
): { command: string[]; options: RunCommandOptions; warnings: string[] } {
  const split = argv.indexOf("--");
  const command = split === -1 ? [] : argv.slice(split + 1);
  const args = commandLine("run", split === -1 ? argv : argv.slice(0, split));
  if (args.positionals.length > 0) throw new UsageError(`unexpected ${args.positionals.join(" ")}: put the command after --`);
  if (command.length === 0) throw new UsageError("no command: config-tracker run [options] -- <command> [args...]");
  const values = {
    dir: args.string("dir"),
    root: args.string("root"),
    name: args.string("name"),
    config: args.string("config"),
    interval: args.string("interval"),
    model: args.string("model"),
    checkpoints: args.string("checkpoints"),
    metricsFile: args.string("metrics-file"),
    metricsRegex: args.strings("metrics-regex"),
  };
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
    const file = values.config;
    let text: string;
    try {
      text = readRegularFile(file, MAX_JSON_BYTES).text;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = (error as Error).message.startsWith(`${file}: `) ? (error as Error).message.slice(file.length + 2) : (error as Error).message;
      throw new UsageError(`--config ${file}: ${code === "NOT_FOUND" || code === "ENOENT" ? "no such file" : why}`);
    }
    let parsed: unknown;
    try {
      parsed = parsePythonJson(text.replace(/^\uFEFF/, "")); // a BOM is not JSON
    } catch (error) {
      throw new UsageError(`--config ${file}: not JSON: ${(error as Error).message}`);
    }
    if (!isPlainRecord(parsed)) throw new UsageError(`--config ${file}: not a JSON object`);
    config = parsed;
  }
  const warnings: string[] = [];
  for (const assignment of args.strings("set")) {
    const warning = applySet(config, assignment);
    if (warning !== null) warnings.push(warning);
  }

  let best: Record<string, "min" | "max"> | undefined;
  for (const item of args.strings("best")) {
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
    warnings,
    options: {
      dir,
      config,
      resume: args.flag("resume"),
      intervalMs: Math.round(seconds * 1000),
      ...(values.model === undefined ? {} : { model: values.model }),
      ...(best === undefined ? {} : { best }),
      ...(values.checkpoints === undefined ? {} : { checkpoints: values.checkpoints }),
      ...(values.metricsFile === undefined ? {} : { metricsFile: values.metricsFile }),
      ...(values.metricsRegex.length === 0 ? {} : { metricsRegex: values.metricsRegex }),
      stdout: process.stdout,
      stderr: process.stderr,
      progress: true,
    },
  };
}

export type RunExit = { code: number } | { signal: NodeJS.Signals };

export async function runCliCommand(argv: string[]): Promise<RunExit> {
  const { command, options, warnings } = parseRunArgs(argv, process.env, nodeFromEnv(process.env));
  for (const warning of warnings) warn("run", warning);
  const prepared = await prepareRun(command, options);
  if ("refused" in prepared) {
    const error = prepared.refused;
    const message =
      error.code === "CONFIG_EXISTS" && error.keys !== undefined
        ? `${error.message.replace(/ Pass \{ mode: "resume" \}.*$/, "")} Add --resume to carry on with these changes, or give another --dir / --name.`
        : error.message;
    say("run", message);
    return { code: 1 };
  }
  printError(`${recordingLine(prepared.dir, prepared.resumes)}\n`);
  const started = Date.now();
  const outcome = await prepared.start();
  for (const warning of outcome.warnings) warn("run", warning);
  printError(`${endedLine(outcome, (Date.now() - started) / 1000)}\n`);
  if (outcome.signal !== null) return { signal: outcome.signal };
  return { code: outcome.exit_code ?? 1 };
}
