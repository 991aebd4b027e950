#include "history/history_store.h"

#include <algorithm>
#include <cstdlib>

#include "normalize/stack_identity.h"

namespace gx {
namespace {

uint64_t ParseId(const std::string& id) { return std::strtoull(id.c_str(), nullptr, 16); }

}  // namespace

HistoryStore::HistoryStore(const HistoryLimits& limits) : limits_(limits) {}

void HistoryStore::SetLimits(const HistoryLimits& limits) {
  std::lock_guard<std::mutex> lock(mu_);
  limits_ = limits;
}

std::string HistoryStore::Key(const std::string& target, const std::string& module) {
  return module + "\x1f" + target;
}

void HistoryStore::Trim(Entry* e, int64_t now_ms) const {
  while (!e->points.empty() &&
         (static_cast<int>(e->points.size()) > limits_.max_points ||
          now_ms - e->points.front().time_ms > limits_.max_age.count())) {
    e->points.pop_front();
  }
  if (e->catalog.size() <= limits_.max_catalog_stacks) return;
  // Keep details only for stacks still present in some point.
  std::unordered_map<uint64_t, bool> live;
  for (const HistoryPoint& p : e->points) {
    for (const auto& [id, n] : p.stacks) live[id] = true;
  }
  for (auto it = e->catalog.begin(); it != e->catalog.end();) {
    it = live.count(it->first) ? std::next(it) : e->catalog.erase(it);
  }
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
      if (oldest != entries_.end()) entries_.erase(oldest);
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
    HistoryPoint p;
    p.time_ms = s.captured_unix_ms > 0 ? s.captured_unix_ms : result->time_ms;
    p.total = s.total;
    p.categories = s.by_category;
    p.stacks.reserve(s.stacks.size());
    for (const StackSummary& st : s.stacks) {
      uint64_t id = ParseId(st.id);
      p.stacks.emplace_back(id, st.count);
      if (e.catalog.size() < limits_.max_catalog_stacks * 2 || e.catalog.count(id)) {
        StackSummary& c = e.catalog[id];
        std::string created_by = c.created_by, created_at = c.created_at;
        c = st;
        c.labels.resize(std::min<std::size_t>(c.labels.size(), 8));
        // debug=0 has no creator: take it from the latest debug=2 fetch, or keep the one
        // learned earlier, so diff rows can name who starts these goroutines.
        const StackSummary* d = result->debug2 ? result->debug2->FindStack(st.id) : nullptr;
        if (d && !d->created_by.empty()) {
          c.created_by = d->created_by;
          c.created_at = d->created_at;
        } else if (c.created_by.empty()) {
          c.created_by = created_by;
          c.created_at = created_at;
        }
      }
    }
    std::sort(p.stacks.begin(), p.stacks.end());
    e.points.push_back(std::move(p));
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

void HistoryStore::Forget(const std::string& target, const std::string& module) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(Key(target, module));
}

std::size_t HistoryStore::total_points() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& [k, e] : entries_) n += e.points.size();
  return n;
}

Snapshot HistoryStore::Rebuild(const Entry& e, const HistoryPoint& p) const {
  Snapshot s;
  s.source = e.view.target;
  s.captured_unix_ms = p.time_ms;
  s.total = p.total;
  s.by_category = p.categories;
  s.info.format = ProfileFormat::kProto;
  for (const auto& [id, n] : p.stacks) {
    auto it = e.catalog.find(id);
    StackSummary st;
    if (it != e.catalog.end()) st = it->second;
    st.id = HashToId(id);
    st.count = n;
    s.stacks.push_back(std::move(st));
  }
  s.IndexStacks();
  return s;
}

Result<SnapshotDiff> HistoryStore::Diff(const std::string& target, const std::string& module,
                                        int64_t from_ms, int64_t to_ms) const {
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
  return DiffSnapshots(Rebuild(e, *from), Rebuild(e, *to));
}

}  // namespace gx
