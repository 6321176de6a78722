/**
 * inspectCheckpoint: exact parameter counts and the architecture of a PyTorch / safetensors
 * checkpoint, from its metadata only, in the addon's C++ readers (never by running pickle code).
 */
import { resolve } from "node:path";

import { ConfigTrackerError } from "./errors.js";
import { loadAddon, type RawModelInfo } from "./native.js";
import { checkOptions, optionNames } from "./options.js";
import { oneLine } from "./text.js";

export type ModelInfo = Omit<RawModelInfo, "bytes_read" | "work_units">;

export interface InspectOptions {
  /**
   * Cancels the inspection: the promise rejects at once with ConfigTrackerError code ABORTED,
   * and the reader's pool thread stops at its next unit of work.
   */
  signal?: AbortSignal;
}

const INSPECT_OPTIONS = optionNames<InspectOptions>({ signal: true });

function abortedError(path: string, signal: AbortSignal): ConfigTrackerError {
  return new ConfigTrackerError("ABORTED", `${oneLine(path)}: the inspection was aborted`, {
    path,
    cause: signal.reason,
  });
}

/** The raw reader, with the bytes it read and the work it did (used by benchmarks). */
export async function inspectCheckpointRaw(path: string, options: InspectOptions = {}): Promise<RawModelInfo> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "inspectCheckpoint(path): a file or folder path is required");
  }
  checkOptions("inspectCheckpoint(path, options)", options, INSPECT_OPTIONS);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "inspectCheckpoint(path, { signal }): signal must be an AbortSignal");
  }
  if (signal?.aborted) throw abortedError(path, signal);
  const addon = loadAddon();
  let cancel: (() => void) | undefined;
  const work = addon.inspectCheckpoint(path, signal === undefined ? undefined : (fn) => (cancel = fn));
  let onAbort: (() => void) | undefined;
  const aborted =
    signal === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          onAbort = () => {
            cancel?.();
            reject(abortedError(path, signal));
          };
          signal.addEventListener("abort", onAbort, { once: true });
        });
  let raw: RawModelInfo;
  try {
    // The addon rejects with a ConfigTrackerError of its own making (native.ts hands it the class).
    raw = await (aborted === undefined ? work : Promise.race([work, aborted]));
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    work.catch(() => {}); // settled after an abort: nobody waits for it any more
  }
  return { ...raw, source: resolve(raw.source), files: raw.files.map((file) => resolve(file)) };
}

export async function inspectCheckpoint(path: string, options: InspectOptions = {}): Promise<ModelInfo> {
  const { bytes_read: _bytesRead, work_units: _workUnits, ...info } = await inspectCheckpointRaw(path, options);
  return info;
}

/**
 * config.json's `model`: the original keys first (type, num_parameters,
 * num_trainable_parameters, and d_model / num_layers / num_heads when known), then the detail.
 */
export function modelSummary(info: ModelInfo): Record<string, unknown> {
  const { type, num_parameters, num_trainable_parameters, d_model, num_layers, num_heads, vocab_size, max_seq_len, ...rest } =
    info;
  const known = (key: string, value: number | null) => (value === null ? {} : { [key]: value });
  return {
    type,
    num_parameters,
    num_trainable_parameters,
    ...known("d_model", d_model),
    ...known("num_layers", num_layers),
    ...known("num_heads", num_heads),
    ...known("vocab_size", vocab_size),
    ...known("max_seq_len", max_seq_len),
    ...rest,
  };
}
