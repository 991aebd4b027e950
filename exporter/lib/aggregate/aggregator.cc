#include "aggregate/aggregator.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "decode/profile_decoder.h"
#include "decode/text_util.h"
#include "normalize/stack_identity.h"

namespace gx {

void WaitStats::Add(int64_t minutes, int64_t count) {
  if (minutes < 0) return;
  with_minutes += count;
  sum_minutes += minutes * count;
  max_minutes = std::max(max_minutes, minutes);
  for (std::size_t i = 0; i < kWaitBucketMinutes.size(); ++i) {
    if (minutes <= kWaitBucketMinutes[i]) le_bucket[i] += count;
  }
}

void WaitStats::Merge(const WaitStats& o) {
  with_minutes += o.with_minutes;
  sum_minutes += o.sum_minutes;
  max_minutes = std::max(max_minutes, o.max_minutes);
  for (std::size_t i = 0; i < le_bucket.size(); ++i) le_bucket[i] += o.le_bucket[i];
}

const StackSummary* Snapshot::FindStack(const std::string& id) const {
  for (const StackSummary& s : stacks) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

Aggregator::Aggregator(const Classifier* classifier, const Limits& limits)
    : classifier_(classifier), limits_(limits) {}

bool Aggregator::IsSelfSample(const RawRecord& record) {
  // The goroutine that serves the profile request is always in it (FORMATS.md §1).
  for (const RawFrame& f : record.frames) {
    if (StartsWith(f.function, "runtime/pprof.write") ||
        f.function == "runtime/pprof.runtime_goroutineProfileWithLabels" ||
        f.function == "runtime.goroutineProfileWithLabels") {
      return true;
    }
  }
  return false;
}

void Aggregator::OnRecord(RawRecord&& record) {
  if (IsSelfSample(record)) {
    self_excluded_ += record.count;
    return;
  }
  key_.clear();
  for (const RawFrame& f : record.frames) {
    key_ += f.function;
    key_ += '\n';
  }
  key_ += '\x1e';
  key_ += record.state;
  key_ += '\x1e';
  key_ += record.created_by;
  for (const auto& [k, v] : record.labels) {
    key_ += '\x1e';
    key_ += k;
    key_ += '\x1f';
    key_ += v;
  }
  auto it = index_.find(key_);
  Bucket* bucket;
  if (it != index_.end()) {
    bucket = &buckets_[it->second];
  } else if (buckets_.size() >= limits_.max_buckets) {
    overflow_ += record.count;
    return;
  } else {
    index_.emplace(key_, buckets_.size());
    buckets_.emplace_back();
    bucket = &buckets_.back();
    bucket->sample = std::move(record);
    record = RawRecord();
    record.count = bucket->sample.count;
    record.wait_minutes = bucket->sample.wait_minutes;
    record.leaked = bucket->sample.leaked;
    record.locked_to_thread = bucket->sample.locked_to_thread;
  }
  bucket->count += record.count;
  if (record.leaked) bucket->leaked += record.count;
  if (record.locked_to_thread) bucket->locked += record.count;
  bucket->wait.Add(record.wait_minutes, record.count);
}

Snapshot Aggregator::Finalize(const DecodeInfo& info) {
  Snapshot snap;
  snap.info = info;
  snap.total = info.stated_total;
  snap.self_excluded = self_excluded_;
  snap.overflow_goroutines = overflow_;
  snap.has_wait_reasons = info.format == ProfileFormat::kDebug2;
  snap.has_runtime_frames = info.format == ProfileFormat::kProto;

  struct Merge {
    StackSummary summary;
    int64_t best_bucket_count = -1;
    std::map<std::string, std::pair<int64_t, std::string>> creators;  // name -> count, at
    std::map<std::string, int64_t> states;
    std::map<LabelSet, int64_t> labels;
  };
  std::unordered_map<std::string, Merge> by_id;
  std::vector<std::string> order;
  int64_t hidden_in_debug1 = 0;

  for (Bucket& b : buckets_) {
    ClassifyInput in;
    in.frames = &b.sample.frames;
    in.state = b.sample.state;
    in.created_by = b.sample.created_by;
    in.labels = &b.sample.labels;
    in.format = info.format;
    Classification c = classifier_->Classify(in);
    if (c.rule == "primitive-hidden-in-debug1") hidden_in_debug1 += b.count;
    snap.by_category[static_cast<int>(c.category)] += b.count;
    snap.wait_by_category[static_cast<int>(c.category)].Merge(b.wait);

    StackIdentity identity = ComputeStackIdentity(b.sample.frames, limits_);
    auto [it, inserted] = by_id.try_emplace(identity.id);
    Merge& m = it->second;
    StackSummary& s = m.summary;
    if (inserted) {
      order.push_back(identity.id);
      s.id = identity.id;
      s.identity = std::move(identity.functions);
      s.frames = b.sample.frames;
      s.frames_elided = b.sample.frames_elided;
      int app = FirstApplicationFrame(s.frames);
      if (app >= 0) {
        s.function = s.frames[app].function;
        if (!s.frames[app].file.empty()) {
          s.location = s.frames[app].file + ":" + std::to_string(s.frames[app].line);
        }
      }
    }
    if (b.count > m.best_bucket_count) {
      m.best_bucket_count = b.count;
      s.category = c.category;
      s.rule = c.rule;
    }
    s.count += b.count;
    s.leaked += b.leaked;
    s.locked_to_thread += b.locked;
    s.frames_elided = s.frames_elided || b.sample.frames_elided;
    s.wait.Merge(b.wait);
    if (!b.sample.created_by.empty() &&
        (m.creators.size() < limits_.max_creators_per_stack ||
         m.creators.count(b.sample.created_by))) {
      auto& entry = m.creators[b.sample.created_by];
      entry.first += b.count;
      entry.second = b.sample.created_at;
    }
    if (!b.sample.state.empty()) m.states[b.sample.state] += b.count;
    m.labels[b.sample.labels] += b.count;
  }

  for (const std::string& id : order) {
    Merge& m = by_id[id];
    StackSummary& s = m.summary;
    int64_t best = -1;
    for (const auto& [name, entry] : m.creators) {
      if (entry.first > best) {
        best = entry.first;
        s.created_by = name;
        s.created_at = entry.second;
      }
    }
    best = -1;
    for (const auto& [state, n] : m.states) {
      if (n > best) {
        best = n;
        s.state = state;
      }
    }
    for (auto& [labels, n] : m.labels) s.labels.push_back({labels, n});
    std::stable_sort(s.labels.begin(), s.labels.end(),
                     [](const LabelCount& a, const LabelCount& b) { return a.count > b.count; });
    snap.stacks.push_back(std::move(s));
  }
  std::stable_sort(snap.stacks.begin(), snap.stacks.end(),
                   [](const StackSummary& a, const StackSummary& b) {
                     if (a.count != b.count) return a.count > b.count;
                     return a.id < b.id;
                   });

  if (hidden_in_debug1 > 0) {
    snap.notes.push_back(
        "debug=1 hides the runtime frames that show chan send/receive and select waits: " +
        std::to_string(hidden_in_debug1) +
        " goroutines are 'unknown' instead of guessed; fetch debug=0 (as cheap) or debug=2 "
        "for their category");
  }
  if (info.truncated) {
    snap.notes.push_back("the capture is truncated: counts are a lower bound");
  }
  if (overflow_ > 0) {
    snap.notes.push_back(std::to_string(overflow_) + " goroutines beyond the cap of " +
                         std::to_string(limits_.max_buckets) +
                         " distinct stacks are counted in totals only");
    snap.by_category[static_cast<int>(Category::kUnknown)] += overflow_;
  }
  if (info.format == ProfileFormat::kDebug2 && info.kind == ProfileKind::kGoroutineLeak) {
    snap.notes.push_back("goroutineleak?debug=2 lists all goroutines; leaked ones are marked");
  }
  for (const std::string& w : info.warnings) snap.notes.push_back(w);
  return snap;
}

Result<Snapshot> AnalyzeBody(std::string_view body, const Classifier& classifier,
                             const Limits& limits, const std::string& source) {
  Aggregator aggregator(&classifier, limits);
  auto info = DecodeProfile(body, &aggregator, limits);
  if (!info.ok()) return info.status();
  Snapshot snap = aggregator.Finalize(info.value());
  snap.source = source;
  return snap;
}

}  // namespace gx
