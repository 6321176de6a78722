// Random access to a file's bytes, so readers fetch only the few ranges they need (a zip's
// directory, data.pkl, a safetensors header) and never the tensor data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ct {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  // Reads exactly `length` bytes at `offset`; throws CheckpointError(kTruncated) past the end.
  virtual void read(std::uint64_t offset, void* out, std::size_t length) const = 0;

  std::string read_string(std::uint64_t offset, std::size_t length) const;
  std::uint64_t bytes_read() const { return bytes_read_; }
  // Throws CheckpointError(kTruncated) unless `length` bytes at `offset` lie inside the source.
  void check_range(std::uint64_t offset, std::size_t length) const;

 protected:
  mutable std::uint64_t bytes_read_ = 0;
};

class FileSource : public ByteSource {
 public:
  // Opens without blocking and refuses anything but a regular file (FIFOs, devices, sockets,
  // /proc and /sys). Throws kNotFound, kPermissionDenied, kUnsupportedFormat or kIo.
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, void* out, std::size_t length) const override;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// For tests and fuzzing: the bytes are the file.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(std::uint64_t offset, void* out, std::size_t length) const override;

 private:
  std::string bytes_;
};

// Little-endian integer decoding from a byte buffer.
inline std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline std::uint64_t le64(const unsigned char* p) {
  return static_cast<std::uint64_t>(le32(p)) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

}  // namespace ct
