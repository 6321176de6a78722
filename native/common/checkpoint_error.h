// The one exception type the checkpoint readers throw. `code` is the stable code JS sees
// (ConfigTrackerError.code); `what()` says what is wrong, without the file name (the binding adds it).
#pragma once

#include <stdexcept>
#include <string>

namespace ct {

enum class ErrorCode {
  kUnsupportedFormat,   // not a format we read (or a variant we refuse, like encrypted zip entries)
  kTruncated,           // the file ends before its own structure says it should
  kCorrupt,             // structure present but inconsistent
  kUnsafePickle,        // the pickle would call something dangerous if it were ever loaded
  kLimitExceeded,       // a resource limit (size, nodes, depth) was hit
  kIo,                  // the operating system refused a read
  kNotFound,            // a file the checkpoint refers to does not exist
  kPermissionDenied,    // the operating system refused access (EACCES / EPERM)
  kAborted,             // the caller cancelled the inspection (AbortSignal)
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnsupportedFormat: return "UNSUPPORTED_FORMAT";
    case ErrorCode::kTruncated: return "CHECKPOINT_TRUNCATED";
    case ErrorCode::kCorrupt: return "CHECKPOINT_CORRUPT";
    case ErrorCode::kUnsafePickle: return "UNSAFE_PICKLE";
    case ErrorCode::kLimitExceeded: return "LIMIT_EXCEEDED";
    case ErrorCode::kIo: return "IO_ERROR";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kPermissionDenied: return "PERMISSION_DENIED";
    case ErrorCode::kAborted: return "ABORTED";
  }
  return "CHECKPOINT_CORRUPT";
}

class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Cold and out of line: the paths that build a message and throw stay out of the hot loops.
[[noreturn, gnu::cold, gnu::noinline]] inline void fail(ErrorCode code, const std::string& message) {
  throw CheckpointError(code, message);
}

}  // namespace ct
