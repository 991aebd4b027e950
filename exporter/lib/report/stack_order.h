// The order reports list a snapshot's stacks in. Pure; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "aggregate/snapshot.h"

namespace gx {

// Stacks with GC-proven leaked goroutines first, most leaked first (they are the fix list,
// and a goroutineleak?debug=2 dump lists every goroutine, leaked or not); then the rest in
// the snapshot's order (most goroutines first). Benign stacks only with include_benign.
inline std::vector<const StackSummary*> StacksInReportOrder(const Snapshot& snap,
                                                            bool include_benign) {
  std::vector<const StackSummary*> out;
  out.reserve(snap.stacks.size());
  for (const StackSummary& s : snap.stacks) {
    if (include_benign || !IsBenign(s.category)) out.push_back(&s);
  }
  std::stable_sort(out.begin(), out.end(), [](const StackSummary* a, const StackSummary* b) {
    return a->leaked > b->leaked;
  });
  return out;
}

// GC-proven leaked goroutines and the stacks holding them.
inline std::pair<int64_t, int64_t> LeakedTotals(const Snapshot& snap) {
  int64_t goroutines = 0, stacks = 0;
  for (const StackSummary& s : snap.stacks) {
    goroutines += s.leaked;
    stacks += s.leaked > 0;
  }
  return {goroutines, stacks};
}

}  // namespace gx
