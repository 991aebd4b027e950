// Gives each distinct string of one capture a dense id, keeping one copy of it (in an arena:
// one allocation per block of strings, not per string). Lookups by hash and full compare.
// Grows only with what the caller inserts. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decode/string_arena.h"

namespace gx {

class InternTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  InternTable();
  static uint64_t HashOf(std::string_view s);
  // The id of `s` (whose HashOf is `hash`), or kNone.
  uint32_t Find(std::string_view s, uint64_t hash) const;
  uint32_t Find(std::string_view s) const { return Find(s, HashOf(s)); }
  // The id of `s`, added if new; *added says which.
  uint32_t Insert(std::string_view s, bool* added = nullptr);
  std::string_view operator[](uint32_t id) const { return strings_[id]; }
  uint64_t hash(uint32_t id) const { return hashes_[id]; }  // HashOf((*this)[id])
  std::size_t size() const { return strings_.size(); }

 private:
  void Grow();

  StringArena arena_;
  std::vector<std::string_view> strings_;  // into arena_
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;  // open addressing, linear probing; kNone = empty
};

}  // namespace gx
