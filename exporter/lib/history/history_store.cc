#include "history/history_store.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "common/duration.h"
#include "common/limits.h"
#include "normalize/stack_identity.h"

namespace gx {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Reads what PutVarint wrote; false at the end of the input.
bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

}  // namespace

HistoryStore::HistoryStore(const HistoryLimits& limits) : limits_(limits) {}

void HistoryStore::SetLimits(const HistoryLimits& limits) {
  std::lock_guard<std::mutex> lock(mu_);
  limits_ = limits;
}

std::string HistoryStore::Key(const std::string& target, const std::string& module) {
  return module + "\x1f" + target;
}

std::string HistoryStore::Pack(Entry* e, const std::array<int64_t, kCategoryCount>& categories,
                               const std::vector<std::pair<uint64_t, int64_t>>& stacks) {
  std::vector<std::pair<uint32_t, int64_t>> numbered;
  numbered.reserve(stacks.size());
  for (const auto& [id, n] : stacks) {
    auto [it, added] = e->stack_numbers.emplace(id, static_cast<uint32_t>(e->stack_ids.size()));
    if (added) e->stack_ids.push_back(id);
    numbered.emplace_back(it->second, n);
  }
  std::sort(numbered.begin(), numbered.end());
  std::string out;
  out.reserve(kCategoryCount + 3 * numbered.size());
  for (int64_t n : categories) PutVarint(&out, ZigZag(n));
  uint32_t prev = 0;
  for (const auto& [number, n] : numbered) {
    PutVarint(&out, number - prev);
    PutVarint(&out, ZigZag(n));
    prev = number;
  }
  return out;
}

HistoryStore::UnpackedPoint HistoryStore::Unpack(const Entry& e, const HistoryPoint& p) {
  UnpackedPoint u;
  std::string_view in = p.packed;
  uint64_t v = 0;
  for (int64_t& n : u.categories) n = GetVarint(&in, &v) ? UnZigZag(v) : 0;
  uint64_t number = 0, delta = 0, count = 0;
  while (GetVarint(&in, &delta) && GetVarint(&in, &count)) {
    number += delta;
    if (number < e.stack_ids.size()) u.stacks.emplace_back(e.stack_ids[number], UnZigZag(count));
  }
  std::sort(u.stacks.begin(), u.stacks.end());
  return u;
}

void HistoryStore::Compact(Entry* e) {
  std::vector<UnpackedPoint> unpacked;
  unpacked.reserve(e->points.size());
  std::unordered_set<uint64_t> live;
  for (const HistoryPoint& p : e->points) {
    unpacked.push_back(Unpack(*e, p));
    for (const auto& [id, n] : unpacked.back().stacks) live.insert(id);
  }
  e->stack_ids.clear();
  e->stack_numbers.clear();
  for (std::size_t i = 0; i < unpacked.size(); ++i) {
    e->points[i].packed = Pack(e, unpacked[i].categories, unpacked[i].stacks);
  }
  std::erase_if(e->vanished, [&](const auto& kv) { return !live.count(kv.first); });
  std::erase_if(e->creators, [&](const auto& kv) { return !live.count(kv.first); });
  e->compact_at = std::max<std::size_t>(256, 2 * e->stack_ids.size());
}

void HistoryStore::DropOldestVanished(Entry* e) {
  if (e->vanished.empty()) return;
  std::vector<int64_t> times;
  times.reserve(e->vanished.size());
  for (const auto& [id, v] : e->vanished) times.push_back(v.since_ms);
  const std::size_t quarter = std::max<std::size_t>(1, times.size() / 4);
  std::nth_element(times.begin(), times.begin() + (quarter - 1), times.end());
  const int64_t cutoff = times[quarter - 1];
  std::erase_if(e->vanished, [cutoff](const auto& kv) { return kv.second.since_ms <= cutoff; });
}

