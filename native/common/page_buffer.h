// An uninitialised byte buffer for a whole entry read at once (data.pkl). Past 2 MiB it is an
// anonymous mapping that asks for huge pages: reading an 11.6 MB data.pkl into it costs a few page
// faults instead of ~3,000 (malloc maps such a block too, but in 4 KiB pages).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "../platform/platform.h"

namespace ct {

class PageBuffer {
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

 public:
  PageBuffer() = default;
  explicit PageBuffer(std::size_t size) : size_(size) {
    if (size >= kHugePage) {
      // Whole 2 MiB stretches get huge pages; the tail past the last one stays in 4 KiB pages.
      std::size_t length = (size + 4095) / 4096 * 4096;
      void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      platform::advise_huge_pages(p, length);
      data_ = static_cast<char*>(p);
      mapped_ = length;
    } else {
      data_ = new char[size + 1];  // new char[] leaves the bytes uninitialised
    }
  }
  ~PageBuffer() { release(); }
  PageBuffer(PageBuffer&& other) noexcept { *this = std::move(other); }
  PageBuffer& operator=(PageBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
  }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  char* get() { return data_; }
  const char* get() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() {
    if (data_ == nullptr) return;
    if (mapped_ != 0) {
      munmap(data_, mapped_);
    } else {
      delete[] data_;
    }
    data_ = nullptr;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // mapping length, 0 for a heap block
};

}  // namespace ct
