// A hash index from string keys to positions (0, 1, 2, ... into the caller's own array), in one
// flat vector of 8-byte slots (open addressing, linear probing): no node and no key copy per
// entry, so indexing 100,000 zip entries or tensor identities costs one allocation. The caller
// passes `key_of(position)` to read the key stored at a position.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "text_hash.h"

namespace ct {

class FlatIndex {
 public:
  static constexpr std::uint32_t kMissing = 0xFFFFFFFFu;

  explicit FlatIndex(std::size_t expected = 0) { grow(expected); }

  // Inserts key -> position unless the key is present; returns the position stored for it.
  template <typename KeyOf>
  std::uint32_t insert(std::string_view key, std::uint32_t position, const KeyOf& key_of) {
    if (2 * (size_ + 1) > slots_.size()) rehash(2 * (size_ + 1), key_of);
    std::uint32_t hash = hash_of(key);
    Slot& slot = slots_[probe(key, hash, key_of)];
    if (slot.position != kMissing) return slot.position;
    slot = {position, hash};
    ++size_;
    return position;
  }

  // The same with the key's hash_of() computed by the caller, who may prefetch() its slot a few
  // keys ahead: 100,000 inserts into a table bigger than the cache then overlap their misses.
  template <typename KeyOf>
  std::uint32_t insert(std::string_view key, std::uint32_t hash, std::uint32_t position, const KeyOf& key_of) {
    if (2 * (size_ + 1) > slots_.size()) rehash(2 * (size_ + 1), key_of);
    Slot& slot = slots_[probe(key, hash, key_of)];
    if (slot.position != kMissing) return slot.position;
    slot = {position, hash};
    ++size_;
    return position;
  }
  void prefetch(std::uint32_t hash) const { __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]); }

  static std::uint32_t hash_of(std::string_view key) {
    return static_cast<std::uint32_t>(text_hash(key));
  }

  template <typename KeyOf>
  std::uint32_t find(std::string_view key, const KeyOf& key_of) const {
    if (size_ == 0) return kMissing;
    return slots_[probe(key, hash_of(key), key_of)].position;
  }

 private:
  struct Slot {
    std::uint32_t position = kMissing;
    std::uint32_t hash = 0;
  };

  template <typename KeyOf>
  std::size_t probe(std::string_view key, std::uint32_t hash, const KeyOf& key_of) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.position == kMissing || (s.hash == hash && key_of(s.position) == key)) return i;
    }
  }

  void grow(std::size_t expected) {
    std::size_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    if (capacity > slots_.size()) slots_.assign(capacity, Slot{});
  }

  template <typename KeyOf>
  void rehash(std::size_t expected, const KeyOf& key_of) {
    std::vector<Slot> old = std::move(slots_);
    slots_.clear();
    grow(expected);
    for (const Slot& s : old) {
      if (s.position != kMissing) slots_[probe(key_of(s.position), s.hash, key_of)] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace ct
