#include "expose/probe_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "common/limits.h"
#include "common/utf8.h"
#include "expose/text_format.h"

namespace gx {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<std::pair<std::string, std::string>>;

class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type,
                const Labels& base_labels)
      : base_(base_labels) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }
  ClientMetric& Add(const Labels& labels) {
    ClientMetric m;
    m.label.reserve(base_.size() + labels.size());
    for (const auto& [k, v] : base_) m.label.push_back({k, v});
    for (const auto& [k, v] : labels) m.label.push_back({k, SanitizeLabelValue(v)});
    family_.metric.push_back(std::move(m));
    return family_.metric.back();
  }
  void Gauge(const Labels& labels, double value) { Add(labels).gauge.value = value; }
  MetricFamily Take() { return std::move(family_); }

 private:
  Labels base_;
  MetricFamily family_;
};

constexpr const char* kProfileNames[] = {"goroutine", "goroutineleak"};

// The snapshot whose series a fetch record stands for (fresh or reused), or null.
const Snapshot* DataInUse(const ProbeResult& r, const FetchRecord& f) {
  if (f.profile == "goroutineleak") return r.leak.get();
  return f.debug == 2 ? r.debug2.get() : r.snapshot.get();
}

// Projects a goroutine's label set onto the configured keys ("" when a key is absent).
std::vector<std::string> Project(const LabelSet& labels, const std::vector<std::string>& keys) {
  std::vector<std::string> values(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (const auto& [k, v] : labels) {
      if (k == keys[i]) values[i] = v;
    }
  }
  return values;
}

// Caps the distinct values per key: the most frequent max_values stay, the rest read "other";
// "" (goroutines without the label) is always kept and not counted.
class LabelValueCap {
 public:
  LabelValueCap(const Snapshot& s, const std::vector<std::string>& keys, int max_values) {
    allowed_.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::map<std::string, int64_t> counts;
      for (const StackSummary& st : s.stacks) {
        for (const LabelCount& lc : st.labels) counts[Project(lc.labels, keys)[i]] += lc.count;
      }
      // Goroutines without the label keep their own "" value: folding them into `other`
      // with the rare values would hide how much of the target the label covers.
      allowed_[i].insert("");
      std::vector<std::pair<int64_t, std::string>> ranked;
      for (auto& [v, n] : counts) {
        if (!v.empty()) ranked.emplace_back(-n, v);
      }
      std::sort(ranked.begin(), ranked.end());
      for (int r = 0; r < static_cast<int>(ranked.size()) && r < max_values; ++r) {
        allowed_[i].insert(ranked[r].second);
      }
    }
  }
  void Apply(std::vector<std::string>* values) const {
    for (std::size_t i = 0; i < values->size(); ++i) {
      if (!allowed_[i].count((*values)[i])) (*values)[i] = "other";
    }
  }

 private:
  std::vector<std::set<std::string>> allowed_;
};

Labels WithKeys(Labels labels, const std::vector<std::string>& keys,
                const std::vector<std::string>& values) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    labels.emplace_back(LabelNameOfKey(keys[i]), values[i]);
  }
  return labels;
}

// The creator of a stack: debug=0 has none; the last debug=2 fetch (reused between fetches)
// supplies it. "" when unknown.
std::string CreatorOf(const StackSummary& s, const Snapshot* debug2) {
  if (!s.created_by.empty() || !debug2) return s.created_by;
  const StackSummary* d = debug2->FindStack(s.id);
  return d ? d->created_by : std::string();
}

// Only labels that a stack id determines: a label learned later (the creator, from a
// debug=2 fetch minutes after the stack appeared) would start a new series and cut deriv().
void AddStackSeries(FamilyBuilder* fb, const StackSummary& s, const ExposeOptions& o,
                    const LabelValueCap& cap) {
  Labels base = {{"stack_id", s.id},
                 {"category", std::string(CategoryName(s.category))},
                 {"function", std::string(s.function())}};
  if (o.label_keys.empty()) {
    fb->Gauge(base, static_cast<double>(s.count));
    return;
  }
  std::map<std::vector<std::string>, int64_t> split;
  for (const LabelCount& lc : s.labels) {
    auto values = Project(lc.labels, o.label_keys);
    cap.Apply(&values);
    split[values] += lc.count;
  }
  for (const auto& [values, n] : split) fb->Gauge(WithKeys(base, o.label_keys, values), n);
}

}  // namespace

