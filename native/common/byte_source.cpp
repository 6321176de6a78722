#include "byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "checkpoint_error.h"

namespace ct {

void ByteSource::check_range(std::uint64_t offset, std::size_t length) const {
  std::uint64_t total = size();
  if (offset > total || length > total - offset) {
    fail(ErrorCode::kTruncated, "needs bytes " + std::to_string(offset) + ".." + std::to_string(offset + length) +
                                    " but the file has " + std::to_string(total));
  }
}

std::string ByteSource::read_string(std::uint64_t offset, std::size_t length) const {
  check_range(offset, length);  // before allocating: a corrupt length must not allocate gigabytes
  std::string out(length, '\0');
  if (length > 0) read(offset, out.data(), length);
  return out;
}

FileSource::FileSource(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int error = errno;
    fail(error == ENOENT || error == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kIo,
         std::string("cannot open: ") + std::strerror(error));
  }
  struct stat info {};
  if (fstat(fd_, &info) != 0) {
    int error = errno;
    ::close(fd_);
    fail(ErrorCode::kIo, std::string("cannot stat: ") + std::strerror(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd_);
    fail(ErrorCode::kUnsupportedFormat, "is a folder, not a file");
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::read(std::uint64_t offset, void* out, std::size_t length) const {
  check_range(offset, length);
  auto* cursor = static_cast<char*>(out);
  std::size_t done = 0;
  while (done < length) {
    ssize_t got = ::pread(fd_, cursor + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(ErrorCode::kIo, std::string("read failed: ") + std::strerror(errno));
    }
    if (got == 0) fail(ErrorCode::kTruncated, "the file shrank while being read");
    done += static_cast<std::size_t>(got);
  }
  bytes_read_ += length;
}

void MemorySource::read(std::uint64_t offset, void* out, std::size_t length) const {
  check_range(offset, length);
  if (length > 0) std::memcpy(out, bytes_.data() + offset, length);
  bytes_read_ += length;
}

}  // namespace ct
