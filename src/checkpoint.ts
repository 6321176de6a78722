/**
 * inspectCheckpoint: exact parameter counts and the architecture of a PyTorch / safetensors
 * checkpoint, from its metadata only, in the addon's C++ readers (never by running pickle code).
 */
import { resolve } from "node:path";

import { ConfigTrackerError, type ErrorCode } from "./errors.js";
import { loadAddon, type RawCheckpointError, type RawModelInfo } from "./native.js";

export type ModelInfo = Omit<RawModelInfo, "bytes_read">;

const CHECKPOINT_CODES = new Set<string>([
  "UNSUPPORTED_FORMAT",
  "CHECKPOINT_TRUNCATED",
  "CHECKPOINT_CORRUPT",
  "UNSAFE_PICKLE",
  "LIMIT_EXCEEDED",
  "IO_ERROR",
  "NOT_FOUND",
]);

/** The raw reader, with the bytes it read (used by benchmarks). */
export async function inspectCheckpointRaw(path: string): Promise<RawModelInfo> {
  if (typeof path !== "string" || path.trim() === "") {
    throw new ConfigTrackerError("INVALID_ARGUMENT", "inspectCheckpoint(path): a file or folder path is required");
  }
  const addon = loadAddon();
  let raw: RawModelInfo;
  try {
    raw = await addon.inspectCheckpoint(path);
  } catch (error) {
    const native = error as RawCheckpointError;
    const code = (CHECKPOINT_CODES.has(native.code) ? native.code : "CHECKPOINT_CORRUPT") as ErrorCode;
    throw new ConfigTrackerError(code, native.message, { path, cause: error });
  }
  return { ...raw, source: resolve(raw.source), files: raw.files.map((file) => resolve(file)) };
}

export async function inspectCheckpoint(path: string): Promise<ModelInfo> {
  const { bytes_read: _bytesRead, ...info } = await inspectCheckpointRaw(path);
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
