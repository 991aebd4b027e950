// Remembers which patterns a function name matched, so that the names every probe sees again
// are matched by RE2 once per classifier instead of once per probe. Bounded: beyond
// kMaxCachedFunctionMatches names (common/limits.h) new names are matched but not kept.
// Thread-safe: 16 shards by name hash, each behind its own mutex.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gx {

class MatchCache {
 public:
  static constexpr std::size_t kMaxWords = 4;  // patterns beyond 256: not cached

  // Copies the bits cached for `name` (`words` words) into `bits`; false when not cached.
  bool Find(std::string_view name, std::size_t words, uint64_t* bits) const;
  void Insert(std::string_view name, std::size_t words, const uint64_t* bits);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::array<uint64_t, kMaxWords>, Hash, std::equal_to<>>
        bits;  // GUARDED_BY(mu)
  };
  static constexpr std::size_t kShards = 16;
  Shard& ShardOf(std::size_t hash) const { return shards_[hash % kShards]; }
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace gx