void HistoryStore::Trim(Entry* e, int64_t now_ms) {
  while (!e->points.empty() && now_ms - e->points.front().time_ms > limits_.max_age.count()) {
    e->points.pop_front();
    --total_points_;
  }
  // Past max_points, thin instead of forgetting the oldest point, so that the points span up
  // to max_age whatever the probe rate (60 points at one probe per 15 s would hold 15 minutes,
  // too little for "what grew in the last hour"): drop the point whose neighbours are closest
  // together for its age. Recent points stay dense and older ones end up spaced about in
  // proportion to their age; the oldest and the newest are kept.
  auto crowding = [&](std::size_t i) {  // i: an interior point
    const double gap = static_cast<double>(e->points[i + 1].time_ms - e->points[i - 1].time_ms);
    return gap / static_cast<double>(std::max<int64_t>(1, now_ms - e->points[i].time_ms));
  };
  const std::size_t max_points = static_cast<std::size_t>(std::max(1, limits_.max_points));
  while (e->points.size() > max_points + 1 && e->points.size() >= 3) {
    // Many at once (max_snapshots lowered by a reload): passes that each drop up to half the
    // excess, the most crowded first and never two neighbours (whose measure the first drop
    // changes), rather than a pass per point dropped.
    const std::size_t n = e->points.size();
    std::vector<std::pair<double, std::size_t>> by_crowding;
    for (std::size_t i = 1; i + 1 < n; ++i) by_crowding.emplace_back(crowding(i), i);
    std::sort(by_crowding.begin(), by_crowding.end());
    const std::size_t want = std::max<std::size_t>(1, (n - max_points) / 2);
    std::vector<bool> dropped(n, false);
    std::size_t drop = 0;
    for (const auto& [measure, i] : by_crowding) {
      if (drop == want) break;
      if (dropped[i - 1] || dropped[i + 1]) continue;
      dropped[i] = true;
      ++drop;
    }
    std::deque<HistoryPoint> kept;
    for (std::size_t i = 0; i < n; ++i) {
      if (!dropped[i]) kept.push_back(std::move(e->points[i]));
    }
    e->points.swap(kept);
    total_points_ -= drop;
  }
  while (e->points.size() > max_points) {
    std::size_t drop = 0;  // the oldest, when there is no interior point
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 1; e->points.size() >= 3 && i + 1 < e->points.size(); ++i) {
      const double measure = crowding(i);
      if (measure < best) {
        best = measure;
        drop = i;
      }
    }
    e->points.erase(e->points.begin() + static_cast<std::ptrdiff_t>(drop));
    --total_points_;
  }
  if (e->stack_ids.size() >= e->compact_at) Compact(e);
}

void HistoryStore::Record(const std::shared_ptr<const ProbeResult>& result,
                          const std::map<std::string, std::string>& labels) {
  if (!result) return;
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = Key(result->target, result->module);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_targets) {
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.last_used_ms < b.second.last_used_ms;
      });
      if (oldest != entries_.end()) {
        total_points_ -= oldest->second.points.size();
        entries_.erase(oldest);
      }
    }
    it = entries_.emplace(key, Entry()).first;
  }
  Entry& e = it->second;
  e.view.target = result->target;
  e.view.module = result->module;
  if (!labels.empty()) e.view.labels = labels;
  e.view.latest = result;
  e.last_used_ms = result->time_ms;
  if (result->success && result->snapshot && !result->cached) {
    const Snapshot& s = *result->snapshot;
    // Stacks of the last result that are gone now keep their details for later diffs.
    // When the catalog is full, stacks no point counts any more are dropped, once per record
    // (a full pass over the points) so that a target churning its stacks stays linear; if
    // it is still full, those that vanished longest ago make room.
    bool compacted = false;
    if (e.view.last_good && e.view.last_good->snapshot) {
      for (const StackSummary& old : e.view.last_good->snapshot->stacks) {
        if (s.FindStack(old.id)) continue;
        if (e.vanished.size() >= limits_.max_catalog_stacks && !compacted) {
          Compact(&e);
          compacted = true;
        }
        if (e.vanished.size() >= limits_.max_catalog_stacks) DropOldestVanished(&e);
        if (e.vanished.size() >= limits_.max_catalog_stacks) break;  // a catalog of size 0
        Entry::Vanished& kept = e.vanished[IdToHash(old.id)];
        kept.stack = old;
        kept.stack.labels.resize(std::min(kept.stack.labels.size(), kLabelSetsPerStack));
        kept.since_ms = result->time_ms;
      }
    }
    std::vector<std::pair<uint64_t, int64_t>> counts;
    counts.reserve(s.stacks.size());
    for (const StackSummary& st : s.stacks) {
      const uint64_t id = IdToHash(st.id);
      counts.emplace_back(id, st.count);
      if (!e.vanished.empty()) e.vanished.erase(id);
      // debug=0 has no creator: learn it from the latest debug=2 fetch, so diff rows can
      // name who starts these goroutines even after that fetch is gone.
      const StackSummary* d = result->debug2 ? result->debug2->FindStack(st.id) : nullptr;
      if (d && !d->created_by.empty()) {
        auto& creator = e.creators[id];
        if (creator.first != d->created_by) creator = {d->created_by, d->created_at};
      }
    }
    HistoryPoint p;
    p.time_ms = s.captured_unix_ms > 0 ? s.captured_unix_ms : result->time_ms;
    p.total = s.total;
    p.packed = Pack(&e, s.by_category, counts);
    e.points.push_back(std::move(p));
    ++total_points_;
    e.view.last_good = result;
  }
  Trim(&e, result->time_ms);
  e.view.points = e.points.size();
  e.view.oldest_point_ms = e.points.empty() ? 0 : e.points.front().time_ms;
}

std::vector<TargetView> HistoryStore::Targets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TargetView> out;
  out.reserve(entries_.size());
  for (const auto& [key, e] : entries_) out.push_back(e.view);
  std::sort(out.begin(), out.end(), [](const TargetView& a, const TargetView& b) {
    return a.target != b.target ? a.target < b.target : a.module < b.module;
  });
  return out;
}

std::optional<TargetView> HistoryStore::Target(const std::string& target,
                                               const std::string& module) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(target, module));
  if (it == entries_.end()) return std::nullopt;
  return it->second.view;
}

