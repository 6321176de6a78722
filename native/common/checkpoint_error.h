// The one exception type the checkpoint readers throw, and the table of the codes it carries.
// `code` is the stable code JS sees (ConfigTrackerError.code; src/errors.ts lists every code the
// library has, and test/native-errors.test.ts fails when this table names one it does not);
// `what()` says what is wrong (inspect_checkpoint starts it with the file concerned).
#pragma once

#include <stdexcept>
#include <string>

namespace ct {

// X(enumerator, the code JS sees): what each means is in docs/api.md's table of codes.
#define CT_CHECKPOINT_ERROR_CODES(X)                                                                     \
  X(kUnsupportedFormat, "UNSUPPORTED_FORMAT")  /* not a format we read (or a variant we refuse) */     \
  X(kTruncated, "CHECKPOINT_TRUNCATED")        /* the file ends before its own structure says */       \
  X(kCorrupt, "CHECKPOINT_CORRUPT")            /* structure present but inconsistent */                \
  X(kUnsafePickle, "UNSAFE_PICKLE")            /* the pickle would call something dangerous */         \
  X(kLimitExceeded, "LIMIT_EXCEEDED")          /* a resource limit (size, nodes, depth, memory) */     \
  X(kIo, "IO_ERROR")                           /* the operating system refused a read */               \
  X(kNotFound, "NOT_FOUND")                    /* a file the checkpoint refers to does not exist */    \
  X(kPermissionDenied, "PERMISSION_DENIED")    /* the operating system refused access */               \
  X(kAborted, "ABORTED")                       /* the caller cancelled the inspection (AbortSignal) */

enum class ErrorCode {
#define CT_ENUMERATOR(name, code) name,
  CT_CHECKPOINT_ERROR_CODES(CT_ENUMERATOR)
#undef CT_ENUMERATOR
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
#define CT_CASE(name, text) \
  case ErrorCode::name:     \
    return text;
    CT_CHECKPOINT_ERROR_CODES(CT_CASE)
#undef CT_CASE
  }
  return "CHECKPOINT_CORRUPT";
}

// Every code of the table, in its order, for the binding to hand to JS (and JS's tests to check).
inline constexpr const char* kErrorCodeNames[] = {
#define CT_NAME(name, text) text,
    CT_CHECKPOINT_ERROR_CODES(CT_NAME)
#undef CT_NAME
};

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
