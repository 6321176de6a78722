#include "zip_reader.h"

#include <memory>

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "../common/checkpoint_error.h"

namespace ct {
namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kEocd64Sig = 0x06064b50;
constexpr std::uint32_t kEocd64LocatorSig = 0x07064b50;
constexpr std::size_t kEocdSize = 22;
constexpr std::size_t kEocd64LocatorSize = 20;
constexpr std::size_t kEocd64Size = 56;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kMaxComment = 0xFFFF;
constexpr std::uint64_t kMaxEntries = 10'000'000;

}  // namespace

bool looks_like_zip(const ByteSource& source) {
  if (source.size() < 4) return false;
  unsigned char magic[4];
  source.read(0, magic, 4);
  std::uint32_t sig = le32(magic);
  return sig == kLocalHeaderSig || sig == kEocdSig;
}

ZipReader::ZipReader(const ByteSource& source, WorkBudget* budget) : source_(source), limits_budget_(budget) {
  const std::uint64_t file_size = source.size();
  if (file_size < kEocdSize) fail(ErrorCode::kTruncated, "too short for a zip archive");

  // The end-of-central-directory record sits in the last 22 + 65535 bytes (it may carry a comment).
  std::uint64_t tail_size = std::min<std::uint64_t>(file_size, kEocdSize + kMaxComment);
  std::string tail = source.read_string(file_size - tail_size, static_cast<std::size_t>(tail_size));
  const auto* bytes = reinterpret_cast<const unsigned char*>(tail.data());
  std::int64_t eocd_pos = -1;
  for (std::int64_t i = static_cast<std::int64_t>(tail_size) - static_cast<std::int64_t>(kEocdSize); i >= 0; --i) {
    if (le32(bytes + i) != kEocdSig) continue;
    std::uint16_t comment_length = le16(bytes + i + 20);
    if (static_cast<std::uint64_t>(i) + kEocdSize + comment_length == tail_size) {
      eocd_pos = i;
      break;
    }
  }
  if (eocd_pos < 0) {
    fail(ErrorCode::kTruncated, "no end-of-central-directory record: the zip archive is cut short");
  }
  const unsigned char* eocd = bytes + eocd_pos;
  std::uint64_t eocd_offset = file_size - tail_size + static_cast<std::uint64_t>(eocd_pos);
  if (le16(eocd + 4) != 0 || le16(eocd + 6) != 0) fail(ErrorCode::kUnsupportedFormat, "multi-disk zip archives are not supported");
  std::uint64_t entry_count = le16(eocd + 10);
  std::uint64_t cd_size = le32(eocd + 12);
  std::uint64_t cd_offset = le32(eocd + 16);

  // ZIP64: a locator right before the EOCD points at the 64-bit record.
  if (eocd_offset >= kEocd64LocatorSize) {
    unsigned char locator[kEocd64LocatorSize];
    source.read(eocd_offset - kEocd64LocatorSize, locator, sizeof(locator));
    if (le32(locator) == kEocd64LocatorSig) {
      zip64_ = true;
      std::uint64_t record_offset = le64(locator + 8);
      if (record_offset > eocd_offset || eocd_offset - record_offset < kEocd64Size) {
        fail(ErrorCode::kCorrupt, "ZIP64 locator points outside the archive");
      }
      unsigned char record[kEocd64Size];
      source.read(record_offset, record, sizeof(record));
      if (le32(record) != kEocd64Sig) fail(ErrorCode::kCorrupt, "ZIP64 end record missing");
      entry_count = le64(record + 32);
      cd_size = le64(record + 40);
      cd_offset = le64(record + 48);
    }
  }
  if (cd_offset > file_size || cd_size > file_size - cd_offset) {
    fail(ErrorCode::kTruncated, "the central directory lies past the end of the file");
  }
  if (entry_count > kMaxEntries || entry_count > cd_size / kCentralHeaderSize + 1) {
    fail(ErrorCode::kCorrupt, "implausible zip entry count " + std::to_string(entry_count));
  }
  cd_offset_ = cd_offset;

  // The directory is read in windows of 1 MiB (an entry is at most 46 + 3 x 65535 bytes), so a
  // directory of 100,000 entries never sits in memory whole beside the entries made from it.
  // One uninitialised buffer serves every window (no zero fill of megabytes read over at once).
  constexpr std::size_t kWindow = 1u << 20;
  static_assert(kWindow >= kCentralHeaderSize + 3 * 65535, "a window holds any one entry");
  std::unique_ptr<char[]> buffer(new char[kWindow]);
  std::string_view window;
  std::uint64_t window_at = cd_offset;
  std::size_t pos = 0;
  auto ensure = [&](std::size_t need) {
    if (window.size() - pos >= need) return true;
    std::uint64_t at = window_at + pos;
    std::uint64_t left = cd_offset + cd_size - at;
    if (left < need) return false;
    auto length = static_cast<std::size_t>(std::min<std::uint64_t>(left, kWindow));
    source.read(at, buffer.get(), length);
    window = std::string_view(buffer.get(), length);
    window_at = at;
    pos = 0;
    return true;
  };
  entries_.reserve(static_cast<std::size_t>(entry_count));
  for (std::uint64_t n = 0; n < entry_count; ++n) {
    if (limits_budget_ != nullptr) limits_budget_->charge(1);
    if (!ensure(kCentralHeaderSize) || le32(reinterpret_cast<const unsigned char*>(window.data()) + pos) != kCentralHeaderSig) {
      fail(ErrorCode::kCorrupt, "central directory entry " + std::to_string(n) + " is malformed");
    }
    const unsigned char* h = reinterpret_cast<const unsigned char*>(window.data()) + pos;
    std::size_t name_length = le16(h + 28);
    std::size_t extra_length = le16(h + 30);
    std::size_t comment_length = le16(h + 32);
    if (!ensure(kCentralHeaderSize + name_length + extra_length + comment_length)) {
      fail(ErrorCode::kCorrupt, "central directory entry " + std::to_string(n) + " runs past the directory");
    }
    h = reinterpret_cast<const unsigned char*>(window.data()) + pos;
    ZipEntry entry;
    entry.flags = le16(h + 8);
    entry.method = le16(h + 10);
    entry.compressed_size = le32(h + 20);
    entry.uncompressed_size = le32(h + 24);
    entry.local_header_offset = le32(h + 42);
    // Names go to one arena; the views are set once it stops growing.
    name_offsets_.push_back(names_.size());
    names_.append(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_length);
    entry.name = std::string_view(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_length);

    // ZIP64 extended information (tag 0x0001): present fields replace the 0xFFFFFFFF markers, in order.
    const unsigned char* extra = h + kCentralHeaderSize + name_length;
    std::size_t extra_pos = 0;
    while (extra_length - extra_pos >= 4) {
      std::uint16_t tag = le16(extra + extra_pos);
      std::uint16_t size = le16(extra + extra_pos + 2);
      if (extra_length - extra_pos - 4 < size) break;
      if (tag == 0x0001) {
        const unsigned char* field = extra + extra_pos + 4;
        std::size_t left = size;
        auto take = [&](std::uint64_t& target) {
          if (left < 8) fail(ErrorCode::kCorrupt, "ZIP64 field of " + std::string(entry.name) + " is too short");
          target = le64(field);
          field += 8;
          left -= 8;
        };
        if (entry.uncompressed_size == 0xFFFFFFFFu) take(entry.uncompressed_size);
        if (entry.compressed_size == 0xFFFFFFFFu) take(entry.compressed_size);
        if (entry.local_header_offset == 0xFFFFFFFFu) take(entry.local_header_offset);
      }
      extra_pos += 4 + size;
    }
    if (entry.local_header_offset >= cd_offset || entry.compressed_size > cd_offset - entry.local_header_offset) {
      fail(ErrorCode::kCorrupt, "entry " + std::string(entry.name) + " lies outside the archive's data");
    }
    if (entry.method == 0 && entry.compressed_size != entry.uncompressed_size) {
      fail(ErrorCode::kCorrupt, "stored entry " + std::string(entry.name) + " has different compressed and uncompressed sizes");
    }
    // DEFLATE cannot expand more than ~1032:1: a larger claim is not backed by bytes in the file.
    if (entry.method == 8 && entry.uncompressed_size / 1032 > entry.compressed_size + 1) {
      fail(ErrorCode::kCorrupt, "entry " + std::string(entry.name) + " claims more bytes than its compressed data can hold");
    }
    pos += kCentralHeaderSize + name_length + extra_length + comment_length;
    entries_.push_back(std::move(entry));
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].name = std::string_view(names_.data() + name_offsets_[i], entries_[i].name.size());
  }
  name_offsets_ = {};
  check_entries_do_not_overlap();
}

