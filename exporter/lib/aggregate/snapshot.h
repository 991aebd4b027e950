// The result of triaging one capture: per-stack, per-category and per-label counts.
// Plain immutable data once built; safe to share between threads read-only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "classify/category.h"
#include "decode/raw_record.h"

namespace gx {

// Wait-age buckets in minutes (debug=2 prints whole minutes, and only from 1 minute on).
inline constexpr std::array<int64_t, 7> kWaitBucketMinutes = {1, 5, 15, 30, 60, 240, 1440};

struct WaitStats {
  int64_t with_minutes = 0;     // goroutines whose header carried ", N minutes"
  int64_t max_minutes = -1;
  int64_t sum_minutes = 0;
  std::array<int64_t, kWaitBucketMinutes.size()> le_bucket{};  // count with minutes < bound
  // Goroutines whose wait cannot be known: marked "(leaked)", which drops ", N minutes" until
  // the next leak detection (FORMATS.md §6). Neither short waits nor long ones.
  int64_t unknown = 0;
  void Add(int64_t minutes, int64_t count);
  void AddUnknown(int64_t count) { unknown += count; }
  void Merge(const WaitStats& other);
};

struct LabelCount {
  LabelSet labels;
  int64_t count = 0;
  // Sets past Limits::max_snapshot_label_bytes keep only the module's label_keys (merged where
  // they come out alike): `labels` is then what is left of them.
  bool trimmed = false;
};

// A frame of a StackShape: views into the shape's own text.
struct ShapeFrame {
  std::string_view function;
  std::string_view file;
  int64_t line = 0;
  int64_t start_line = 0;
  bool inlined = false;
};

// What a stack looks like, as opposed to how many goroutines it has: the same every time the
// same code is captured. Immutable once built and shared (shared_ptr<const>) between
// snapshots, targets and threads; aggregate/stack_shape_cache.h finds the one already built.
// Its names and files sit in one block of text (one allocation, not one per string), which
// the views point into; so a shape is never copied or moved, only shared.
struct StackShape {
  StackShape() = default;
  StackShape(const StackShape&) = delete;
  StackShape& operator=(const StackShape&) = delete;

  std::string text;                        // every function name and file, back to back
  std::vector<ShapeFrame> frames;          // frames of one goroutine of this stack, leaf first
  std::vector<std::string_view> identity;  // normalized function names, leaf first
  std::string_view function;               // first application frame
  std::string location;                    // its file:line
  std::size_t identity_frames = 0;         // the Limits::identity_frames it was built with
};

struct CreatorCount {
  std::string name;
  int64_t count = 0;
};

struct StackSummary {
  std::string id;                      // stable stack id (16 hex digits)
  std::shared_ptr<const StackShape> shape;  // null only in hand-built or rebuilt summaries
  bool frames_elided = false;
  Category category = Category::kUnknown;
  std::string rule;                    // rule that decided the category
  std::string created_by;              // most frequent creator (debug=2), else ""
  std::string created_at;
  // debug=2: the stack's other creators, most goroutines first (Limits::max_creators_per_stack
  // in all): one stack started from several places, each a lead of its own.
  std::vector<CreatorCount> other_creators;
  std::string state;                   // most frequent wait reason (debug=2), else ""
  // Goroutines of this stack blocked in another category than `category`, most first: the
  // identity leaves out line numbers and the runtime's frames, so one function blocked at a
  // send on one line and at a receive on another is one stack. `category`, the frames and
  // the location are those of its largest group. Empty for nearly every stack.
  std::vector<std::pair<Category, int64_t>> other_categories;
  int64_t count = 0;
  int64_t leaked = 0;                  // marked "(leaked)" or from a goroutineleak profile
  int64_t locked_to_thread = 0;
  std::vector<LabelCount> labels;      // distinct label sets, most frequent first
  WaitStats wait;

  // The shape's parts, empty without one.
  const std::vector<std::string_view>& identity() const;
  const std::vector<ShapeFrame>& frames() const;
  std::string_view function() const;
  const std::string& location() const;
};

struct Snapshot;

// Goroutines per stack id of one snapshot, sorted by id: all that growth needs of an earlier
// result, a few bytes per stack instead of the whole snapshot. Immutable once built.
class StackCounts {
 public:
  // From (id as a number, goroutines) pairs sorted by id, as the history stores them.
  static StackCounts FromSorted(std::vector<std::pair<uint64_t, int64_t>> counts);
  // Goroutines of the stack with this id (StackSummary::id), 0 when absent.
  int64_t Find(const std::string& id) const;
  std::size_t size() const { return counts_.size(); }

 private:
  std::vector<std::pair<uint64_t, int64_t>> counts_;  // (id as a number, goroutines)
};

struct Snapshot {
  DecodeInfo info;
  std::string source;            // file, URL or "-"
  int64_t captured_unix_ms = 0;  // when it was read or fetched
  int64_t total = 0;             // goroutines in the target, as the profile states it
  int64_t self_excluded = 0;     // the goroutine serving the profile request
  int64_t overflow_goroutines = 0;  // counted, but beyond the bucket cap
  std::vector<StackSummary> stacks;  // most goroutines first
  std::array<int64_t, kCategoryCount> by_category{};
  std::array<WaitStats, kCategoryCount> wait_by_category{};
  bool has_wait_reasons = false;  // debug=2
  bool has_runtime_frames = false;  // debug=0
  std::vector<std::string> notes;  // what the format could not tell, truncation, …

  // By stack id: through the index when IndexStacks() ran after the last change to
  // `stacks`, else by a linear search.
  const StackSummary* FindStack(const std::string& id) const;
  void IndexStacks();

 private:
  // (id as a number, position in stacks), sorted: one allocation, not one node and one string
  // per stack.
  std::vector<std::pair<uint64_t, uint32_t>> index_;
};

// Goroutines of a goroutineleak profile's stack that the GC proved leaked: debug=2 lists every
// goroutine and marks the leaked ones, debug=0 lists only leaked ones.
int64_t GcLeakedIn(const Snapshot& leak_profile, const StackSummary& stack);
int64_t GcLeakedTotal(const Snapshot& leak_profile);

}  // namespace gx
