// A growable array in one reserved range of address space (mmap of its limit, pages touched only
// as it grows): it never moves or copies itself while growing, and on Linux asks for huge pages,
// so filling tens of MB costs a few page faults instead of thousands. For the pickle machine's
// value vectors, whose limit is known up front. Elements must be trivially copyable.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace ct {

template <typename T>
class ReservedArray {
  static_assert(std::is_trivially_copyable_v<T>, "ReservedArray holds plain records");

 public:
  explicit ReservedArray(std::size_t limit) : limit_(limit) {}
  ~ReservedArray() {
    if (data_ != nullptr) munmap(data_, limit_ * sizeof(T));
  }
  ReservedArray(const ReservedArray&) = delete;
  ReservedArray& operator=(const ReservedArray&) = delete;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }

  // The caller checks the limit first (it knows what error to raise).
  void push_back(const T& value) {
    reserve_range();
    data_[size_++] = value;
  }
  void append(const T* values, std::size_t count) {
    reserve_range();
    if (count > 0) std::memcpy(data_ + size_, values, count * sizeof(T));
    size_ += count;
  }
  void append_fill(std::size_t count, const T& value) {
    reserve_range();
    for (std::size_t i = 0; i < count; ++i) data_[size_ + i] = value;
    size_ += count;
  }
  void copy_within(std::size_t from, std::size_t count, std::size_t to) {
    std::memmove(data_ + to, data_ + from, count * sizeof(T));
  }

 private:
  void reserve_range() {
    if (data_ != nullptr) return;
    void* p = mmap(nullptr, limit_ * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    // Past the first 2 MiB only: a small pickle should not cost a zeroed huge page per array.
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (limit_ * sizeof(T) > 2 * kHuge) madvise(static_cast<char*>(p) + kHuge, limit_ * sizeof(T) - kHuge, MADV_HUGEPAGE);
#endif
    data_ = static_cast<T*>(p);
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t limit_;
};

}  // namespace ct