// Each entry's header and data must end before the next entry starts (and the last before the
// directory): sizes the directory claims are then backed by bytes really in the file, which is
// what a storage's size is taken from. The local header may be longer than 30 + name (torch pads
// it), so this is a lower bound on the entry's extent, checked without reading any local header.
void ZipReader::check_entries_do_not_overlap() const {
  std::vector<std::size_t> order(entries_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto by_offset = [&](std::size_t a, std::size_t b) { return entries_[a].local_header_offset < entries_[b].local_header_offset; };
  if (!std::is_sorted(order.begin(), order.end(), by_offset)) std::sort(order.begin(), order.end(), by_offset);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const ZipEntry& entry = entries_[order[k]];
    std::uint64_t limit = k + 1 < order.size() ? entries_[order[k + 1]].local_header_offset : cd_offset_;
    std::uint64_t header = kLocalHeaderSize + entry.name.size();
    if (limit < entry.local_header_offset || limit - entry.local_header_offset < header ||
        limit - entry.local_header_offset - header < entry.compressed_size) {
      fail(ErrorCode::kCorrupt, "entry " + std::string(entry.name) + " claims " + std::to_string(entry.compressed_size) +
                                    " bytes but the archive holds fewer before the next entry");
    }
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  auto key_of = [this](std::uint32_t k) { return entries_[k].name; };
  if (!indexed_) {  // built on the first lookup: a reader that only walks entries() never pays for it
    index_ = FlatIndex(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i) index_.insert(entries_[i].name, static_cast<std::uint32_t>(i), key_of);
    indexed_ = true;
  }
  std::uint32_t found = index_.find(name, key_of);
  return found == FlatIndex::kMissing ? nullptr : &entries_[found];
}

namespace {

// Raw DEFLATE (zip method 8) with zlib, never producing more than `size` bytes: a zip bomb that
// claims a small size and inflates to more is an error, not an allocation.
std::string inflate_entry(const std::string& name, const std::string& compressed, std::uint64_t size) {
  std::string out(static_cast<std::size_t>(size), '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) fail(ErrorCode::kIo, "zlib could not start");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  unsigned char spare = 0;
  int status = inflate(&stream, Z_FINISH);
  if (status == Z_BUF_ERROR && stream.avail_out == 0) {
    // Output full: see whether the stream really ends here or wants more room.
    stream.next_out = &spare;
    stream.avail_out = 1;
    status = inflate(&stream, Z_FINISH);
    if (stream.avail_out == 0) status = Z_DATA_ERROR;
  }
  std::uint64_t produced = stream.total_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END || produced != size) {
    fail(ErrorCode::kCorrupt, "compressed entry " + name + " does not inflate to its recorded " + std::to_string(size) + " bytes");
  }
  return out;
}

}  // namespace

// Checks an entry can be read and returns where its data starts.
std::uint64_t ZipReader::data_offset(const ZipEntry& entry, std::uint64_t max_size) const {
  if (entry.method != 0 && entry.method != 8) {
    fail(ErrorCode::kUnsupportedFormat,
         "entry " + std::string(entry.name) + " uses compression method " + std::to_string(entry.method) + " (only stored and deflate are read)");
  }
  if (entry.flags & 0x1) fail(ErrorCode::kUnsupportedFormat, "entry " + std::string(entry.name) + " is encrypted");
  if (entry.uncompressed_size > max_size) {
    fail(ErrorCode::kLimitExceeded, "entry " + std::string(entry.name) + " is " + std::to_string(entry.uncompressed_size) +
                                        " bytes, over the limit of " + std::to_string(max_size));
  }
  unsigned char local[kLocalHeaderSize];
  source_.read(entry.local_header_offset, local, sizeof(local));
  if (le32(local) != kLocalHeaderSig) fail(ErrorCode::kCorrupt, "local header of " + std::string(entry.name) + " is missing");
  std::uint64_t offset = entry.local_header_offset + kLocalHeaderSize + le16(local + 26) + le16(local + 28);
  if (offset > cd_offset_ || entry.compressed_size > cd_offset_ - offset) {
    fail(ErrorCode::kCorrupt, "data of " + std::string(entry.name) + " overlaps the central directory");
  }
  if (entry.method == 8 && (entry.compressed_size > (1ull << 31) || entry.uncompressed_size > (1ull << 31))) {
    fail(ErrorCode::kLimitExceeded, "compressed entry " + std::string(entry.name) + " is too large to inflate");
  }
  return offset;
}

std::string ZipReader::read(const ZipEntry& entry, std::uint64_t max_size) const {
  std::uint64_t offset = data_offset(entry, max_size);
  if (entry.method == 0) return source_.read_string(offset, static_cast<std::size_t>(entry.uncompressed_size));
  std::string compressed = source_.read_string(offset, static_cast<std::size_t>(entry.compressed_size));
  return inflate_entry(std::string(entry.name), compressed, entry.uncompressed_size);
}

PageBuffer ZipReader::read_buffer(const ZipEntry& entry, std::uint64_t max_size) const {
  std::uint64_t offset = data_offset(entry, max_size);
  // Uninitialised: the read fills the bytes, with no zeroing pass first.
  PageBuffer out(static_cast<std::size_t>(entry.uncompressed_size));
  if (entry.method == 0) {
    source_.read(offset, out.get(), static_cast<std::size_t>(entry.uncompressed_size));
  } else {
    std::string inflated = read(entry, max_size);
    std::memcpy(out.get(), inflated.data(), inflated.size());
  }
  return out;
}

}  // namespace ct
