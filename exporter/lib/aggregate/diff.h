// "What grew between then and now": two snapshots compared by stable stack id, so it works
// across restarts, rebuilds and formats. Pure function; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "aggregate/snapshot.h"

namespace gx {

struct DiffRow {
  StackSummary stack;  // from the newer snapshot, or the older one for vanished stacks
  int64_t before = 0;
  int64_t after = 0;
  int64_t delta() const { return after - before; }
};

struct SnapshotDiff {
  int64_t total_before = 0;
  int64_t total_after = 0;
  double interval_seconds = 0;  // from capture times; 0 when unknown
  std::array<int64_t, kCategoryCount> category_before{};
  std::array<int64_t, kCategoryCount> category_after{};
  std::vector<DiffRow> rows;  // largest growth first, then largest count
  std::vector<std::string> notes;  // the comparison's, then each capture's own
  bool before_truncated = false;  // a cut capture: its counts are a lower bound
  bool after_truncated = false;
};

SnapshotDiff DiffSnapshots(const Snapshot& before, const Snapshot& after);

}  // namespace gx
