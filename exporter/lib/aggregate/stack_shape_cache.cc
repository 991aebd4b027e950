#include "aggregate/stack_shape_cache.h"

#include <algorithm>
#include <utility>

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
    if (shard.slots.empty()) return nullptr;
    const std::size_t mask = shard.slots.size() - 1;
    for (std::size_t i = fingerprint & mask; shard.slots[i].used; i = (i + 1) & mask) {
      const Entry& e = shard.slots[i];
      if (e.fingerprint != fingerprint) continue;
      std::shared_ptr<const StackShape> shape = e.shape.lock();
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
  if (!shard.slots.empty()) {
    const std::size_t mask = shard.slots.size() - 1;
    for (std::size_t i = fingerprint & mask; shard.slots[i].used; i = (i + 1) & mask) {
      Entry& e = shard.slots[i];
      if (e.fingerprint != fingerprint) continue;
      std::shared_ptr<const StackShape> existing = e.shape.lock();
      if (!existing) {
        e.shape = shape;  // reuse the dead entry
        return shape;
      }
      if (same(*existing)) return existing;  // another thread built it first
    }
  }
  SweepIfDue(&shard);
  if (shard.used >= max_per_shard_) {
    ++shard.refused;  // full of live shapes: this one is just not shared
    return shape;
  }
  if (2 * (shard.used + 1) > shard.slots.size()) {
    Rebuild(&shard, std::max<std::size_t>(16, 2 * shard.slots.size()), /*drop_dead=*/false);
  }
  Place(&shard, fingerprint, shape);
  return shape;
}

void StackShapeCache::Place(Shard* shard, uint64_t fingerprint,
                            std::weak_ptr<const StackShape> shape) {
  const std::size_t mask = shard->slots.size() - 1;
  std::size_t i = fingerprint & mask;
  while (shard->slots[i].used) i = (i + 1) & mask;
  shard->slots[i] = Entry{fingerprint, true, std::move(shape)};
  ++shard->used;
}

void StackShapeCache::Rebuild(Shard* shard, std::size_t capacity, bool drop_dead) {
  std::vector<Entry> old(capacity);
  old.swap(shard->slots);
  shard->used = 0;
  for (Entry& e : old) {
    if (!e.used || (drop_dead && e.shape.expired())) continue;
    Place(shard, e.fingerprint, std::move(e.shape));
  }
}

void StackShapeCache::SweepIfDue(Shard* shard) const {
  // Sweep when the shard has doubled over what was live at its last sweep, or, when it is
  // full, after a quarter of its size in refused inserts: amortized O(1) per insert either way.
  const bool full = shard->used >= max_per_shard_;
  if (full ? shard->refused < max_per_shard_ / 4 + 1 : shard->used < shard->sweep_at) {
    return;
  }
  std::size_t live = 0;
  for (const Entry& e : shard->slots) live += e.used && !e.shape.expired();
  std::size_t capacity = 16;
  while (capacity < 2 * (live + 1)) capacity *= 2;
  Rebuild(shard, capacity, /*drop_dead=*/true);
  shard->sweep_at = std::max<std::size_t>(64, 2 * shard->used);
  shard->refused = 0;
}

std::size_t StackShapeCache::size() const {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.used;
  }
  return n;
}

}  // namespace gx
