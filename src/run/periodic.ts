/**
 * What a run does every interval while its command runs: a sample of the GPUs, the process tree
 * and the host into the node's system log (and the job's ranks found in the tree into the node
 * file), the checkpoints that completed, the progress line; and, more often, what the command
 * appended to the metrics file it writes. (status.json's heartbeat is the tracker's own timer.)
 */
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";

import { readCheckpointRecords } from "../experiment/checkpoints.js";
import { systemLogFile } from "../experiment/layout.js";
import { exists } from "../io/exists.js";
import { startSampler, type Sampler } from "../system/sampler.js";
import { SystemLog } from "../system/system-log.js";
import type { ConfigTracker } from "../tracker.js";
import type { CheckpointWatcher } from "./checkpoint-watch.js";
import { MetricsFileFollower } from "./metrics-file.js";
import type { MetricsRecorder } from "./metrics-recorder.js";
import type { NodeFile } from "./node-record.js";
import { describeProgress, type ProgressLine } from "./progress-line.js";

export interface PeriodicWorkOptions {
  dir: string;
  node: number;
  pid: number | undefined;
  env: NodeJS.ProcessEnv;
  intervalMs: number;
  started: number;
  /** null on nodes other than 0: checkpoints are node 0's to record. */
  tracker: ConfigTracker | null;
  recorder: MetricsRecorder;
  nodeFile: NodeFile;
  progress: ProgressLine;
  /** The glob of checkpoints to record once complete. */
  checkpoints: string | undefined;
  /** The metrics file the command writes. */
  metricsFile: string | undefined;
}

/** How often the metrics file is read at most: more often than the sampler samples. */
const FOLLOW_MS = 250;

export class PeriodicWork {
  readonly sampler: Sampler;
  readonly systemLog: SystemLog;
  /** The parameter count of the last checkpoint recorded (MFU needs it when the config has none). */
  checkpointParameters: number | null = null;
  /** Whether --checkpoints matched anything. */
  checkpointsMatched = false;
  /** Whether the metrics file was there at some point. */
  metricsFileSeen = false;

  /** Why the metrics file could not be read (a FIFO, a device), or null. */
  get metricsFileProblem(): string | null {
    return this.#follower?.problem ?? null;
  }
  #follower: MetricsFileFollower | null = null;
  #watcher: CheckpointWatcher | null = null;
  #sampleTimer: NodeJS.Timeout | undefined;
  #followTimer: NodeJS.Timeout | undefined;
  #sampling = false;
  #following = false;

  private constructor(private readonly options: PeriodicWorkOptions) {
    this.sampler = startSampler({
      intervalMs: options.intervalMs,
      ...(options.pid === undefined ? {} : { pids: [options.pid] }),
      env: options.env,
    });
    this.systemLog = new SystemLog(join(options.dir, systemLogFile(options.node)), options.node);
  }

  /**
   * Starts sampling now; the timers once a metrics file left by an earlier run is skipped. The
   * checkpoint watcher (and the glob library it uses) is loaded only for a run that asks for it.
   */
  static async start(options: PeriodicWorkOptions): Promise<PeriodicWork> {
    const work = new PeriodicWork(options);
    const { recorder, tracker } = options;
    if (options.metricsFile !== undefined) {
      work.#follower = new MetricsFileFollower(resolve(options.metricsFile), (metrics) => recorder.record(metrics));
    }
    if (options.checkpoints !== undefined && tracker !== null) {
      const { CheckpointWatcher, stepFromName } = await import("./checkpoint-watch.js");
      const before = { experimentDir: options.dir, records: await readCheckpointRecords(options.dir).catch(() => []) };
      work.#watcher = new CheckpointWatcher(options.checkpoints, process.cwd(), async (path, final) => {
        // The step: from the name (ckpt_1000.pt), else the last step logged before it was written.
        const written = (await stat(path).catch(() => null))?.mtimeMs;
        const step = stepFromName(path) ?? (written === undefined ? null : recorder.stepAt(written / 1000 + 0.05)) ?? recorder.last?.step ?? 0;
        work.checkpointsMatched = true;
        try {
          // A torch.save still being written reads as cut short: not yet (unless the writer is gone).
          const recorded = await tracker.recordCheckpoint(path, { step, onlyIfComplete: !final });
          if (recorded === null) return false;
          if (recorded.num_parameters != null) work.checkpointParameters = recorded.num_parameters;
        } catch {
          // removed before it could be read: nothing to record
        }
        return true;
      }, before);
    }
    // A log left by an earlier run is not this run's: only what is appended from now on counts.
    work.metricsFileSeen = (await work.#follower?.skipExisting()) ?? false;
    work.#sampleTimer = setInterval(() => void work.#everyInterval(), options.intervalMs);
    if (work.#follower !== null) work.#followTimer = setInterval(() => void work.#followMetricsFile(), Math.min(options.intervalMs, FOLLOW_MS));
    return work;
  }

  /** After the command ended: the last samples, what the metrics file still has, every checkpoint left. */
  async finish(): Promise<void> {
    clearInterval(this.#sampleTimer);
    clearInterval(this.#followTimer);
    while (this.#sampling || this.#following) await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    this.options.progress.clear();
    this.#takeSamples(await this.sampler.stop());
    await this.#follower?.poll();
    if (this.#follower !== null) this.metricsFileSeen ||= await exists(this.#follower.path);
    await this.#watcher?.poll(true);
  }

  async #everyInterval(): Promise<void> {
    if (this.#sampling) return; // a slow poll (a large checkpoint folder) never overlaps the next
    this.#sampling = true;
    try {
      this.#takeSamples(this.sampler.read());
      await this.#watcher?.poll();
      const { progress, recorder, started } = this.options;
      progress.draw(describeProgress(recorder.last, this.systemLog.latest, Date.now() - started));
    } finally {
      this.#sampling = false;
    }
  }

  async #followMetricsFile(): Promise<void> {
    if (this.#following || this.#follower === null) return;
    this.#following = true;
    try {
      await this.#follower.poll();
      this.metricsFileSeen ||= await exists(this.#follower.path);
    } finally {
      this.#following = false;
    }
  }

  #takeSamples(samples: ReturnType<Sampler["read"]>): void {
    this.systemLog.add(samples);
    this.options.nodeFile.noteRanksAmong(this.systemLog.latest?.process_tree.pids ?? []);
  }
}
