#include "aggregate/diff.h"

#include <algorithm>
#include <unordered_map>

namespace gx {

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
    if (row.stack.category == Category::kUnknown && s.category != Category::kUnknown) {
      row.stack.category = s.category;
      row.stack.rule = s.rule + " (from the older capture)";
      ++upgraded;
    }
    if (row.stack.created_by.empty() && !s.created_by.empty()) {
      row.stack.created_by = s.created_by;
      row.stack.created_at = s.created_at;
    }
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
                         "shows the blocking primitive");
  }
  if (after.total < before.total && after.info.time_nanos > 0 && before.info.time_nanos > 0) {
    diff.notes.push_back("the total went down: the target may have restarted or drained");
  }
  return diff;
}

}  // namespace gx
