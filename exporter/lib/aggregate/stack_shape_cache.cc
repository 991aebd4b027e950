#include "aggregate/stack_shape_cache.h"

#include <algorithm>

namespace gx {

StackShapeCache::StackShapeCache(std::size_t max_entries) : max_entries_(max_entries) {}

std::shared_ptr<const StackShape> StackShapeCache::Find(uint64_t fingerprint,
                                                        const SameFn& same) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto [begin, end] = entries_.equal_range(fingerprint);
  for (auto it = begin; it != end; ++it) {
    std::shared_ptr<const StackShape> shape = it->second.lock();
    if (shape && same(*shape)) return shape;
  }
  return nullptr;
}

std::shared_ptr<const StackShape> StackShapeCache::Insert(uint64_t fingerprint,
                                                          std::shared_ptr<const StackShape> shape,
                                                          const SameFn& same) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [begin, end] = entries_.equal_range(fingerprint);
  for (auto it = begin; it != end; ++it) {
    std::shared_ptr<const StackShape> existing = it->second.lock();
    if (!existing) {
      it->second = shape;  // reuse the dead entry
      return shape;
    }
    if (same(*existing)) return existing;
  }
  SweepIfDue();
  if (entries_.size() < max_entries_) {
    entries_.emplace(fingerprint, shape);
  } else {
    ++refused_;  // full of live shapes: this one is just not shared
  }
  return shape;
}

void StackShapeCache::SweepIfDue() {
  // Sweep when the index has doubled over what was live at the last sweep, or, when it is
  // full, after a quarter of its size in refused inserts: amortized O(1) per insert either way.
  const bool full = entries_.size() >= max_entries_;
  if (full ? refused_ < max_entries_ / 4 + 1 : entries_.size() < sweep_at_) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expired() ? entries_.erase(it) : std::next(it);
  }
  sweep_at_ = std::max<std::size_t>(1024, 2 * entries_.size());
  refused_ = 0;
}

std::size_t StackShapeCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace gx
