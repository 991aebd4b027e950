#include "aggregate/intern_table.h"

#include "common/hash.h"

namespace gx {

InternTable::InternTable() : slots_(64, kNone) {}

uint64_t InternTable::HashOf(std::string_view s) { return HashBytes(s); }

uint32_t InternTable::Find(std::string_view s, uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t id = slots_[i];
    if (id == kNone) return kNone;
    if (hashes_[id] == hash && strings_[id] == s) return id;
  }
}

uint32_t InternTable::Insert(std::string_view s, bool* added) {
  const uint64_t hash = HashOf(s);
  uint32_t found = Find(s, hash);
  if (added) *added = found == kNone;
  if (found != kNone) return found;
  if (2 * (strings_.size() + 1) > slots_.size()) Grow();
  uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.push_back(arena_.Append(s));
  hashes_.push_back(hash);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i] != kNone) i = (i + 1) & mask;
  slots_[i] = id;
  return id;
}

void InternTable::Grow() {
  std::vector<uint32_t> bigger(slots_.size() * 2, kNone);
  const std::size_t mask = bigger.size() - 1;
  for (uint32_t id = 0; id < strings_.size(); ++id) {
    std::size_t i = hashes_[id] & mask;
    while (bigger[i] != kNone) i = (i + 1) & mask;
    bigger[i] = id;
  }
  slots_.swap(bigger);
}

}  // namespace gx
