// Remembers the StackShapes already built, by a fingerprint of their frames, so that
// captures of the same code (one target over time, or replicas of one service) share one copy
// of every stack's frames and names instead of building and holding their own. Holds only
// weak references: a shape lives as long as some snapshot uses it, and entries of dead shapes
// are swept as the index grows; the index itself is capped (Limits::max_cached_shapes).
// Thread-safe: the index is split in shards by fingerprint, each behind its own mutex, held
// only to find candidates; comparing a candidate with the caller's frames happens outside.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "aggregate/snapshot.h"

namespace gx {

class StackShapeCache {
 public:
  using SameFn = std::function<bool(const StackShape&)>;

  explicit StackShapeCache(std::size_t max_entries);

  // A live shape with this fingerprint for which `same` holds, or null.
  std::shared_ptr<const StackShape> Find(uint64_t fingerprint, const SameFn& same) const;
  // Adds `shape` unless another thread added an equal one first (then returns that one).
  std::shared_ptr<const StackShape> Insert(uint64_t fingerprint,
                                           std::shared_ptr<const StackShape> shape,
                                           const SameFn& same);
  std::size_t size() const;  // index entries, live or not yet swept

 private:
  static constexpr std::size_t kShards = 16;
  struct Entry {
    uint64_t fingerprint = 0;
    bool used = false;
    std::weak_ptr<const StackShape> shape;
  };
  // Open addressing with linear probing in one array (a node-based multimap cost a cache miss
  // per node and a division per step on profiles with 10k stacks); no tombstones: entries are
  // only removed by a sweep, which rebuilds the array.
  struct Shard {
    std::mutex mu;
    std::vector<Entry> slots;   // GUARDED_BY(mu): power-of-two size, at most half used
    std::size_t used = 0;       // GUARDED_BY(mu)
    std::size_t sweep_at = 64;  // GUARDED_BY(mu): size that triggers the next sweep
    std::size_t refused = 0;    // GUARDED_BY(mu): inserts refused since the last sweep
  };
  Shard& ShardOf(uint64_t fingerprint) const { return shards_[fingerprint >> 60]; }
  void SweepIfDue(Shard* shard) const;  // REQUIRES(shard->mu)
  // Puts an entry in the first free slot of its probe sequence; the array has room.
  static void Place(Shard* shard, uint64_t fingerprint, std::weak_ptr<const StackShape> shape);
  // Rebuilds the array with `capacity` slots, keeping only live entries when `drop_dead`.
  static void Rebuild(Shard* shard, std::size_t capacity, bool drop_dead);

  const std::size_t max_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace gx
