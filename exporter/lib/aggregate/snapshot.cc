#include "aggregate/snapshot.h"

#include <algorithm>
#include <climits>

#include "normalize/stack_identity.h"

namespace gx {

void WaitStats::Add(int64_t minutes, int64_t count) {
  if (minutes < 0) return;
  with_minutes += count;
  sum_minutes += minutes * count;
  max_minutes = std::max(max_minutes, minutes);
  for (std::size_t i = 0; i < kWaitBucketMinutes.size(); ++i) {
    // "N minutes" is a wait of N to N+1 minutes: within a bound of N+1 minutes or more.
    if (minutes < kWaitBucketMinutes[i]) le_bucket[i] += count;
  }
}

void WaitStats::Merge(const WaitStats& o) {
  with_minutes += o.with_minutes;
  unknown += o.unknown;
  sum_minutes += o.sum_minutes;
  max_minutes = std::max(max_minutes, o.max_minutes);
  for (std::size_t i = 0; i < le_bucket.size(); ++i) le_bucket[i] += o.le_bucket[i];
}

const StackSummary* Snapshot::FindStack(const std::string& id) const {
  if (!index_.empty() && index_.size() == stacks.size()) {
    // Equal numbers are rare (text that is no id reads as 0): compare the ids themselves.
    const uint64_t key = IdToHash(id);
    auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(key, uint32_t{0}));
    for (; it != index_.end() && it->first == key; ++it) {
      if (stacks[it->second].id == id) return &stacks[it->second];
    }
    return nullptr;
  }
  for (const StackSummary& s : stacks) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

namespace {
const std::vector<std::string_view> kNoIdentity;
const std::vector<ShapeFrame> kNoFrames;
const std::string kNoString;
}  // namespace

const std::vector<std::string_view>& StackSummary::identity() const {
  return shape ? shape->identity : kNoIdentity;
}
const std::vector<ShapeFrame>& StackSummary::frames() const {
  return shape ? shape->frames : kNoFrames;
}
std::string_view StackSummary::function() const {
  return shape ? shape->function : std::string_view();
}
const std::string& StackSummary::location() const { return shape ? shape->location : kNoString; }

StackCounts StackCounts::FromSorted(std::vector<std::pair<uint64_t, int64_t>> counts) {
  StackCounts c;
  c.counts_ = std::move(counts);
  return c;
}

int64_t StackCounts::Find(const std::string& id) const {
  const uint64_t key = IdToHash(id);
  auto it = std::lower_bound(counts_.begin(), counts_.end(), std::make_pair(key, INT64_MIN));
  return it != counts_.end() && it->first == key ? it->second : 0;
}

void Snapshot::IndexStacks() {
  index_.clear();
  index_.reserve(stacks.size());
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    index_.emplace_back(IdToHash(stacks[i].id), static_cast<uint32_t>(i));
  }
  std::sort(index_.begin(), index_.end());
}

int64_t GcLeakedIn(const Snapshot& leak_profile, const StackSummary& stack) {
  return leak_profile.info.format == ProfileFormat::kDebug2 ? stack.leaked : stack.count;
}

int64_t GcLeakedTotal(const Snapshot& leak_profile) {
  int64_t n = 0;
  for (const StackSummary& s : leak_profile.stacks) n += GcLeakedIn(leak_profile, s);
  return n;
}

}  // namespace gx
