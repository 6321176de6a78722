#include "byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "../platform/platform.h"
#include "checkpoint_error.h"


namespace ct {
namespace {

const char* special_file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

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
  // O_NONBLOCK: opening a FIFO without a writer (or a device) must not wait; it is then refused
  // below, before any read. The flag does nothing to reads of regular files.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd_ < 0) {
    int error = errno;
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {  // a socket cannot be opened (ENXIO)
      fail(ErrorCode::kUnsupportedFormat, std::string("is ") + special_file_kind(info.st_mode) + ", not a regular file");
    }
    fail(error == ENOENT || error == ENOTDIR ? ErrorCode::kNotFound
         : error == EACCES || error == EPERM ? ErrorCode::kPermissionDenied
                                             : ErrorCode::kIo,
         std::string("cannot open: ") + std::strerror(error));
  }
  struct stat info {};
  if (fstat(fd_, &info) != 0) {
    int error = errno;
    ::close(fd_);
    fail(ErrorCode::kIo, std::string("cannot stat: ") + std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd_);
    fail(ErrorCode::kUnsupportedFormat, std::string("is ") + special_file_kind(info.st_mode) + ", not a regular file");
  }
  // No checkpoint lives on /proc or /sys, whose files claim a size they do not have.
  if (platform::is_kernel_pseudo_file(fd_)) {
    ::close(fd_);
    fail(ErrorCode::kUnsupportedFormat, "is a /proc or /sys file, not a checkpoint");
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
