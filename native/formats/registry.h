// Every single-file format, each with its sniffer: a new format is a new file in formats/ and one
// line in the table in registry.cpp. Detection is by the bytes, never the file name.
#pragma once

#include "../common/byte_source.h"
#include "../common/read_limits.h"
#include "../checkpoint/checkpoint_contents.h"

namespace ct {

struct CheckpointFormat {
  const char* name;
  bool (*sniff)(const ByteSource& source);
  CheckpointContents (*read)(const ByteSource& source, const ReadLimits& limits);
};

// Reads one file with the first format whose sniffer accepts it; UNSUPPORTED_FORMAT (saying what
// the bytes look like) when none does.
CheckpointContents read_any_format(const ByteSource& source, const ReadLimits& limits);

}  // namespace ct
