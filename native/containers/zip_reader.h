// Reads a zip archive's central directory (ZIP64 included) and the entries asked for, stored or
// deflated (zlib). Built for PyTorch archives: only the directory and the small entries asked for
// are read, never tensor data. Every entry's claimed size is checked against the bytes the archive
// has room for (entries may not overlap), so sizes taken from the directory are real. Names are
// not checked for repeats here: the torch archive reader refuses them in its own pass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../common/byte_source.h"
#include "../common/flat_index.h"
#include "../common/page_buffer.h"
#include "../common/work_budget.h"

namespace ct {

struct ZipEntry {
  std::string_view name;  // into the reader's name arena: valid while the reader lives
  std::uint16_t method = 0;  // 0 stored, 8 deflated, ...
  std::uint16_t flags = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Parses the end records and the central directory. Throws CheckpointError.
  // `budget` (may be null) is charged one unit per directory entry.
  explicit ZipReader(const ByteSource& source, WorkBudget* budget = nullptr);
  ZipReader(const ZipReader&) = delete;  // entries view the reader's own name arena
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;
  bool is_zip64() const { return zip64_; }

  // The whole content of an entry (stored or deflated), at most `max_size` bytes (kLimitExceeded beyond).
  std::string read(const ZipEntry& entry, std::uint64_t max_size) const;
  // The same into a buffer of entry.uncompressed_size bytes that is not zeroed first (data.pkl).
  PageBuffer read_buffer(const ZipEntry& entry, std::uint64_t max_size) const;

 private:
  void check_entries_do_not_overlap() const;
  std::uint64_t data_offset(const ZipEntry& entry, std::uint64_t max_size) const;

  const ByteSource& source_;
  WorkBudget* limits_budget_;
  std::vector<ZipEntry> entries_;
  std::string names_;                        // every entry's name, back to back
  std::vector<std::size_t> name_offsets_;    // while parsing
  mutable FlatIndex index_;  // by name, built on the first find()
  mutable bool indexed_ = false;
  std::uint64_t cd_offset_ = 0;
  bool zip64_ = false;
};

// True when the bytes start like a zip archive (local file header or empty-archive EOCD).
bool looks_like_zip(const ByteSource& source);

}  // namespace ct
