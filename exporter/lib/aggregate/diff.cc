#include "aggregate/diff.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace gx {
namespace {

// When a capture was taken (unix ms): its fetch time, else the profile's own; 0 if unknown.
int64_t TimeMs(const Snapshot& s) {
  if (s.captured_unix_ms > 0) return s.captured_unix_ms;
  return s.info.time_nanos > 0 ? s.info.time_nanos / 1000000 : 0;
}

// Stacks every Go program has (the runtime's own goroutines) or that the user chose to ignore
// say nothing about which program a capture is of.
bool TellsProgramsApart(const StackSummary& s) {
  return s.category != Category::kRuntime && s.category != Category::kIgnored;
}

// A note when few stacks are common to the captures, seen from either side: captures of two
// different services (or of very different versions of one) diff into "everything vanished,
// everything new", which reads like growth. Growth of a leak keeps the older stacks, and a
// busy service gone idle keeps the newer ones among the older, so neither trips this.
std::string UnrelatedNote(const Snapshot& before, const Snapshot& after) {
  // Fewer stacks than this on a side say too little to judge (a tiny test program).
  constexpr std::size_t kMinStacks = 4;
  std::unordered_set<std::string_view> before_ids, after_ids;
  for (const StackSummary& s : before.stacks) {
    if (TellsProgramsApart(s)) before_ids.insert(s.id);
  }
  for (const StackSummary& s : after.stacks) {
    if (TellsProgramsApart(s)) after_ids.insert(s.id);
  }
  std::size_t shared = 0;
  for (std::string_view id : before_ids) shared += after_ids.count(id);
  // Under a quarter in common on both sides: a deploy that rewrote some code keeps far more.
  const std::size_t smaller = std::min(before_ids.size(), after_ids.size());
  if (smaller < kMinStacks || 4 * shared >= smaller) return "";
  return "the captures share " + std::to_string(shared) + " of their " +
         std::to_string(before_ids.size()) + " and " + std::to_string(after_ids.size()) +
         " stacks (the runtime's own left out): are they of the same service and version? "
         "Stacks of different programs read as vanished and new, not as growth";
}

}  // namespace

SnapshotDiff DiffSnapshots(const Snapshot& before, const Snapshot& after) {
  SnapshotDiff diff;
  diff.total_before = before.total;
  diff.total_after = after.total;
  diff.category_before = before.by_category;
  diff.category_after = after.by_category;
  if (before.captured_unix_ms > 0 && after.captured_unix_ms > before.captured_unix_ms) {
    diff.interval_seconds = (after.captured_unix_ms - before.captured_unix_ms) / 1000.0;
  } else if (before.info.time_nanos > 0 && after.info.time_nanos > before.info.time_nanos) {
    diff.interval_seconds = (after.info.time_nanos - before.info.time_nanos) / 1e9;
  }

  std::unordered_map<std::string, std::size_t> index;
  for (const StackSummary& s : after.stacks) {
    index.emplace(s.id, diff.rows.size());
    DiffRow row;
    row.stack = s;
    row.after = s.count;
    diff.rows.push_back(std::move(row));
  }
  int64_t upgraded = 0;
  // Only debug=2 has wait reasons and creators: user rules on them, and nil channels on
  // Go <= 1.20, decide there and nowhere else, so an older debug=2 capture's category is
  // the better-informed one for every stack both captures hold.
  const bool before_knows_more =
      before.info.format == ProfileFormat::kDebug2 && after.info.format != ProfileFormat::kDebug2;
  for (const StackSummary& s : before.stacks) {
    auto it = index.find(s.id);
    if (it == index.end()) {
      DiffRow row;
      row.stack = s;
      row.before = s.count;
      diff.rows.push_back(std::move(row));
      continue;
    }
    DiffRow& row = diff.rows[it->second];
    row.before = s.count;
    // Formats differ in what they show (debug=1 hides the primitive, only debug=2 names
    // the creator): keep the better-informed side of each fact.
    if (s.category != row.stack.category &&
        (before_knows_more ||
         (row.stack.category == Category::kUnknown && s.category != Category::kUnknown))) {
      row.stack.category = s.category;
      row.stack.rule = s.rule + " (from the older capture)";
      ++upgraded;
    }
    if (row.stack.created_by.empty() && !s.created_by.empty()) {
      row.stack.created_by = s.created_by;
      row.stack.created_at = s.created_at;
      row.stack.other_creators = s.other_creators;
    }
  }
  // debug=1 hides the blocking primitive: across formats, each side's category table would
  // move goroutines between "unknown" and their category although nothing changed. Count
  // both sides by the rows' (better-informed) categories; what no row holds (overflow) stays
  // where its snapshot put it.
  if (before.info.format != after.info.format) {
    std::array<int64_t, kCategoryCount> rows_before{}, rows_after{};
    for (const DiffRow& row : diff.rows) {
      rows_before[static_cast<int>(row.stack.category)] += row.before;
      rows_after[static_cast<int>(row.stack.category)] += row.after;
    }
    rows_before[static_cast<int>(Category::kUnknown)] += before.overflow_goroutines;
    rows_after[static_cast<int>(Category::kUnknown)] += after.overflow_goroutines;
    diff.category_before = rows_before;
    diff.category_after = rows_after;
  }
  std::stable_sort(diff.rows.begin(), diff.rows.end(), [](const DiffRow& a, const DiffRow& b) {
    if (a.delta() != b.delta()) return a.delta() > b.delta();
    if (a.after != b.after) return a.after > b.after;
    return a.stack.id < b.stack.id;
  });
  if (before.info.format != after.info.format) {
    diff.notes.push_back(std::string("comparing ") + FormatName(before.info.format) + " with " +
                         FormatName(after.info.format) +
                         ": stacks are matched by stable id; deep stacks may be cut differently");
  }
  if (upgraded > 0) {
    diff.notes.push_back(std::to_string(upgraded) +
                         " stacks take their category from the older capture, whose format "
                         "tells more (debug=1 hides the blocking primitive; only debug=2 has "
                         "wait reasons and creators)");
  }
  const bool same_kind = before.info.kind == after.info.kind;
  if (!same_kind) {
    diff.notes.push_back(std::string("comparing a ") + KindName(before.info.kind) +
                         " profile with a " + KindName(after.info.kind) +
                         " profile: a goroutineleak profile holds only the goroutines the GC "
                         "proved leaked, so counts and growth do not compare");
  }
  const int64_t t_before = TimeMs(before), t_after = TimeMs(after);
  const bool reversed = t_before > 0 && t_after > 0 && t_after < t_before;
  if (reversed) {
    diff.notes.push_back("the newer capture was given first (" +
                         std::to_string((t_before - t_after) / 1000) +
                         " s apart): growth reads backwards; swap the arguments");
  }
  if (same_kind && !reversed && after.total < before.total && t_before > 0 && t_after > 0) {
    diff.notes.push_back("the total went down: the target may have restarted or drained");
  }
  if (same_kind) {
    if (std::string note = UnrelatedNote(before, after); !note.empty()) {
      diff.notes.push_back(std::move(note));
    }
  }
  // What either capture says about itself (truncated, partial, unreadable parts) holds for
  // the comparison too: a cut capture makes its side a lower bound.
  for (const std::string& n : before.notes) diff.notes.push_back("before: " + n);
  for (const std::string& n : after.notes) diff.notes.push_back("after: " + n);
  diff.before_truncated = before.info.truncated;
  diff.after_truncated = after.info.truncated;
  return diff;
}

}  // namespace gx
