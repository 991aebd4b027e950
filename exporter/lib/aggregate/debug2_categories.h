// The categories a debug=2 dump gives stacks that a debug=0 profile of the same code cannot:
// user rules and ignore-lists on `state` or `created_by` (only debug=2 carries wait reasons
// and creators), and nil channels on Go <= 1.20 (whose debug=0 profiles lack the function
// start lines that tell them apart). Learned from a target's latest debug=2 dump and applied
// by stack id to its debug=0 results until the next dump, so that such a stack keeps the
// category the dump gave it instead of flipping back between dumps. Immutable once built;
// safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aggregate/snapshot.h"
#include "classify/classifier.h"

namespace gx {

class Debug2Categories {
 public:
  // The stacks of `debug2` (a debug=2 snapshot classified by `classifier`) that a debug=2-only
  // user rule decided, or that wait on a nil channel.
  static Debug2Categories From(const Snapshot& debug2, const Classifier& classifier);

  std::size_t size() const { return entries_.size(); }
  // `snapshot` with those stacks' categories, rules and per-category counts set, and a note;
  // null when no stack of it changes.
  std::shared_ptr<const Snapshot> ApplyTo(const Snapshot& snapshot) const;

 private:
  struct Entry {
    uint64_t id = 0;  // IdToHash of the stack id
    Category category = Category::kUnknown;
    std::string rule;
  };
  std::vector<Entry> entries_;  // sorted by id
};

// `cheap` (a debug=0 or debug=1 snapshot) with, for each stack that `debug2` also has, the
// facts only debug=2 carries: creators, the most frequent state and the wait ages (as of the
// dump: the caller says when that was). Counts and categories stay `cheap`'s own. *joined is
// the number of stacks that got them.
Snapshot WithDebug2Facts(const Snapshot& cheap, const Snapshot& debug2, int* joined);

}  // namespace gx
