#include "aggregate/debug2_categories.h"

#include <algorithm>

#include "normalize/stack_identity.h"

namespace gx {

Debug2Categories Debug2Categories::From(const Snapshot& debug2, const Classifier& classifier) {
  const std::vector<std::string>& debug2_only = classifier.debug2_only_user_rules();
  Debug2Categories out;
  for (const StackSummary& s : debug2.stacks) {
    const bool user_rule =
        std::find(debug2_only.begin(), debug2_only.end(), s.rule) != debug2_only.end();
    if (!user_rule && s.category != Category::kNilChan) continue;
    const uint64_t id = IdToHash(s.id);
    if (id == 0) continue;  // not an id this exporter wrote
    out.entries_.push_back({id, s.category, s.rule});
  }
  std::sort(out.entries_.begin(), out.entries_.end(),
            [](const Entry& a, const Entry& b) { return a.id < b.id; });
  return out;
}

std::shared_ptr<const Snapshot> Debug2Categories::ApplyTo(const Snapshot& snapshot) const {
  if (entries_.empty()) return nullptr;
  std::shared_ptr<Snapshot> patched;
  int changed = 0;
  for (std::size_t i = 0; i < snapshot.stacks.size(); ++i) {
    const StackSummary& s = snapshot.stacks[i];
    const uint64_t id = IdToHash(s.id);
    auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                               [](const Entry& e, uint64_t key) { return e.id < key; });
    if (it == entries_.end() || it->id != id) continue;
    if (it->category == s.category && it->rule == s.rule) continue;
    if (!patched) patched = std::make_shared<Snapshot>(snapshot);
    StackSummary& p = patched->stacks[i];
    // The per-category counts were summed per bucket: move the goroutines of the stack's own
    // category (not those it counts in other_categories), never below zero.
    int64_t own = p.count;
    for (const auto& [category, n] : p.other_categories) own -= n;
    int64_t& from = patched->by_category[static_cast<int>(p.category)];
    const int64_t moved = std::clamp<int64_t>(own, 0, from);
    from -= moved;
    patched->by_category[static_cast<int>(it->category)] += moved;
    p.category = it->category;
    p.rule = it->rule;
    // Goroutines already counted in the new category are the stack's own now.
    p.other_categories.erase(
        std::remove_if(p.other_categories.begin(), p.other_categories.end(),
                       [&](const auto& e) { return e.first == p.category; }),
        p.other_categories.end());
    ++changed;
  }
  if (!patched) return nullptr;
  patched->notes.push_back(std::to_string(changed) +
                           (changed == 1 ? " stack takes its" : " stacks take their") +
                           " category from the last debug=2 dump (rules on state or creator, "
                           "nil channels), which debug=0 cannot tell");
  return patched;
}

Snapshot WithDebug2Facts(const Snapshot& cheap, const Snapshot& debug2, int* joined) {
  Snapshot out = cheap;
  *joined = 0;
  if (cheap.info.format == ProfileFormat::kDebug2) return out;
  for (StackSummary& s : out.stacks) {
    const StackSummary* d = debug2.FindStack(s.id);
    if (!d) continue;
    s.created_by = d->created_by;
    s.created_at = d->created_at;
    s.other_creators = d->other_creators;
    s.state = d->state;
    s.wait = d->wait;
    ++*joined;
  }
  return out;
}

}  // namespace gx
