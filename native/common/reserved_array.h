// A growable array for the pickle machine's records, whose limit is known up front. It starts in
// a small heap block; past 256 KiB it moves once into address space reserved for its whole limit
// (mmap, pages touched only as it grows), and from there never moves or copies itself again. On
// Linux that range asks for huge pages, so filling tens of MB costs a few page faults instead of
// thousands, while a small pickle costs one malloc. Elements must be trivially copyable.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "../platform/platform.h"

namespace ct {

template <typename T>
class ReservedArray {
  static_assert(std::is_trivially_copyable_v<T>, "ReservedArray holds plain records");
  static constexpr std::size_t kSmallBytes = std::size_t{256} << 10;

 public:
  explicit ReservedArray(std::size_t limit) : limit_(limit) {}
  ~ReservedArray() { release(); }
  ReservedArray(const ReservedArray&) = delete;
  ReservedArray& operator=(const ReservedArray&) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }
  void pop_back() { --size_; }

  void clear() { size_ = 0; }
  void shrink_to(std::size_t n) { size_ = n < size_ ? n : size_; }  // drops the records past n
  // Gives the memory back; the array is empty and can grow again.
  void release() {
    if (mapped_) {
      munmap(data_, limit_ * sizeof(T));
    } else {
      std::free(data_);
    }
    data_ = nullptr;
    size_ = capacity_ = 0;
    mapped_ = false;
  }

  // The caller checks the limit first (it knows what error to raise).
  [[gnu::always_inline]] void push_back(const T& value) {
    if (size_ == capacity_) grow(1);
    data_[size_++] = value;
  }
  [[gnu::always_inline]] void append(const T* values, std::size_t count) {
    if (capacity_ - size_ < count) grow(count);
    // Mostly 1 to 6 records (a tuple's items): a loop, not a call to memcpy.
    for (std::size_t i = 0; i < count; ++i) data_[size_ + i] = values[i];
    size_ += count;
  }
  void append_fill(std::size_t count, const T& value) {
    if (capacity_ - size_ < count) grow(count);
    for (std::size_t i = 0; i < count; ++i) data_[size_ + i] = value;
    size_ += count;
  }
  void copy_within(std::size_t from, std::size_t count, std::size_t to) {
    std::memmove(data_ + to, data_ + from, count * sizeof(T));
  }

 private:
  [[gnu::noinline]] void grow(std::size_t more) {
    if (more > limit_ - size_) throw std::bad_alloc();  // past the limit: callers check it first
    std::size_t small = kSmallBytes / sizeof(T);
    if (!mapped_ && size_ + more <= small && limit_ > small) {
      if (data_ == nullptr) {
        data_ = static_cast<T*>(std::malloc(kSmallBytes));
        if (data_ == nullptr) throw std::bad_alloc();
        capacity_ = small;
      }
      return;
    }
    if (mapped_) throw std::bad_alloc();
    void* p = mmap(nullptr, limit_ * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (limit_ * sizeof(T) > 2 * kHuge) platform::advise_huge_pages(static_cast<char*>(p) + kHuge, limit_ * sizeof(T) - kHuge);
    if (data_ != nullptr) {
      std::memcpy(p, data_, size_ * sizeof(T));
      std::free(data_);
    }
    data_ = static_cast<T*>(p);
    capacity_ = limit_;
    mapped_ = true;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t limit_;
  bool mapped_ = false;
};

}  // namespace ct
