#include "classify/match_cache.h"

#include <algorithm>

#include "common/hash.h"
#include "common/limits.h"

namespace gx {

std::size_t MatchCache::Hash::operator()(std::string_view s) const { return HashBytes(s); }

bool MatchCache::Find(std::string_view name, std::size_t words, uint64_t* bits) const {
  if (words > kMaxWords) return false;
  Shard& shard = ShardOf(Hash()(name));
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.bits.find(name);
  if (it == shard.bits.end()) return false;
  std::copy_n(it->second.begin(), words, bits);
  return true;
}

void MatchCache::Insert(std::string_view name, std::size_t words, const uint64_t* bits) {
  if (words > kMaxWords || name.size() > Limits().max_symbol_bytes) return;
  Shard& shard = ShardOf(Hash()(name));
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.bits.size() >= kMaxCachedFunctionMatches / kShards) return;
  std::array<uint64_t, kMaxWords> value{};
  std::copy_n(bits, words, value.begin());
  shard.bits.emplace(std::string(name), value);
}

}  // namespace gx
