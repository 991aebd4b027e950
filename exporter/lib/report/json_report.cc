#include "report/json_report.h"

#include <algorithm>

#include "report/stack_order.h"

namespace gx {
namespace {

nlohmann::json LabelsToJson(const LabelSet& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

nlohmann::json WaitToJson(const WaitStats& w) {
  nlohmann::json out;
  out["goroutines_with_wait"] = w.with_minutes;
  out["max_minutes"] = w.max_minutes < 0 ? nlohmann::json(nullptr) : nlohmann::json(w.max_minutes);
  nlohmann::json buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < kWaitBucketMinutes.size(); ++i) {
    buckets.push_back({{"le_minutes", kWaitBucketMinutes[i]}, {"count", w.le_bucket[i]}});
  }
  out["buckets"] = std::move(buckets);
  return out;
}

nlohmann::json CategoriesToJson(const std::array<int64_t, kCategoryCount>& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (int i = 0; i < kCategoryCount; ++i) {
    if (counts[i] != 0) out[std::string(CategoryName(static_cast<Category>(i)))] = counts[i];
  }
  return out;
}

}  // namespace

nlohmann::json StackToJson(const StackSummary& s, bool with_frames) {
  nlohmann::json out;
  out["stack_id"] = s.id;
  out["count"] = s.count;
  out["category"] = std::string(CategoryName(s.category));
  out["benign"] = IsBenign(s.category);
  out["hint"] = std::string(StackHint(s.category, s.rule));
  out["rule"] = s.rule;
  out["function"] = s.function();
  out["location"] = s.location();
  out["created_by"] = s.created_by;
  out["created_at"] = s.created_at;
  if (!s.other_creators.empty()) {
    nlohmann::json others = nlohmann::json::array();
    for (const CreatorCount& c : s.other_creators) {
      others.push_back({{"created_by", c.name}, {"count", c.count}});
    }
    out["other_creators"] = std::move(others);
  }
  if (!s.other_categories.empty()) {
    // Goroutines of the same functions blocked elsewhere (another line, another primitive).
    nlohmann::json others = nlohmann::json::array();
    for (const auto& [category, n] : s.other_categories) {
      others.push_back({{"category", std::string(CategoryName(category))}, {"count", n}});
    }
    out["other_categories"] = std::move(others);
  }
  out["state"] = s.state;
  out["leaked"] = s.leaked;
  out["locked_to_thread"] = s.locked_to_thread;
  nlohmann::json labels = nlohmann::json::array();
  for (const LabelCount& l : s.labels) {
    if (l.labels.empty() && !l.trimmed) continue;
    labels.push_back({{"labels", LabelsToJson(l.labels)}, {"count", l.count}});
    // Past what a snapshot keeps, only the module's label_keys are left of these sets.
    if (l.trimmed) labels.back()["trimmed"] = true;
  }
  out["labels"] = std::move(labels);
  out["wait"] = WaitToJson(s.wait);
  out["frames_elided"] = s.frames_elided;
  if (with_frames) {
    nlohmann::json frames = nlohmann::json::array();
    for (const ShapeFrame& f : s.frames()) {
      nlohmann::json frame = {{"function", f.function}, {"file", f.file}, {"line", f.line}};
      if (f.inlined) frame["inlined"] = true;
      frames.push_back(std::move(frame));
    }
    out["frames"] = std::move(frames);
    nlohmann::json identity = nlohmann::json::array();
    for (std::string_view name : s.identity()) identity.push_back(name);
    out["identity"] = std::move(identity);
  }
  return out;
}

nlohmann::json SnapshotToJson(const Snapshot& snap, int top_k, bool with_frames,
                              bool include_benign) {
  nlohmann::json out;
  out["source"] = snap.source;
  out["format"] = FormatName(snap.info.format);
  out["profile"] = KindName(snap.info.kind);
  // Text captures read from a file carry no time: null, as the diff says, rather than 1970.
  out["captured_unix_ms"] =
      snap.captured_unix_ms > 0 ? nlohmann::json(snap.captured_unix_ms) : nlohmann::json(nullptr);
  out["total"] = snap.total;
  out["self_excluded"] = snap.self_excluded;
  out["distinct_stacks"] = snap.stacks.size();
  out["truncated"] = snap.info.truncated;
  out["unknown_lines"] = snap.info.unknown_lines;
  out["bytes"] = snap.info.input_bytes;
  out["categories"] = CategoriesToJson(snap.by_category);
  out["leaked"] = LeakedTotals(snap).first;
  nlohmann::json stacks = nlohmann::json::array();
  int shown = 0;
  for (const StackSummary* s : StacksInReportOrder(snap, include_benign)) {
    if (top_k > 0 && shown++ >= top_k) break;
    stacks.push_back(StackToJson(*s, with_frames));
  }
  out["stacks"] = std::move(stacks);
  out["notes"] = snap.notes;
  return out;
}

nlohmann::json DiffToJson(const SnapshotDiff& diff, int top_k, bool with_frames,
                          bool include_benign) {
  nlohmann::json out;
  out["total_before"] = diff.total_before;
  out["total_after"] = diff.total_after;
  // null when neither capture says when it was taken (text dumps read from files).
  out["interval_seconds"] =
      diff.interval_seconds > 0 ? nlohmann::json(diff.interval_seconds) : nlohmann::json();
  out["categories_before"] = CategoriesToJson(diff.category_before);
  out["categories_after"] = CategoriesToJson(diff.category_after);
  // "stacks": what grew, largest growth first (what a diff is read for); "shrinking": what
  // shrank or went, largest drop first (where a fix shows). Unchanged stacks are counted only.
  auto row_json = [&](const DiffRow& row) {
    nlohmann::json r = StackToJson(row.stack, with_frames);
    r["before"] = row.before;
    r["after"] = row.after;
    r["delta"] = row.delta();
    r.erase("count");
    return r;
  };
  nlohmann::json growing = nlohmann::json::array(), shrinking = nlohmann::json::array();
  int64_t growing_count = 0, shrinking_count = 0, unchanged_count = 0, benign_growth = 0;
  for (const DiffRow& row : diff.rows) {  // largest growth first
    if (!include_benign && IsBenign(row.stack.category)) {
      benign_growth += std::max<int64_t>(row.delta(), 0);
      continue;
    }
    if (row.delta() > 0 && (top_k <= 0 || growing_count < top_k)) growing.push_back(row_json(row));
    growing_count += row.delta() > 0;
    unchanged_count += row.delta() == 0;
  }
  for (auto it = diff.rows.rbegin(); it != diff.rows.rend() && it->delta() < 0; ++it) {
    if (!include_benign && IsBenign(it->stack.category)) continue;
    if (top_k <= 0 || shrinking_count < top_k) shrinking.push_back(row_json(*it));
    ++shrinking_count;
  }
  out["stacks"] = std::move(growing);
  out["shrinking"] = std::move(shrinking);
  // Counts of all such stacks, beyond top_k too (benign ones only when they are included).
  out["growing_stacks"] = growing_count;
  out["shrinking_stacks"] = shrinking_count;
  out["unchanged_stacks"] = unchanged_count;
  // Goroutines that benign stacks grew by, when they are left out (null when included).
  out["benign_growth"] = include_benign ? nlohmann::json() : nlohmann::json(benign_growth);
  out["distinct_stacks"] = diff.rows.size();
  out["before_truncated"] = diff.before_truncated;
  out["after_truncated"] = diff.after_truncated;
  out["notes"] = diff.notes;
  return out;
}

std::string JsonText(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gx
