/**
 * `config-tracker run [options] -- <command> [args...]`: records a training process from the
 * outside. Writes config.json (with the command and the hardware as the child sees it) and
 * status.json, runs the child with the terminal's stdin, tees its output to output.log, takes
 * metrics from its output (JSON lines, a regex) or from a file it writes, records checkpoints as
 * they are completed, samples GPUs / CPU / memory every interval into system.jsonl, forwards
 * signals, and at the end writes results.json (metrics, exit code or signal, duration, system
 * summary, throughput and MFU) and exits as the child did.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, createWriteStream, openSync, readFileSync, readSync, readdirSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, delimiter, join, resolve } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { parseArgs } from "node:util";

import { ensureFolder, writeFileAtomicSync } from "../io/atomic-write.js";
import { DISTRIBUTED_VARIABLES } from "../environment.js";
import { ConfigTrackerError, isConfigTrackerError } from "../errors.js";
import { getHardwareInfo } from "../hardware.js";
import { isPlainRecord } from "../json-value.js";
import { parsePythonJson } from "../python-json.js";
import { CheckpointWatcher, stepFromName } from "./checkpoint-watch.js";
import { MetricsFileFollower } from "./metrics-file.js";
import {
  nodeFromEnv,
  rankOfProcess,
  readNodeFiles,
  type NodeIdentity,
  type NodeRecord,
} from "../experiment/nodes.js";
import { NODES_FOLDER, nodeFilePath, nodeOfNodeFileName, nodeOfSystemLog, outputLogFile, systemLogFile } from "../experiment/layout.js";
import { jsonLineMetrics, LineSplitter, regexLineMetrics, type LineMetrics, type LineParser } from "./output-metrics.js";
import { startSampler, type Sampler, type SystemSample } from "../system/sampler.js";
import { readSystemLog, SystemLog } from "../system/system-log.js";
import { SystemSummary, type SystemSummaryResult } from "../system/system-summary.js";
import { computeThroughput, sequenceLengthFrom } from "../system/throughput.js";
import { PYTHON_VARIABLES } from "../torch-probe.js";
import { ConfigTracker } from "../tracker.js";
import { ProgressLine } from "./progress-line.js";

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

interface RunOptions {
  dir: string;
  /** A checkpoint to read the model from (config.json's model) before the run. */
  model: string | undefined;
  /** results' best_* metrics and the best checkpoint's metric: { name: direction }. */
  best: Record<string, "min" | "max"> | undefined;
  config: Record<string, unknown>;
  checkpoints: string | undefined;
  metricsFile: string | undefined;
  metricsRegexes: LineParser[];
  intervalMs: number;
  resume: boolean;
  command: string[];
}

export type RunExit = { code: number } | { signal: NodeJS.Signals };

class UsageError extends Error {}