std::string SanitizeLabelValue(std::string_view v, std::size_t max_bytes) {
  // Nearly every value is short ASCII (ids, categories, Go function names): nothing to check.
  auto non_ascii = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  if (v.size() <= max_bytes && std::none_of(v.begin(), v.end(), non_ascii)) {
    return std::string(v);
  }
  std::string out;
  out.reserve(std::min(v.size(), max_bytes));
  std::size_t i = 0;
  while (i < v.size() && out.size() < max_bytes) {
    // Any byte Prometheus' parser would refuse fails the whole scrape: check as strictly.
    const std::size_t len = Utf8SequenceAt(v, i);
    if (len > 0) {
      out.append(v.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

ExposeOptions ExposeOptionsFor(const Module& module) {
  ExposeOptions o;
  o.top_k = module.top_k;
  o.top_k_growth = module.top_k_growth;
  o.label_keys = module.label_keys;
  o.max_label_values = module.max_label_values;
  return o;
}

std::vector<MetricFamily> ProbeMetricFamilies(const ProbeResult& r, const ExposeOptions& o) {
  // The target's own labels (watch mode) are checked by the config too; one bad byte here
  // would fail every series of the scrape. Made safe once, for all of its families.
  Labels base = o.target_labels;
  for (auto& [k, v] : base) v = SanitizeLabelValue(v, kMaxTargetLabelValueBytes);
  std::vector<MetricFamily> out;
  auto gauge = [&](const char* name, const char* help, double value) {
    FamilyBuilder fb(name, help, MetricType::Gauge, base);
    fb.Gauge({}, value);
    out.push_back(fb.Take());
  };

  gauge("goroutine_probe_success", "1 if the goroutine profile was fetched and decoded.",
        r.success ? 1 : 0);
  gauge("goroutine_probe_duration_seconds", "Wall time of the probe.", r.duration_seconds);
  {
    FamilyBuilder bytes("goroutine_probe_response_bytes",
                        "Bytes received per fetch made by this probe.", MetricType::Gauge, base);
    FamilyBuilder performed("goroutine_fetch_performed",
                            "1 if this probe fetched the profile, 0 if it was skipped or reused.",
                            MetricType::Gauge, base);
    FamilyBuilder skipped("goroutine_fetch_skipped",
                          "1 with the reason this probe skipped or reused a fetch.",
                          MetricType::Gauge, base);
    FamilyBuilder age("goroutine_fetch_age_seconds",
                      "Age of the data behind the series from this profile; expensive profiles "
                      "are reused between their fetches.",
                      MetricType::Gauge, base);
    FamilyBuilder partial("goroutine_fetch_partial",
                          "1 if the data in use from this profile is partial: the body was cut "
                          "or a cap of the decoder or aggregator was reached, so its counts are "
                          "lower bounds.",
                          MetricType::Gauge, base);
    for (const FetchRecord& f : r.fetches) {
      Labels l = {{"profile", f.profile}, {"debug", std::to_string(f.debug)}};
      performed.Gauge(l, f.performed ? 1 : 0);
      if (f.performed) bytes.Gauge(l, static_cast<double>(f.bytes));
      if (f.skipped != SkipReason::kNone) {
        Labels s = l;
        s.emplace_back("reason", SkipReasonName(f.skipped));
        skipped.Gauge(s, 1);
      }
      if (f.data_time_ms > 0) {
        const int64_t now_ms = o.now_ms > 0 ? o.now_ms : r.time_ms;
        age.Gauge(l, std::max<int64_t>(0, now_ms - f.data_time_ms) / 1000.0);
      }
      if (const Snapshot* data = DataInUse(r, f)) {
        partial.Gauge(l, data->info.truncated || data->overflow_goroutines > 0 ? 1 : 0);
      }
    }
    out.push_back(bytes.Take());
    out.push_back(performed.Take());
    out.push_back(skipped.Take());
    out.push_back(age.Take());
    out.push_back(partial.Take());
  }
  if (!r.success || !r.snapshot) return out;
  const Snapshot& s = *r.snapshot;

  gauge("goroutine_goroutines", "Goroutines in the target, as its goroutine profile states.",
        static_cast<double>(s.total));
  gauge("goroutine_stacks", "Distinct normalized stacks in the latest goroutine profile.",
        static_cast<double>(s.stacks.size()));

  LabelValueCap cap(s, o.label_keys, o.max_label_values);
  {
    FamilyBuilder fb("goroutine_category_goroutines", "Goroutines per leak category.",
                     MetricType::Gauge, base);
    if (o.label_keys.empty()) {
      for (int i = 0; i < kCategoryCount; ++i) {
        fb.Gauge({{"category", std::string(CategoryName(static_cast<Category>(i)))}},
                 static_cast<double>(s.by_category[i]));
      }
    } else {
      std::map<std::pair<int, std::vector<std::string>>, int64_t> split;
      for (const StackSummary& st : s.stacks) {
        for (const LabelCount& lc : st.labels) {
          auto values = Project(lc.labels, o.label_keys);
          cap.Apply(&values);
          split[{static_cast<int>(st.category), values}] += lc.count;
        }
      }
      // Every category is exported, as without label keys: one with no goroutines as 0 with
      // empty label values, so that a category that emptied reads 0 instead of going stale.
      const std::vector<std::string> no_values(o.label_keys.size());
      for (int i = 0; i < kCategoryCount; ++i) {
        auto at = split.lower_bound({i, std::vector<std::string>()});
        if (at == split.end() || at->first.first != i) split[{i, no_values}] = 0;
      }
      for (const auto& [key, n] : split) {
        Labels l = {{"category", std::string(CategoryName(static_cast<Category>(key.first)))}};
        fb.Gauge(WithKeys(l, o.label_keys, key.second), static_cast<double>(n));
      }
    }
    out.push_back(fb.Take());
  }
  {
    FamilyBuilder fb("goroutine_category_info",
                     "Always 1; carries the first-fix hint and benign flag of each category.",
                     MetricType::Gauge, base);
    for (int i = 0; i < kCategoryCount; ++i) {
      Category c = static_cast<Category>(i);
      fb.Gauge({{"category", std::string(CategoryName(c))},
                {"benign", IsBenign(c) ? "true" : "false"},
                {"hint", std::string(CategoryHint(c))}},
               1);
    }
    out.push_back(fb.Take());
  }

  // Stacks: top-K by count, plus top-K by growth against the growth base (~10 min ago).
  std::vector<const StackSummary*> chosen;
  std::set<std::string> chosen_ids;
  for (const StackSummary& st : s.stacks) {
    if (static_cast<int>(chosen.size()) >= o.top_k) break;
    chosen.push_back(&st);
    chosen_ids.insert(st.id);
  }
  std::vector<std::pair<int64_t, const StackSummary*>> growth;
  for (const StackSummary& st : s.stacks) {
    if (chosen_ids.count(st.id)) continue;
    if (!o.growth_base) break;
    int64_t delta = st.count - o.growth_base->Find(st.id);
    if (delta > 0) growth.emplace_back(-delta, &st);
  }
  std::sort(growth.begin(), growth.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->id < b.second->id;
  });
  for (int i = 0; i < static_cast<int>(growth.size()) && i < o.top_k_growth; ++i) {
    chosen.push_back(growth[i].second);
    chosen_ids.insert(growth[i].second->id);
  }
  {
    FamilyBuilder fb("goroutine_stack_goroutines",
                     "Goroutines per normalized stack (top-K by count and by growth); the rest "
                     "are summed in stack_id=other.",
                     MetricType::Gauge, base);
    int64_t folded = 0, folded_stacks = 0;
    for (const StackSummary* st : chosen) AddStackSeries(&fb, *st, o, cap);
    for (const StackSummary& st : s.stacks) {
      if (chosen_ids.count(st.id)) continue;
      folded += st.count;
      ++folded_stacks;
    }
    Labels other = {{"stack_id", "other"}, {"category", "other"}, {"function", ""}};
    fb.Gauge(WithKeys(other, o.label_keys, std::vector<std::string>(o.label_keys.size())),
             static_cast<double>(folded));
    out.push_back(fb.Take());
    gauge("goroutine_stack_folded_stacks", "Stacks folded into stack_id=other.",
          static_cast<double>(folded_stacks));
  }
  {
    FamilyBuilder fb("goroutine_stack_creator_info",
                     "Always 1; the function that started the goroutines of an exported stack, "
                     "from the last debug=2 fetch (join on stack_id).",
                     MetricType::Gauge, base);
    for (const StackSummary* st : chosen) {
      std::string creator = CreatorOf(*st, r.debug2.get());
      if (!creator.empty()) fb.Gauge({{"stack_id", st->id}, {"created_by", creator}}, 1);
    }
    out.push_back(fb.Take());
  }

  // Wait ages, from the last debug=2 fetch.
  if (r.debug2) {
    const Snapshot& d = *r.debug2;
    FamilyBuilder oldest("goroutine_wait_oldest_seconds",
                         "Longest wait in the last debug=2 fetch (minute resolution, lower bound).",
                         MetricType::Gauge, base);
    FamilyBuilder hist("goroutine_wait_age_seconds",
                       "Wait ages of goroutines in the last debug=2 fetch (minute resolution; "
                       "goroutines without a printed wait count as 0, those marked leaked are "
                       "left out: their wait is not printed).",
                       MetricType::Histogram, base);
    for (int i = 0; i < kCategoryCount; ++i) {
      const WaitStats& w = d.wait_by_category[i];
      const int64_t n = d.by_category[i] - w.unknown;
      if (n <= 0) continue;
      Labels l = {{"category", std::string(CategoryName(static_cast<Category>(i)))}};
      oldest.Gauge(l, w.max_minutes > 0 ? w.max_minutes * 60.0 : 0.0);
      ClientMetric& m = hist.Add(l);
      m.histogram.sample_count = static_cast<uint64_t>(n);
      m.histogram.sample_sum = w.sum_minutes * 60.0;
      int64_t without = n - w.with_minutes;  // waited less than a minute (or no GC since)
      for (std::size_t b = 0; b < kWaitBucketMinutes.size(); ++b) {
        ClientMetric::Bucket bucket;
        bucket.upper_bound = kWaitBucketMinutes[b] * 60.0;
        bucket.cumulative_count = static_cast<uint64_t>(without + w.le_bucket[b]);
        m.histogram.bucket.push_back(bucket);
      }
    }
    out.push_back(oldest.Take());
    out.push_back(hist.Take());
  }

  // GC-proven leaks, from the last goroutineleak fetch.
  if (r.leak) {
    const Snapshot& l = *r.leak;
    gauge("goroutine_gc_leaked_goroutines",
          "Goroutines the garbage collector proved leaked (last goroutineleak fetch).",
          static_cast<double>(GcLeakedTotal(l)));
    FamilyBuilder fb("goroutine_gc_leaked_stack_goroutines",
                     "GC-proven leaked goroutines per stack (top-K by leaked goroutines); the "
                     "rest, if any, are summed in stack_id=other.",
                     MetricType::Gauge, base);
    std::vector<std::pair<int64_t, const StackSummary*>> leaked;
    for (const StackSummary& st : l.stacks) {
      if (const int64_t n = GcLeakedIn(l, st); n > 0) leaked.emplace_back(n, &st);
    }
    // debug=2 lists stacks by all their goroutines, not by the leaked ones.
    std::stable_sort(leaked.begin(), leaked.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    int64_t folded = 0;
    for (std::size_t i = 0; i < leaked.size(); ++i) {
      const auto& [n, st] = leaked[i];
      if (static_cast<int>(i) >= o.top_k) {
        folded += n;
        continue;
      }
      fb.Gauge({{"stack_id", st->id},
                {"category", std::string(CategoryName(st->category))},
                {"function", std::string(st->function())}},
               static_cast<double>(n));
    }
    if (folded > 0) {
      fb.Gauge({{"stack_id", "other"}, {"category", "other"}, {"function", ""}},
               static_cast<double>(folded));
    }
    out.push_back(fb.Take());
  }
  return out;
}

void AppendFamilies(std::vector<MetricFamily>* into, std::vector<MetricFamily>&& from) {
  for (MetricFamily& f : from) {
    auto it = std::find_if(into->begin(), into->end(),
                           [&](const MetricFamily& g) { return g.name == f.name; });
    if (it == into->end()) {
      into->push_back(std::move(f));
    } else {
      for (auto& m : f.metric) it->metric.push_back(std::move(m));
    }
  }
}

std::string SerializeText(const std::vector<MetricFamily>& families) {
  std::string out;
  AppendTextFormat(families, &out);
  return out;
}

}  // namespace gx