std::vector<std::string> HistoryStore::ModulesOf(const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_) {
    if (e.view.target == target) out.push_back(e.view.module);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void HistoryStore::Forget(const std::string& target, const std::string& module) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(target, module));
  if (it == entries_.end()) return;
  total_points_ -= it->second.points.size();
  entries_.erase(it);
}

std::size_t HistoryStore::total_points() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_points_;
}

StackSummary HistoryStore::Details(const Entry& e, uint64_t id) {
  StackSummary st;
  const std::string text_id = HashToId(id);
  const ProbeResult* good = e.view.last_good.get();
  const StackSummary* current = good && good->snapshot ? good->snapshot->FindStack(text_id) : nullptr;
  if (current) {
    st = *current;
    st.labels.resize(std::min(st.labels.size(), kLabelSetsPerStack));
  } else if (auto it = e.vanished.find(id); it != e.vanished.end()) {
    st = it->second.stack;
  }
  if (auto it = e.creators.find(id); it != e.creators.end() && st.created_by.empty()) {
    st.created_by = it->second.first;
    st.created_at = it->second.second;
  }
  st.id = text_id;
  return st;
}

Snapshot HistoryStore::Rebuild(const Entry& e, const HistoryPoint& p) const {
  Snapshot s;
  s.source = e.view.target;
  s.captured_unix_ms = p.time_ms;
  s.total = p.total;
  s.info.format = ProfileFormat::kProto;
  UnpackedPoint u = Unpack(e, p);
  s.by_category = u.categories;
  for (const auto& [id, n] : u.stacks) {
    StackSummary st = Details(e, id);
    st.count = n;
    s.stacks.push_back(std::move(st));
  }
  s.IndexStacks();
  return s;
}

std::shared_ptr<const StackCounts> HistoryStore::GrowthBase(const std::string& target,
                                                          const std::string& module,
                                                          int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(target, module));
  if (it == entries_.end() || it->second.points.empty()) return nullptr;
  const Entry& e = it->second;
  const int64_t before_ms = now_ms - std::chrono::milliseconds(kGrowthWindow).count();
  const HistoryPoint* base = &e.points.front();
  for (const HistoryPoint& p : e.points) {
    if (p.time_ms > before_ms) break;
    base = &p;
  }
  return std::make_shared<const StackCounts>(StackCounts::FromSorted(Unpack(e, *base).stacks));
}

Result<SnapshotDiff> HistoryStore::Diff(const std::string& target, const std::string& module,
                                        int64_t from_ms, int64_t to_ms) const {
  // Every probe records under mu_: only the two snapshots are rebuilt under it, the diff
  // itself (sorting and matching every stack) runs after.
  Snapshot before, after;
  std::vector<std::string> notes;
  Status found = RebuildPair(target, module, from_ms, to_ms, &before, &after, &notes);
  if (!found.ok()) return found;
  SnapshotDiff diff = DiffSnapshots(before, after);
  diff.notes.insert(diff.notes.begin(), notes.begin(), notes.end());
  return diff;
}

Status HistoryStore::RebuildPair(const std::string& target, const std::string& module,
                                 int64_t from_ms, int64_t to_ms, Snapshot* before,
                                 Snapshot* after, std::vector<std::string>* notes) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(target, module));
  if (it == entries_.end()) return Status::Error("unknown target");
  const Entry& e = it->second;
  if (e.points.size() < 2) return Status::Error("the target has fewer than two probes in its history");
  auto at_or_before = [&](int64_t t) -> const HistoryPoint* {
    const HistoryPoint* best = &e.points.front();
    for (const HistoryPoint& p : e.points) {
      if (p.time_ms <= t) best = &p;
    }
    return best;
  };
  const HistoryPoint* to = to_ms <= 0 ? &e.points.back() : at_or_before(to_ms);
  const HistoryPoint* from = at_or_before(from_ms);
  if (from == to) {
    // Asked for a window shorter than the probe interval: compare with the point before.
    auto pos = std::find_if(e.points.begin(), e.points.end(),
                            [&](const HistoryPoint& p) { return &p == to; });
    if (pos == e.points.begin()) return Status::Error("no older point to compare with");
    from = &*std::prev(pos);
  }
  // Tolerance: points are stamped with the target's capture time, a little after the probe
  // started.
  if (from->time_ms > from_ms + 1000) {
    notes->push_back("the history of this target starts " +
                     std::to_string((from->time_ms - from_ms) / 1000) +
                     " s after the time asked for: compared from its oldest point (the history "
                     "keeps " + std::to_string(limits_.max_points) + " points over at most " +
                     FormatDuration(limits_.max_age) + " per target)");
  }
  const ProbeResult* latest = e.view.latest.get();
  if (to_ms <= 0 && latest && !latest->success) {
    notes->push_back("the last probe failed (" + latest->error + "): 'now' is the last "
                     "successful probe, " +
                     std::to_string(std::max<int64_t>(0, latest->time_ms - to->time_ms) / 1000) +
                     " s before it");
  }
  *before = Rebuild(e, *from);
  *after = Rebuild(e, *to);
  return Status::Ok();
}

}  // namespace gx