/** "a.b=1" into { a: { b: 1 } } (values parsed as JSON when they are JSON, else strings). */
function applySet(config: Record<string, unknown>, assignment: string): void {
  const at = assignment.indexOf("=");
  if (at <= 0) throw new UsageError(`--set ${assignment}: expected key=value`);
  const path = assignment.slice(0, at).split(".");
  if (path.some((part) => part === "" || part === "__proto__" || part === "constructor" || part === "prototype")) {
    throw new UsageError(`--set ${assignment}: not a key path`);
  }
  const text = assignment.slice(at + 1);
  let value: unknown = text;
  try {
    value = parsePythonJson(text);
  } catch {
    // a plain string
  }
  let target = config;
  for (const part of path.slice(0, -1)) {
    if (target[part] === undefined) target[part] = {};
    else if (!isPlainRecord(target[part])) throw new UsageError(`--set ${assignment}: ${part} is already a value, not an object`);
    target = target[part] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (isPlainRecord(target[last]) && !isPlainRecord(value)) {
    throw new UsageError(`--set ${assignment}: ${last} already holds keys set by another --set`);
  }
  target[last] = value;
}

/** The script a command runs, for a default folder name: train.py from `torchrun ... train.py`. */
function scriptName(command: string[]): string {
  const script = command.find((arg) => /\.(py|js|mjs|sh)$/.test(arg)) ?? command[0] ?? "run";
  return basename(script).replace(/\.[^.]+$/, "").replace(/[^\w.-]/g, "_") || "run";
}

function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv, node: NodeIdentity): RunOptions {
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

  let config: Record<string, unknown> = {};
  if (values.config !== undefined) {
    let parsed: unknown;
    try {
      parsed = parsePythonJson(readFileSync(values.config, "utf8").replace(/^\uFEFF/, "")); // a BOM is not JSON
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
    dir,
    model: values.model,
    best,
    config,
    checkpoints: values.checkpoints,
    metricsFile: values["metrics-file"],
    metricsRegexes: (values["metrics-regex"] ?? []).map(regexLineMetrics),
    intervalMs: Math.round(seconds * 1000),
    resume: values.resume === true,
    command,
  };
}

/** Where `command` resolves on the child's PATH (null when it does not). */
function which(command: string, env: NodeJS.ProcessEnv): string | null {
  if (command.includes("/")) return resolve(command);
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      closeSync(openSync(candidate, "r"));
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * The Python interpreter the command runs, when it is Python: `python3 train.py` directly, or a
 * launcher script (torchrun, accelerate, deepspeed) through its #! line.
 */
export function interpreterOf(command: string[], env: NodeJS.ProcessEnv): string | undefined {
  const first = command[0];
  if (first === undefined) return undefined;
  const isPython = (name: string) => /^python(\d+(\.\d+)*)?$/.test(basename(name));
  const path = which(first, env);
  if (isPython(first)) return path ?? first;
  if (path === null) return undefined;
  let head = "";
  try {
    const fd = openSync(path, "r");
    try {
      const buffer = Buffer.alloc(256);
      const bytes = readSync(fd, buffer, 0, buffer.length, 0);
      head = buffer.toString("utf8", 0, bytes);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
  if (!shebang) return undefined;
  const [, interpreter, argument] = shebang;
  if (interpreter !== undefined && isPython(interpreter)) return interpreter;
  if (interpreter !== undefined && basename(interpreter) === "env" && argument !== undefined && isPython(argument)) {
    return which(argument, env) ?? argument;
  }
  return undefined;
}

/** Lines torchrun --tee prefixes with "[default0]:": local rank 0's are kept, others dropped. */
const TORCHRUN_PREFIX = /^\[[A-Za-z_-]*(\d+)\]:/;

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (env[name] !== undefined) out[name] = env[name] as string;
  return out;
}


export async function runCommand(argv: string[]): Promise<RunExit> {
  const own = argv.indexOf("--") === -1 ? argv : argv.slice(0, argv.indexOf("--"));
  if (own.includes("-h") || own.includes("--help")) {
    process.stdout.write(RUN_USAGE);
    return { code: 0 };
  }
  const node = nodeFromEnv(process.env);
  let options: RunOptions;
  try {
    options = parseRunArgs(argv, process.env, node);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || code?.startsWith("ERR_PARSE_ARGS") || code === "INVALID_ARGUMENT") {
      process.stderr.write(`config-tracker run: ${(error as Error).message}\n(config-tracker run --help for the options)\n`);
      return { code: 2 };
    }
    throw error;
  }
  return supervise(options, node);
}

async function supervise(options: RunOptions, node: NodeIdentity): Promise<RunExit> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  const python = interpreterOf(options.command, childEnv);
  const dir = resolve(options.dir);
  const isMainNode = node.rank === 0;
  const started = Date.now();
  await ensureFolder(dir);

  // Node 0 records the run; every node records itself.
  const tracker = isMainNode
    ? new ConfigTracker(dir, { env: childEnv, ...(python === undefined ? {} : { python }), rank: null, signals: false })
    : null;
  const commandRecord = {
    argv: options.command,
    cwd: process.cwd(),
    cuda_visible_devices: childEnv.CUDA_VISIBLE_DEVICES ?? null,
    distributed: pick(childEnv, DISTRIBUTED_VARIABLES),
    python_variables: pick(childEnv, PYTHON_VARIABLES),
    python: python ?? null,
    node_count: node.count,
  };
  let gpuNames: Array<string | null>;
  let visibleGpus: NodeRecord["gpus"];
  try {
    if (tracker) {
      const saved = await tracker.saveConfig(options.config, {
        mode: options.resume ? "resume" : "auto",
        command: commandRecord,
        ...(options.model === undefined ? {} : { model: options.model }),
      });
      gpuNames = saved.hardware.gpus.map((gpu) => gpu.name);
      visibleGpus = saved.hardware.gpus.map((gpu) => ({ index: gpu.index, uuid: gpu.uuid, name: gpu.name }));
    } else {
      const hardware = await getHardwareInfo({ env: childEnv, ...(python === undefined ? {} : { python }) });
      gpuNames = hardware.gpus.map((gpu) => gpu.name);
      visibleGpus = hardware.gpus.map((gpu) => ({ index: gpu.index, uuid: gpu.uuid, name: gpu.name }));
    }
  } catch (error) {
    if (isConfigTrackerError(error)) {
      const message =
        error.code === "CONFIG_EXISTS" && error.keys !== undefined
          ? `${error.message.replace(/ Pass \{ mode: "resume" \}.*$/, "")} Add --resume to carry on with these changes, or give another --dir / --name.`
          : error.message;
      process.stderr.write(`config-tracker: ${message}\n`);
      return { code: 1 };
    }
    throw error;
  }

  const nodeRecord: NodeRecord = {
    node_rank: node.rank,
    node_count: node.count,
    host: hostname(),
    wrapper_pid: process.pid,
    child_pid: null,
    started_at: new Date(started).toISOString(),
    ended_at: null,
    status: "running",
    command: options.command,
    cuda_visible_devices: childEnv.CUDA_VISIBLE_DEVICES ?? null,
    gpus: visibleGpus,
    system_file: systemLogFile(node.rank),
    ranks: [],
  };
  const nodePath = join(dir, nodeFilePath(node.rank, hostname()));
  const writeNode = () => {
    try {
      writeFileAtomicSync(nodePath, `${JSON.stringify(nodeRecord, null, 2)}\n`, { durable: false });
    } catch {
      // the node file is a courtesy to readers: never a reason to stop the run
    }
  };
  await ensureFolder(join(dir, NODES_FOLDER));
  writeNode();

  // The child: the terminal's stdin; its output teed. With no terminal (a batch job), it gets a
  // process group of its own, and every signal the wrapper gets is passed on; at a terminal,
  // Ctrl-C and a hangup already reach the whole foreground group, so only SIGTERM is passed on.
  const atTerminal = process.stdin.isTTY === true;
  let child: ChildProcess;
  try {
    child = spawn(options.command[0] as string, options.command.slice(1), {
      stdio: ["inherit", "pipe", "pipe"],
      env: childEnv,
      detached: !atTerminal,
    });
  } catch (error) {
    process.stderr.write(`config-tracker: cannot start ${options.command[0]}: ${(error as Error).message}\n`);
    return { code: 127 };
  }
  // Listened for before anything else is awaited: a command that ends at once (`true`) must not
  // end unheard.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once("exit", (code, signal) => resolveExit({ code, signal })),
  );
  const spawned = await new Promise<Error | null>((resolveSpawn) => {
    child.once("spawn", () => resolveSpawn(null));
    child.once("error", (error) => resolveSpawn(error));
  });
  if (spawned !== null) {
    const missing = (spawned as NodeJS.ErrnoException).code === "ENOENT";
    const message = missing ? `${options.command[0]}: command not found` : `${options.command[0]}: ${spawned.message}`;
    process.stderr.write(`config-tracker: ${message}\n`);
    nodeRecord.status = "failed";
    nodeRecord.ended_at = new Date().toISOString();
    writeNode();
    await tracker?.saveResults({
      outcome: { status: "failed", error: message, exit_code: missing ? 127 : 126 },
      extra: { exit_code: missing ? 127 : 126, signal: null, duration_seconds: 0 },
    });
    return { code: missing ? 127 : 126 };
  }
  nodeRecord.child_pid = child.pid ?? null;
  writeNode();

  // Output: to the terminal (around the progress line), to output.log, and through the parsers.
  const progress = new ProgressLine(process.stderr);
  const log = createWriteStream(join(dir, outputLogFile(node.rank)), { flags: "a" });
  let lastMetrics: LineMetrics | null = null;
  // When each step was logged, to date a checkpoint whose name has no step by its mtime.
  const stepTimes: Array<[number, number]> = [];
  const record = (metrics: LineMetrics) => {
    if (!tracker) return; // metrics come from rank 0, which runs on node 0
    try {
      tracker.logMetrics(metrics.step, metrics.values, metrics.time === undefined ? undefined : { time: metrics.time });
      lastMetrics = metrics;
      const time = metrics.time ?? Date.now() / 1000;
      if (stepTimes.length === 0 || (stepTimes[stepTimes.length - 1] as [number, number])[1] !== metrics.step) {
        stepTimes.push([time, metrics.step]);
        if (stepTimes.length > 200_000) stepTimes.splice(0, 100_000);
      }
    } catch {
      // a line that looked like metrics but is not loggable (a huge record): it stays in output.log
    }
  };
  /** The last step logged at or before `seconds` (unix), or null. */
  const stepAt = (seconds: number): number | null => {
    let low = 0;
    let high = stepTimes.length - 1;
    let found: number | null = null;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const [time, step] = stepTimes[middle] as [number, number];
      if (time <= seconds) {
        found = step;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  };
  const onLine = (line: string) => {
    let text = line;
    const prefixed = TORCHRUN_PREFIX.exec(text);
    if (prefixed) {
      if (prefixed[1] !== "0") return;
      text = text.slice(prefixed[0].length);
    }
    let metrics = jsonLineMetrics(text);
    for (let i = 0; metrics === null && i < options.metricsRegexes.length; i++) metrics = (options.metricsRegexes[i] as LineParser)(text);
    if (metrics) record(metrics);
  };
  // The terminal may go away (`| head` closes the pipe): then output only goes to output.log and
  // the parsers, and the run goes on.
  const brokenTerminals = new Set<NodeJS.WriteStream>();
  for (const terminal of [process.stdout, process.stderr]) {
    terminal.on("error", () => brokenTerminals.add(terminal));
  }
  const tee = (source: NodeJS.ReadableStream, terminal: NodeJS.WriteStream) => {
    const splitter = new LineSplitter(onLine);
    const decoder = new StringDecoder("utf8"); // for the parsers only: bytes are passed on as they are
    source.on("data", (bytes: Buffer) => {
      progress.clear();
      // Backpressure: a slow terminal or disk pauses the child's output, so nothing is dropped.
      const terminalOk = brokenTerminals.has(terminal) ? true : terminal.write(bytes);
      const logOk = log.write(bytes);
      splitter.push(decoder.write(bytes));
      if (!terminalOk || !logOk) {
        source.pause();
        let waiting = (terminalOk ? 0 : 1) + (logOk ? 0 : 1);
        const resume = () => {
          waiting -= 1;
          if (waiting === 0) source.resume();
        };
        if (!terminalOk) {
          terminal.once("drain", resume);
          terminal.once("error", resume); // gone: do not wait for a drain that never comes
        }
        if (!logOk) log.once("drain", resume);
      }
    });
    return new Promise<void>((resolveEnd) =>
      source.once("end", () => {
        splitter.push(decoder.end());
        splitter.end();
        resolveEnd();
      }),
    );
  };
  const outputDone = Promise.all([
    tee(child.stdout as NodeJS.ReadableStream, process.stdout),
    tee(child.stderr as NodeJS.ReadableStream, process.stderr),
  ]);

  // Signals: passed on to the child; the wrapper ends when the child does.
  let received: NodeJS.Signals | null = null;
  let signalCount = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received = signal;
    signalCount += 1;
    const fromTerminal = atTerminal && (signal === "SIGINT" || signal === "SIGHUP");
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (signalCount >= 3) child.kill("SIGKILL"); // asked three times: stop it now
    else if (!fromTerminal) child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, onSignal);

  // Every interval: GPUs and processes, the metrics file, checkpoints, the progress line.
  const sampler: Sampler = startSampler({
    intervalMs: options.intervalMs,
    ...(child.pid === undefined ? {} : { pids: [child.pid] }),
    env: childEnv,
  });
  const systemLog = new SystemLog(join(dir, systemLogFile(node.rank)), node.rank);
  const knownRanks = new Map<number, { rank: number; local_rank: number | null }>();
  const takeSamples = (samples: SystemSample[]) => {
    systemLog.add(samples);
    let changed = false;
    for (const pid of systemLog.latest?.process_tree.pids ?? []) {
      if (knownRanks.has(pid)) continue;
      const rank = rankOfProcess(pid);
      if (rank) {
        knownRanks.set(pid, rank);
        changed = true;
      }
    }
    if (changed) {
      nodeRecord.ranks = [...knownRanks.entries()].map(([pid, rank]) => ({ ...rank, pid })).sort((a, b) => a.rank - b.rank);
      writeNode();
    }
  };
  const follower = options.metricsFile === undefined ? null : new MetricsFileFollower(resolve(options.metricsFile), record);
  // A log left by an earlier run is not this run's: only what is appended from now on counts.
  const metricsFileExisted = (await follower?.skipExisting()) ?? false;
  let metricsFileSeen = metricsFileExisted;
  const watcher =
    options.checkpoints === undefined || !tracker
      ? null
      : new CheckpointWatcher(options.checkpoints, process.cwd(), async (path, final) => {
          // The step: from the name (ckpt_1000.pt), else the last step logged before it was written.
          const written = (await stat(path).catch(() => null))?.mtimeMs;
          const step = stepFromName(path) ?? (written === undefined ? null : stepAt(written / 1000 + 0.05)) ?? lastMetrics?.step ?? 0;
          checkpointsMatched = true;
          try {
            // A torch.save still being written reads as cut short: not yet (unless the writer is gone).
            const recorded = await tracker.recordCheckpoint(path, { step, onlyIfComplete: !final });
            if (recorded === null) return false;
            if (recorded.num_parameters != null) checkpointParameters = recorded.num_parameters;
          } catch {
            // removed before it could be read: nothing to record
          }
          return true;
        });
  let checkpointParameters: number | null = null;
  let checkpointsMatched = false;
  let ticking = false;
  const tick = async () => {
    if (ticking) return; // a slow poll (a large checkpoint folder) never overlaps the next
    ticking = true;
    try {
      takeSamples(sampler.read());
      await watcher?.poll();
      progress.draw(describeProgress(lastMetrics, systemLog.latest, Date.now() - started));
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  // The metrics file is read more often than the sampler samples: its records get their times
  // from when they were read, unless the file has its own.
  let following = false;
  const followTimer =
    follower === null
      ? null
      : setInterval(async () => {
          if (following) return;
          following = true;
          try {
            await follower.poll();
            metricsFileSeen ||= await stat(follower.path).then(() => true, () => false);
          } finally {
            following = false;
          }
        }, Math.min(options.intervalMs, 250));

  // The end.
  const exit = await exited;
  // A grandchild that outlives the command (a daemon it started) may keep its output open:
  // read what is there, but do not wait for it forever.
  const outputTimeout = new Promise<"timeout">((resolveTimeout) => setTimeout(() => resolveTimeout("timeout"), 5000).unref());
  if ((await Promise.race([outputDone, outputTimeout])) === "timeout") {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  clearInterval(timer);
  if (followTimer !== null) clearInterval(followTimer);
  while (ticking || following) await new Promise((resolveWait) => setTimeout(resolveWait, 10));
  progress.clear();
  takeSamples(await sampler.stop());
  await follower?.poll();
  if (follower !== null) metricsFileSeen ||= await stat(follower.path).then(() => true, () => false);
  await watcher?.poll(true);
  await new Promise<void>((resolveLog) => log.end(resolveLog));
  for (const signal of signals) process.off(signal, onSignal);

  const duration = (Date.now() - started) / 1000;
  // A signal the wrapper passed on makes the run interrupted, however the command then ended
  // (a trainer that saves a checkpoint and exits 0 on SIGTERM was still stopped early).
  type Outcome = { status: "finished" | "failed" | "interrupted"; error?: string; exit_code?: number; signal?: string };
  let outcome: Outcome =
    received !== null
      ? { status: "interrupted", signal: exit.signal ?? (received as string), ...(exit.code === null ? {} : { exit_code: exit.code }) }
      : exit.signal !== null
        ? { status: "failed", signal: exit.signal, error: `the command was killed by ${exit.signal}` }
        : exit.code === 0
          ? { status: "finished", exit_code: 0 }
          : { status: "failed", exit_code: exit.code as number, error: `the command exited with code ${exit.code}` };

  nodeRecord.status = outcome.status;
  nodeRecord.ended_at = new Date().toISOString();
  if (exit.code !== null) nodeRecord.exit_code = exit.code;
  if (exit.signal !== null) nodeRecord.signal = exit.signal;
  writeNode();

  if (tracker) {
    const system = await summariseSystem(dir, node, systemLog.summary, sampler.status().gpu_unavailable_reason);
    const warnings: string[] = [];
    for (const other of readNodeFiles(dir)) {
      if (other.node_rank === node.rank || other.status === "finished") continue;
      if (other.status === "running") {
        warnings.push(`node ${other.node_rank} (${other.host}) was still running when node ${node.rank} ended`);
        continue;
      }
      const how = other.exit_code != null ? `exit code ${other.exit_code}` : other.signal ? `signal ${other.signal}` : other.status;
      warnings.push(`node ${other.node_rank} (${other.host}) ended ${other.status} (${how})`);
      if (outcome.status === "finished") outcome = { status: "failed", error: `node ${other.node_rank} (${other.host}) ${other.status}: ${how}` };
    }
    if (options.metricsFile !== undefined && !metricsFileSeen) warnings.push(`--metrics-file ${options.metricsFile}: the file never appeared`);
    if (options.checkpoints !== undefined && !checkpointsMatched) warnings.push(`--checkpoints ${options.checkpoints}: nothing matched`);
    for (const gpu of system.gpus) {
      if (gpu.lost) warnings.push(`GPU ${gpu.index} (${gpu.uuid ?? gpu.name}) on node ${gpu.node} fell off the bus during the run`);
    }
    for (const warning of warnings) process.stderr.write(`config-tracker: ${warning}\n`);
    // What config.json holds now (the model the first checkpoint filled in): read as JSON, not
    // through the schema (loading zod at the very end would add to the wrapper's wall time).
    const config = await readFile(tracker.configPath, "utf8")
      .then((text) => parsePythonJson(text) as { config?: Record<string, unknown>; model?: Record<string, unknown> })
      .catch(() => null);
    await tracker.saveResults({
      outcome,
      ...(options.best === undefined ? {} : { best: options.best }),
      extra: (finalMetrics) => {
        // The model: config.json's (a checkpoint read by --model or recorded during the run), else
        // what the config itself says (--set model.num_parameters=...).
        const fromConfig = (config?.config?.model ?? {}) as Record<string, unknown>;
        const model = { ...fromConfig, ...((config?.model ?? {}) as Record<string, unknown>) };
        const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : null);
        const tokensPerSecond = number(finalMetrics.tokens_per_second);
        const layers = number(model.num_layers) ?? number(model.n_layer);
        const dModel = number(model.d_model) ?? number(model.n_embd) ?? number(model.hidden_size);
        const allGpuNames = system.nodes > 1 ? system.gpus.map((gpu) => gpu.name) : gpuNames;
        return {
          exit_code: exit.code,
          signal: exit.signal,
          duration_seconds: Math.round(duration * 1000) / 1000,
          system,
          throughput: computeThroughput({
            tokensPerSecond,
            parameters: number(model.num_parameters) ?? checkpointParameters,
            layers,
            dModel,
            seqLen: sequenceLengthFrom((config?.config ?? {}) as Record<string, unknown>, number(model.max_seq_len)),
            gpuNames: allGpuNames,
          }),
          ...(warnings.length === 0 ? {} : { warnings }),
        };
      },
    });
  }
  if (exit.signal !== null) return { signal: exit.signal };
  return { code: exit.code ?? 1 };
}


/** Node 0's summary over every node's system log (waiting a little for the other nodes to end). */
async function summariseSystem(
  dir: string,
  node: NodeIdentity,
  local: SystemSummary,
  gpuUnavailableReason: string | null,
): Promise<SystemSummaryResult> {
  let nodeFiles: string[] = [];
  try {
    nodeFiles = readdirSync(join(dir, NODES_FOLDER)).filter((name) => name.endsWith(".json"));
  } catch {
    // no node files
  }
  const others = nodeFiles.filter((name) => nodeOfNodeFileName(name) !== node.rank);
  if (others.length === 0) return local.result(gpuUnavailableReason);
  // Other nodes end about when this one does; give them a moment to write their last samples.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ended = others.every((name) => {
      try {
        return JSON.parse(readFileSync(join(dir, NODES_FOLDER, name), "utf8")).ended_at !== null;
      } catch {
        return false;
      }
    });
    if (ended) break;
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  const all = new SystemSummary();
  for (const name of readdirSync(dir).filter((file) => nodeOfSystemLog(file) !== null)) {
    for await (const sample of readSystemLog(join(dir, name))) all.add(sample, typeof sample.node === "number" ? sample.node : 0);
  }
  return all.result(gpuUnavailableReason);
}

function describeProgress(metrics: LineMetrics | null, sample: SystemSample | null, elapsedMs: number): string {
  const parts: string[] = [];
  if (metrics) {
    const values = Object.entries(metrics.values)
      .slice(0, 3)
      .map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(4)}`);
    parts.push(`step ${metrics.step}${values.length > 0 ? ` ${values.join(" ")}` : ""}`);
  }
  for (const gpu of sample?.gpus ?? []) {
    const used = gpu.tree_memory_bytes ?? gpu.memory_used_bytes;
    const memory = used === null ? "" : ` ${(used / 2 ** 30).toFixed(1)}G`;
    parts.push(`gpu${gpu.index} ${gpu.lost ? "lost" : `${gpu.utilization_gpu_percent ?? "?"}%${memory}`}`);
  }
  const seconds = Math.floor(elapsedMs / 1000);
  const clock = `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  parts.push(clock);
  return parts.join(" | ");
}
