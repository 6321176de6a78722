/**
 * Stable codes carried by every error this package throws on purpose (docs/api.md says when
 * each is thrown). The addon's errors carry codes of its own table
 * (native/common/checkpoint_error.h): test/native-errors.test.ts fails when it has one missing here.
 */
export const ERROR_CODES = [
  "ADDON_LOAD_FAILED",
  "INVALID_ARGUMENT",
  "INVALID_CONFIG",
  "INVALID_FILE",
  "NOT_FOUND",
  "WRITE_FAILED",
  "UNSUPPORTED_FORMAT",
  "CHECKPOINT_TRUNCATED",
  "CHECKPOINT_CORRUPT",
  "UNSAFE_PICKLE",
  "LIMIT_EXCEEDED",
  "IO_ERROR",
  "CONFIG_EXISTS",
  "NOT_A_FOLDER",
  "PERMISSION_DENIED",
  "RUN_ACTIVE",
  "ABORTED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ConfigTrackerErrorDetails {
  /** The file the error concerns, when there is one. */
  path?: string;
  /** The key (dotted path, e.g. `config.optimizer.lr`) the error concerns, when there is one. */
  key?: string;
  /** Every key the error concerns, when there are several (CONFIG_EXISTS: each changed key). */
  keys?: string[];
  cause?: unknown;
}

/** The one error class of config-tracker: `code` is stable, `message` is for people. */
export class ConfigTrackerError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly key: string | undefined;
  readonly keys: string[] | undefined;

  constructor(code: ErrorCode, message: string, details: ConfigTrackerErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ConfigTrackerError";
    this.code = code;
    this.path = details.path;
    this.key = details.key ?? details.keys?.[0];
    this.keys = details.keys;
  }
}

export function isConfigTrackerError(error: unknown): error is ConfigTrackerError {
  return error instanceof ConfigTrackerError;
}
