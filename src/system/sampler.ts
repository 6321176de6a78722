/**
 * startSampler: what the GPUs and the watched processes do, sampled every interval by the
 * addon's own thread (NVML and ROCm SMI opened once, not one nvidia-smi or rocm-smi per second),
 * plus CPU and memory of the process tree and the host from /proc. read() returns the samples
 * taken since the last call; stop() ends the thread and returns the rest.
 */
import { ConfigTrackerError } from "../errors.js";
import { gpuOptions } from "../hardware.js";
import { loadAddon, type RawSampler, type RawSamplerStatus, type RawSystemSample } from "../native.js";
import { checkOptions, optionNames } from "../options.js";

export type SystemSample = RawSystemSample;
export type SamplerStatus = RawSamplerStatus;

export interface SamplerOptions {
  /** Sampling interval in ms (default 1000, at least 10). */
  intervalMs?: number;
  /** Roots of the process tree whose CPU, memory and GPU memory are attributed (default: none). */
  pids?: number[];
  /** The watched process's environment: its visibility variables decide which GPUs (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Sampler {
  /** Samples taken since the last read (oldest first). */
  read(): SystemSample[];
  /** Watch another process tree from now on. */
  setPids(pids: number[]): void;
  status(): SamplerStatus;
  /** Ends sampling; resolves to the samples not read yet. Safe to call twice. */
  stop(): Promise<SystemSample[]>;
}

function checkPids(pids: unknown): number[] {
  if (!Array.isArray(pids) || pids.some((pid) => !Number.isSafeInteger(pid) || (pid as number) <= 0)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "startSampler: pids must be an array of positive process ids");
  }
  return pids as number[];
}

const SAMPLER_OPTIONS = optionNames<SamplerOptions>({ intervalMs: true, pids: true, env: true });

export function startSampler(options: SamplerOptions = {}): Sampler {
  checkOptions("startSampler(options)", options, SAMPLER_OPTIONS);
  const intervalMs = options.intervalMs ?? 1000;
  if (typeof intervalMs !== "number" || !(intervalMs >= 10 && intervalMs <= 3_600_000)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "startSampler: intervalMs must be between 10 and 3600000");
  }
  const pids = options.pids === undefined ? [] : checkPids(options.pids);
  const raw: RawSampler = new (loadAddon().Sampler)({ intervalMs, pids, ...gpuOptions(options.env ?? process.env) });
  let stopped: Promise<SystemSample[]> | undefined;
  return {
    read: () => (stopped ? [] : raw.read()),
    setPids: (next) => raw.setPids(checkPids(next)),
    status: () => raw.status(),
    stop: () => (stopped ??= raw.stop()),
  };
}
