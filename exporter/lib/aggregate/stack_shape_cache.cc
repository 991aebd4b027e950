#include "aggregate/stack_shape_cache.h"

#include <algorithm>
#include <vector>

namespace gx {

StackShapeCache::StackShapeCache(std::size_t max_entries)
    : max_per_shard_(std::max<std::size_t>(1, max_entries / kShards)) {}

std::shared_ptr<const StackShape> StackShapeCache::Find(uint64_t fingerprint,
                                                        const SameFn& same) const {
  // Candidates are taken under the lock; comparing frames (the slow part) is done after.
  std::shared_ptr<const StackShape> first;
  std::vector<std::shared_ptr<const StackShape>> more;  // fingerprint collisions: rare
  {
    Shard& shard = ShardOf(fingerprint);
    std::lock_guard<std::mutex> lock(shard.mu);
    auto [begin, end] = shard.entries.equal_range(fingerprint);
    for (auto it = begin; it != end; ++it) {
      std::shared_ptr<const StackShape> shape = it->second.lock();
      if (!shape) continue;
      if (!first) {
        first = std::move(shape);
      } else {
        more.push_back(std::move(shape));
      }
    }
  }
  if (first && same(*first)) return first;
  for (auto& shape : more) {
    if (same(*shape)) return shape;
  }
  return nullptr;
}

std::shared_ptr<const StackShape> StackShapeCache::Insert(uint64_t fingerprint,
                                                          std::shared_ptr<const StackShape> shape,
                                                          const SameFn& same) {
  Shard& shard = ShardOf(fingerprint);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto [begin, end] = shard.entries.equal_range(fingerprint);
  for (auto it = begin; it != end; ++it) {
    std::shared_ptr<const StackShape> existing = it->second.lock();
    if (!existing) {
      it->second = shape;  // reuse the dead entry
      return shape;
    }
    if (same(*existing)) return existing;  // another thread built it first
  }
  SweepIfDue(&shard);
  if (shard.entries.size() < max_per_shard_) {
    shard.entries.emplace(fingerprint, shape);
  } else {
    ++shard.refused;  // full of live shapes: this one is just not shared
  }
  return shape;
}

void StackShapeCache::SweepIfDue(Shard* shard) const {
  // Sweep when the shard has doubled over what was live at its last sweep, or, when it is
  // full, after a quarter of its size in refused inserts: amortized O(1) per insert either way.
  const bool full = shard->entries.size() >= max_per_shard_;
  if (full ? shard->refused < max_per_shard_ / 4 + 1 : shard->entries.size() < shard->sweep_at) {
    return;
  }
  for (auto it = shard->entries.begin(); it != shard->entries.end();) {
    it = it->second.expired() ? shard->entries.erase(it) : std::next(it);
  }
  shard->sweep_at = std::max<std::size_t>(64, 2 * shard->entries.size());
  shard->refused = 0;
}

std::size_t StackShapeCache::size() const {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace gx
