#include "aggregate/aggregator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include "classify/classify_memo.h"
#include "common/hash.h"
#include "decode/profile_decoder.h"
#include "decode/text_util.h"
#include "normalize/stack_identity.h"

namespace gx {
namespace {

constexpr uint32_t kNoBucket = UINT32_MAX;
// A stack kept to one frame past the frame-text budget keeps at most this much of that frame's
// name and of its file: enough to tell it apart in a report.
constexpr std::size_t kBriefSymbolBytes = 96;
const LabelSet kNoLabels;

const LabelSet& LabelsOf(const RecordView& r) { return r.labels ? *r.labels : kNoLabels; }

// What a label set costs a bucket: its text, and a string pair's own size per label.
std::size_t LabelTextBytes(const LabelSet& labels) {
  std::size_t bytes = 0;
  for (const auto& [k, v] : labels) bytes += k.size() + v.size() + sizeof(labels[0]);
  return bytes;
}

void AddWait(const RecordView& r, WaitStats* wait) {
  if (r.leaked && r.wait_minutes < 0) {
    wait->AddUnknown(r.count);
  } else {
    wait->Add(r.wait_minutes, r.count);
  }
}

}  // namespace

Aggregator::Aggregator(const Classifier* classifier, const Limits& limits,
                       StackShapeCache* shapes, MemoryCharge* charge)
    : classifier_(classifier), limits_(limits), shapes_(shapes), charge_(charge),
      slots_(64, kNoBucket),
      label_text_left_(limits.max_label_text_bytes) {}

// Buckets are found by a hash of the record's function ids, state, creator and labels, and
// confirmed by comparing those in full.
uint64_t Aggregator::KeyHash(const RecordView& r) const {
  uint64_t h = ids_.size();
  for (uint32_t id : ids_) h = HashMix(h, id);
  h = HashMix(h, HashBytes(r.state));
  h = HashMix(h, HashBytes(r.created_by));
  for (const auto& [k, v] : LabelsOf(r)) h = HashMix(HashMix(h, HashBytes(k)), HashBytes(v));
  return h;
}

bool Aggregator::SameKey(const Bucket& b, const RecordView& r) const {
  return b.frame_count == ids_.size() &&
         (ids_.empty() || std::memcmp(frame_functions_.data() + b.frames_begin, ids_.data(),
                                      ids_.size() * sizeof(uint32_t)) == 0) &&
         b.state == r.state && b.created_by == r.created_by && b.labels == LabelsOf(r);
}

Aggregator::Bucket* Aggregator::FindBucket(uint64_t hash, const RecordView& record) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t index = slots_[i];
    if (index == kNoBucket) return nullptr;
    Bucket& b = buckets_[index];
    if (b.hash == hash && SameKey(b, record)) return &b;
  }
}

void Aggregator::IndexBucket(uint32_t index) {
  if (2 * buckets_.size() > slots_.size()) {
    std::vector<uint32_t> bigger(slots_.size() * 2, kNoBucket);
    slots_.swap(bigger);
    for (uint32_t b = 0; b < index; ++b) IndexBucket(b);
  }
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = buckets_[index].hash & mask;
  while (slots_[i] != kNoBucket) i = (i + 1) & mask;
  slots_[i] = index;
}

void Aggregator::AddBucket(const RecordView& record) {
  const uint32_t index = static_cast<uint32_t>(buckets_.size());
  Bucket& b = buckets_.emplace_back();
  b.frames_begin = static_cast<uint32_t>(frame_functions_.size());
  b.frame_count = static_cast<uint32_t>(record.frames.size());
  for (std::size_t i = 0; i < record.frames.size(); ++i) {
    const FrameView& f = record.frames[i];
    // Function ids are all known by now; files are interned here, for new buckets only.
    uint32_t file = InternTable::kNone;
    if (f.function_key != 0 && f.function_key < keys_.size()) file = keys_[f.function_key].file;
    if (file == InternTable::kNone) {
      file = files_.Insert(f.file);
      if (f.function_key != 0) keys_[f.function_key].file = file;
    }
    frame_functions_.push_back(ids_[i]);
    frame_details_.push_back(FrameDetail{file, f.inlined, f.line, f.start_line});
  }
  b.frames_elided = record.frames_elided;
  b.state.assign(record.state);
  b.created_by.assign(record.created_by);
  b.created_at.assign(record.created_at);
  b.labels = LabelsOf(record);
  b.count = record.count;
  if (record.leaked) b.leaked = record.count;
  if (record.locked_to_thread) b.locked = record.count;
  AddWait(record, &b.wait);
  b.hash = KeyHash(record);
  IndexBucket(index);
}

void Aggregator::OnRecord(RawRecord&& record) {
  frame_views_.clear();
  for (const RawFrame& f : record.frames) {
    frame_views_.push_back(FrameView{f.function, f.file, f.line, f.start_line, f.inlined, 0});
  }
  OnRecordView(ViewOf(record, frame_views_));
}

uint32_t Aggregator::QuickFind(std::string_view name) {
  // A slot from the length and the first and last 8 bytes (names differ in one or the other:
  // "runtime.gopark" / "runtime.goparkunlock", "main.worker" / "main.writer"); a collision only
  // costs the full lookup.
  uint64_t head = 0, tail = 0;
  if (name.size() >= 8) {
    std::memcpy(&head, name.data(), 8);
    std::memcpy(&tail, name.data() + name.size() - 8, 8);
  } else {
    std::memcpy(&head, name.data(), name.size());
  }
  uint32_t& slot = recent_names_[HashMix(head ^ name.size(), tail) & (kRecentNames - 1)];
  if (slot != FunctionTable::kNone && SameBytes(functions_.recorded_name(slot), name)) return slot;
  const uint32_t id = functions_.Find(name);
  if (id != FunctionTable::kNone) slot = id;
  return id;
}

bool Aggregator::OnRecordView(const RecordView& record) {
  // Name every frame's function by its id: through the decoder's key when it has one (no
  // hashing), else by looking the name up. Names are only added for a new bucket, below.
  const std::size_t n = record.frames.size();
  ids_.resize(n);
  bool all_known = true;
  bool self = false;
  for (std::size_t i = 0; i < n; ++i) {
    const FrameView& f = record.frames[i];
    const uint32_t key = f.function_key;
    uint32_t id = key != 0 && key < keys_.size() ? keys_[key].function : FunctionTable::kNone;
    if (id == FunctionTable::kNone && key == 0) {
      id = QuickFind(f.function);
    } else if (id == FunctionTable::kNone) {
      id = functions_.Find(f.function);
      if (id != FunctionTable::kNone && key != 0) {
        if (key >= keys_.size()) keys_.resize(key + 1);
        keys_[key].function = id;
      }
    }
    ids_[i] = id;
    if (id == FunctionTable::kNone) {
      all_known = false;
      self = self || FunctionTable::IsSelfSampleFunction(f.function);
    } else {
      self = self || functions_.traits(id).self_sample;
    }
  }
  // The goroutine that serves the profile request is always in it (FORMATS.md §1).
  if (self) {
    self_excluded_ += record.count;
    return true;
  }
  Bucket* bucket = nullptr;
  if (all_known) {
    // Goroutines of one stack often come one after another in a dump: try the last bucket
    // before hashing. (A record naming a function not yet in the table has no bucket.)
    if (last_bucket_ < buckets_.size() && SameKey(buckets_[last_bucket_], record)) {
      bucket = &buckets_[last_bucket_];
    } else {
      bucket = FindBucket(KeyHash(record), record);
    }
  }
  // What a new bucket's label set would hold, checked, charged and taken from the budget once.
  const std::size_t label_bytes = !bucket && record.labels ? LabelTextBytes(*record.labels) : 0;
  if (label_bytes > label_text_left_) {
    // Past the label budget: counted under the same stack without labels.
    labels_dropped_ += record.count;
    RecordView unlabeled = record;
    unlabeled.labels = nullptr;
    return OnRecordView(unlabeled);
  }
  if (!bucket) {
    if (buckets_.size() >= limits_.max_buckets ||
        frame_functions_.size() + n > limits_.max_bucket_frames) {
      overflow_ += record.count;
      return true;
    }
    if (charge_) {
      // The bucket, its frames and strings, and the names and files of functions new to
      // this capture.
      std::size_t bytes = sizeof(Bucket) + 2 * sizeof(uint32_t) +
                          n * (sizeof(uint32_t) + sizeof(FrameDetail)) + record.state.size() +
                          record.created_by.size() + record.created_at.size() + label_bytes;
      for (std::size_t i = 0; i < n; ++i) {
        if (ids_[i] == FunctionTable::kNone) {
          bytes += record.frames[i].function.size() + record.frames[i].file.size() + 64;
        }
      }
      if (!charge_->Add(bytes)) {
        over_budget_ += record.count;
        return true;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (ids_[i] != FunctionTable::kNone) continue;
      ids_[i] = functions_.Insert(record.frames[i].function);
      const uint32_t key = record.frames[i].function_key;
      if (key != 0) {
        if (key >= keys_.size()) keys_.resize(key + 1);
        keys_[key].function = ids_[i];
      }
    }
    AddBucket(record);
    label_text_left_ -= label_bytes;  // it fit: checked above
    return true;
  }
  last_bucket_ = static_cast<std::size_t>(bucket - buckets_.data());
  bucket->count += record.count;
  if (record.leaked) bucket->leaked += record.count;
  if (record.locked_to_thread) bucket->locked += record.count;
  AddWait(record, &bucket->wait);
  return true;
}

namespace {

// Everything merged into one stack, before it becomes a StackSummary.
struct StackMerge {
  uint64_t hash = 0;
  // The stack's buckets by category: the first category inline, others (rare: the same
  // functions blocked at another line) after it. The category with the most goroutines is
  // the stack's, and the largest bucket in it gives the frames, location and rule.
  struct CategoryGroup {
    int64_t count = 0;
    uint32_t best_bucket = 0;
    int64_t best_bucket_count = -1;
    ClassificationRef classification;
    void Add(uint32_t bucket, int64_t n, const ClassificationRef& c) {
      count += n;
      if (n > best_bucket_count) {
        best_bucket_count = n;
        best_bucket = bucket;
        classification = c;
      }
    }
  };
  CategoryGroup first_group;
  std::vector<CategoryGroup> more_groups;
  CategoryGroup& GroupFor(Category c) {
    if (first_group.classification.category == c) return first_group;
    for (CategoryGroup& g : more_groups) {
      if (g.classification.category == c) return g;
    }
    return more_groups.emplace_back();
  }
  const CategoryGroup& Largest() const {
    const CategoryGroup* best = &first_group;
    for (const CategoryGroup& g : more_groups) {
      if (g.count > best->count) best = &g;
    }
    return *best;
  }
  int64_t count = 0;
  int64_t leaked = 0;
  int64_t locked = 0;
  bool frames_elided = false;
  WaitStats wait;
  struct Creator {
    std::string_view name;
    int64_t count = 0;
    std::string_view at;
  };
  std::vector<Creator> creators;
  std::vector<std::pair<std::string_view, int64_t>> states;
  // Label sets with counts: the first one inline, since most stacks have just one.
  std::pair<const LabelSet*, int64_t> first_labels{nullptr, 0};
  std::vector<std::pair<const LabelSet*, int64_t>> more_labels;
};

// A stack's goroutines per category other than its own, most first (ties by category).
std::vector<std::pair<Category, int64_t>> OtherCategories(const StackMerge& m) {
  const Category own = m.Largest().classification.category;
  std::vector<std::pair<Category, int64_t>> out;
  auto add = [&](const StackMerge::CategoryGroup& g) {
    if (g.classification.category != own) out.emplace_back(g.classification.category, g.count);
  };
  add(m.first_group);
  for (const StackMerge::CategoryGroup& g : m.more_groups) add(g);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

// The most frequent state; ties go to the smallest name.
std::string MostFrequentState(std::vector<std::pair<std::string_view, int64_t>>* states) {
  std::sort(states->begin(), states->end());
  std::string_view best;
  int64_t best_count = -1;
  for (std::size_t i = 0; i < states->size();) {
    std::size_t j = i;
    int64_t n = 0;
    for (; j < states->size() && (*states)[j].first == (*states)[i].first; ++j) {
      n += (*states)[j].second;
    }
    if (n > best_count) {
      best_count = n;
      best = (*states)[i].first;
    }
    i = j;
  }
  return std::string(best);
}

// Distinct label sets with their counts, most frequent first (whole sets before trimmed ones,
// then in label-set order). Sets are kept whole while *left (label text a snapshot keeps)
// lasts, this stack's most frequent first after the stacks before it; from the first that does
// not fit, only their `keep` keys are (the module's label_keys, so the series they split stay
// exact), sets that come out alike are merged, and *cut counts the goroutines whose sets lost
// keys.
std::vector<LabelCount> LabelCounts(StackMerge* m, const std::vector<std::string>& keep,
                                    std::size_t* left, int64_t* cut) {
  // Equal sets merged, on pointers: only what is kept is copied.
  std::vector<std::pair<const LabelSet*, int64_t>> distinct;
  if (m->more_labels.empty()) {
    distinct.push_back(m->first_labels);
  } else {
    auto* labels = &m->more_labels;
    labels->insert(labels->begin(), m->first_labels);
    std::stable_sort(labels->begin(), labels->end(),
                     [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (std::size_t i = 0; i < labels->size();) {
      std::size_t j = i;
      int64_t n = 0;
      for (; j < labels->size() && *(*labels)[j].first == *(*labels)[i].first; ++j) {
        n += (*labels)[j].second;
      }
      distinct.emplace_back((*labels)[i].first, n);
      i = j;
    }
    std::stable_sort(distinct.begin(), distinct.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  std::vector<LabelCount> out;
  std::map<LabelSet, int64_t> projected;
  for (const auto& [set, n] : distinct) {
    const std::size_t bytes = LabelTextBytes(*set);
    if (bytes <= *left) {
      *left -= bytes;
      out.push_back({*set, n});
      continue;
    }
    *left = 0;
    LabelSet kept;
    for (const auto& kv : *set) {
      if (std::find(keep.begin(), keep.end(), kv.first) != keep.end()) kept.push_back(kv);
    }
    if (kept.size() != set->size()) *cut += n;
    projected[std::move(kept)] += n;
  }
  if (projected.empty()) return out;
  for (auto& [set, n] : projected) out.push_back({set, n, true});
  std::stable_sort(out.begin(), out.end(),
                   [](const LabelCount& a, const LabelCount& b) { return a.count > b.count; });
  return out;
}

}  // namespace

std::vector<uint64_t> Aggregator::IdentityHashes(std::vector<uint32_t>* kept) const {
  // Each bucket's identity names, flattened ("name\n" each) a batch at a time and hashed
  // side by side (gx::IdentityHashes).
  constexpr std::size_t kBatch = 256;
  std::vector<uint64_t> hashes(buckets_.size());
  std::string flat;
  std::vector<std::size_t> ends;
  std::vector<std::string_view> inputs;
  for (std::size_t begin = 0; begin < buckets_.size(); begin += kBatch) {
    const std::size_t end = std::min(buckets_.size(), begin + kBatch);
    flat.clear();
    ends.clear();
    for (std::size_t bi = begin; bi < end; ++bi) {
      const Bucket& b = buckets_[bi];
      const uint32_t* ids = frame_functions_.data() + b.frames_begin;
      auto traits = [&](std::size_t i) -> const FunctionTraits& {
        return functions_.traits(ids[i]).identity;
      };
      IdentityFramesOf(b.frame_count, traits, limits_.identity_frames, kept);
      for (uint32_t i : *kept) {
        flat += functions_.name(ids[i]);
        flat += '\n';
      }
      ends.push_back(flat.size());
    }
    inputs.clear();
    std::size_t from = 0;
    for (std::size_t to : ends) {
      inputs.push_back(std::string_view(flat).substr(from, to - from));
      from = to;
    }
    gx::IdentityHashes(inputs.data(), inputs.size(), hashes.data() + begin);
  }
  return hashes;
}

bool Aggregator::SameShape(const Bucket& b, const StackShape& shape) const {
  if (shape.frames.size() != b.frame_count || shape.identity_frames != limits_.identity_frames) {
    return false;
  }
  const uint32_t* ids = frame_functions_.data() + b.frames_begin;
  const FrameDetail* details = frame_details_.data() + b.frames_begin;
  for (std::size_t i = 0; i < b.frame_count; ++i) {
    const ShapeFrame& f = shape.frames[i];
    if (f.line != details[i].line || f.start_line != details[i].start_line ||
        f.inlined != details[i].inlined || f.function != functions_.name(ids[i]) ||
        f.file != files_[details[i].file]) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<const StackShape> Aggregator::ShapeOf(const Bucket& b,
                                                      std::vector<uint32_t>* kept,
                                                      bool* brief) {
  *brief = false;
  const uint32_t* ids = frame_functions_.data() + b.frames_begin;
  const FrameDetail* details = frame_details_.data() + b.frames_begin;
  const std::size_t n = b.frame_count;
  auto same = [&](const StackShape& shape) { return SameShape(b, shape); };
  uint64_t fingerprint = HashMix(n, limits_.identity_frames);
  if (shapes_) {
    for (std::size_t i = 0; i < n; ++i) {
      const FrameDetail& d = details[i];
      fingerprint = HashMix(fingerprint, functions_.name_hash(ids[i]));
      fingerprint = HashMix(fingerprint, files_.hash(d.file));
      fingerprint = HashMix(fingerprint, static_cast<uint64_t>(d.line) * 2 + d.inlined);
      fingerprint = HashMix(fingerprint, static_cast<uint64_t>(d.start_line));
    }
    if (auto cached = shapes_->Find(fingerprint, same)) return cached;
  }
  auto traits = [&](std::size_t i) -> const FunctionTraits& {
    return functions_.traits(ids[i]).identity;
  };
  auto shape = std::make_shared<StackShape>();
  shape->identity_frames = limits_.identity_frames;
  // All names and files go into one block, reserved whole first so that it never moves and
  // the views taken while filling it stay valid.
  std::size_t text_bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    text_bytes += functions_.name(ids[i]).size() + files_[details[i].file].size();
  }
  const bool refused =
      text_bytes <= shape_text_left_ && charge_ &&
      !charge_->Add(text_bytes + n * sizeof(ShapeFrame) + sizeof(StackShape));
  shapes_over_budget_ += refused;
  if (text_bytes > shape_text_left_ || refused) {
    // Hostile or absurd profiles (thousands of stacks of hundreds of long names each) would
    // hold gigabytes, and the exporter's budget may be taken by other captures: the rest keep
    // the one frame the metrics and reports name. Not cached.
    *brief = true;
    const int app = FirstApplicationFrameOf(n, traits);
    if (app >= 0) {
      // That frame's name and file come out of the same budget while it lasts, then are cut
      // short: 20,000 stacks of 1 KiB names would otherwise hold 40 MB more.
      const std::string_view name = functions_.name(ids[app]);
      const std::string_view file = files_[details[app].file];
      const std::size_t max = name.size() + file.size() <= shape_text_left_ ? SIZE_MAX
                                                                             : kBriefSymbolBytes;
      if (max == SIZE_MAX) shape_text_left_ -= name.size() + file.size();
      AppendBounded(&shape->text, name, max);
      shape->function = shape->text;
      if (!file.empty()) {
        AppendBounded(&shape->location, file, max);
        shape->location.append(":").append(std::to_string(details[app].line));
      }
    }
    return shape;
  }
  shape_text_left_ -= text_bytes;
  std::string& text = shape->text;
  text.reserve(text_bytes);
  auto append = [&text](std::string_view s) {
    const std::size_t at = text.size();
    text.append(s);
    return std::string_view(text).substr(at, s.size());
  };
  shape->frames.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    ShapeFrame& f = shape->frames[i];
    f.function = append(functions_.name(ids[i]));
    f.file = append(files_[details[i].file]);
    f.line = details[i].line;
    f.start_line = details[i].start_line;
    f.inlined = details[i].inlined;
  }
  IdentityFramesOf(n, traits, limits_.identity_frames, kept);
  shape->identity.reserve(kept->size());
  for (uint32_t i : *kept) shape->identity.push_back(shape->frames[i].function);
  int app = FirstApplicationFrameOf(n, traits);
  if (app >= 0) {
    const ShapeFrame& f = shape->frames[app];
    shape->function = f.function;
    if (!f.file.empty()) {
      shape->location.reserve(f.file.size() + 12);
      shape->location.append(f.file).append(":").append(std::to_string(f.line));
    }
  }
  if (!shapes_) return shape;
  return shapes_->Insert(fingerprint, std::move(shape), same);
}

Snapshot Aggregator::Finalize(const DecodeInfo& info) {
  Snapshot snap;
  snap.info = info;
  snap.total = info.stated_total;
  snap.self_excluded = self_excluded_;
  snap.overflow_goroutines = overflow_;
  snap.has_wait_reasons = info.format == ProfileFormat::kDebug2;
  snap.has_runtime_frames = info.format == ProfileFormat::kProto;

  // 1. Classify every bucket and merge buckets into stacks by identity, on ids and views.
  ClassifyMemo memo(classifier_);
  const std::size_t words = memo.function_words();
  std::vector<uint64_t> any(words), blocked(words);
  std::vector<StackMerge> merges;
  merges.reserve(buckets_.size());
  // merges index by identity hash: open addressing, sized once for every bucket.
  std::size_t capacity = 16;
  while (capacity < 2 * buckets_.size()) capacity *= 2;
  std::vector<uint32_t> merge_slots(capacity, kNoBucket);
  std::vector<uint32_t> kept;  // scratch: identity frames
  const std::vector<uint64_t> identity_hashes = IdentityHashes(&kept);
  int64_t hidden_in_debug1 = 0;
  int64_t brief_shapes = 0;
  shape_text_left_ = limits_.max_shape_text_bytes;
  int64_t chan_op_without_start = 0;  // channel waits that may be on nil channels
  std::size_t snapshot_label_left = limits_.max_snapshot_label_bytes;
  int64_t labels_cut = 0;  // goroutines whose label sets keep only keep_label_keys_

  for (uint32_t bi = 0; bi < buckets_.size(); ++bi) {
    Bucket& b = buckets_[bi];
    const uint32_t* ids = frame_functions_.data() + b.frames_begin;
    const FrameDetail* details = frame_details_.data() + b.frames_begin;
    const std::size_t n = b.frame_count;
    auto traits = [&](std::size_t i) -> const FunctionTraits& {
      return functions_.traits(ids[i]).identity;
    };

    ClassifyStack stack;
    stack.frame_count = n;
    stack.state = b.state;
    stack.created_by = b.created_by;
    stack.labels = &b.labels;
    stack.format = info.format;
    ClassifyMatches matches;
    if (n > 0) {
      // Every frame's bits OR-ed into `any`, and those of the frames where it blocks into
      // `blocked` too.
      std::fill(any.begin(), any.end(), 0);
      std::fill(blocked.begin(), blocked.end(), 0);
      const std::size_t blocking = BlockingFramesOf(n, traits);
      for (std::size_t i = 0; i < n; ++i) {
        const uint64_t* bits = memo.FunctionBits(ids[i], functions_.name(ids[i]));
        for (std::size_t w = 0; w < words; ++w) any[w] |= bits[w];
        if (i < blocking) {
          for (std::size_t w = 0; w < words; ++w) blocked[w] |= bits[w];
        }
      }
      // Taken once every frame is matched: matching a new name may move the bits.
      matches.any = any.data();
      matches.blocked = blocked.data();
      matches.leaf = memo.FunctionBits(ids[0], functions_.name(ids[0]));
      int visible = FirstVisibleFrameOf(n, traits);
      matches.top = memo.FunctionBits(ids[visible], functions_.name(ids[visible]));
      stack.leaf_function = functions_.name(ids[0]);
      for (std::size_t i = 0; i < n; ++i) {
        if (functions_.traits(ids[i]).chan_op) {
          stack.nil_chan_frames = IsNilChanCall(details[i].line, details[i].start_line);
          // Without the function's first line (Go <= 1.20 writes none) the call's offset in
          // it, which tells nil channels apart, is unknown.
          if (details[i].start_line <= 0 && b.state.empty()) chan_op_without_start += b.count;
          break;
        }
      }
    }
    if (!b.state.empty()) matches.state = memo.StateBits(b.state);
    if (!b.created_by.empty()) matches.created_by = memo.CreatedByBits(b.created_by);
    ClassificationRef c = classifier_->Classify(stack, matches);
    if (c.rule == kHiddenInDebug1Rule.name) hidden_in_debug1 += b.count;
    snap.by_category[static_cast<int>(c.category)] += b.count;
    snap.wait_by_category[static_cast<int>(c.category)].Merge(b.wait);

    const uint64_t hash = identity_hashes[bi];
    std::size_t slot = hash & (capacity - 1);
    while (merge_slots[slot] != kNoBucket && merges[merge_slots[slot]].hash != hash) {
      slot = (slot + 1) & (capacity - 1);
    }
    const bool inserted = merge_slots[slot] == kNoBucket;
    if (inserted) {
      merge_slots[slot] = static_cast<uint32_t>(merges.size());
      StackMerge& fresh = merges.emplace_back();
      fresh.hash = hash;
      fresh.frames_elided = b.frames_elided;
      fresh.first_group.classification = c;
    }
    StackMerge& m = merges[merge_slots[slot]];
    m.GroupFor(c.category).Add(bi, b.count, c);
    m.count += b.count;
    m.leaked += b.leaked;
    m.locked += b.locked;
    m.frames_elided = m.frames_elided || b.frames_elided;
    m.wait.Merge(b.wait);
    if (!b.created_by.empty()) {
      auto creator = std::find_if(m.creators.begin(), m.creators.end(),
                                  [&](const auto& e) { return e.name == b.created_by; });
      if (creator != m.creators.end()) {
        creator->count += b.count;
        creator->at = b.created_at;
      } else if (m.creators.size() < limits_.max_creators_per_stack) {
        m.creators.push_back({b.created_by, b.count, b.created_at});
      }
    }
    if (!b.state.empty()) m.states.emplace_back(b.state, b.count);
    if (!m.first_labels.first) {
      m.first_labels = {&b.labels, b.count};
    } else {
      m.more_labels.emplace_back(&b.labels, b.count);
    }
  }

  // 2. Most goroutines first; equal counts by id (hex of the hash, so hash order).
  std::vector<uint32_t> order(merges.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const StackMerge& x = merges[a];
    const StackMerge& y = merges[b];
    if (x.count != y.count) return x.count > y.count;
    return x.hash < y.hash;
  });

  // 3. Only now build the strings, stack after stack in the final order (shapes come from the
  // cache when these frames were seen before).
  snap.stacks.resize(merges.size());
  for (std::size_t pos = 0; pos < order.size(); ++pos) {
    StackMerge& m = merges[order[pos]];
    StackSummary& s = snap.stacks[pos];
    const StackMerge::CategoryGroup& own = m.Largest();
    const Bucket& best = buckets_[own.best_bucket];
    s.id = HashToId(m.hash);
    bool brief = false;
    s.shape = ShapeOf(best, &kept, &brief);
    s.frames_elided = m.frames_elided || brief;
    brief_shapes += brief;
    s.category = own.classification.category;
    s.rule = std::string(own.classification.rule);
    s.count = m.count;
    if (!m.more_groups.empty()) s.other_categories = OtherCategories(m);
    s.leaked = m.leaked;
    s.locked_to_thread = m.locked;
    s.wait = m.wait;
    // The most frequent creator first; ties go to the smallest name.
    std::sort(m.creators.begin(), m.creators.end(), [](const auto& a, const auto& b) {
      return a.count != b.count ? a.count > b.count : a.name < b.name;
    });
    if (!m.creators.empty()) {
      s.created_by = std::string(m.creators[0].name);
      s.created_at = std::string(m.creators[0].at);
      for (std::size_t i = 1; i < m.creators.size(); ++i) {
        s.other_creators.push_back({std::string(m.creators[i].name), m.creators[i].count});
      }
    }
    if (!m.states.empty()) s.state = MostFrequentState(&m.states);
    s.labels = LabelCounts(&m, keep_label_keys_, &snapshot_label_left, &labels_cut);
  }

  if (hidden_in_debug1 > 0) {
    snap.notes.push_back(
        "debug=1 hides the runtime frames that show chan send/receive and select waits: " +
        std::to_string(hidden_in_debug1) +
        " goroutines are 'unknown' instead of guessed; fetch debug=0 (as cheap) or debug=2 "
        "for their category");
  }
  if (chan_op_without_start > 0 && info.format == ProfileFormat::kProto) {
    snap.notes.push_back(
        "this debug=0 profile has no function start lines (Go <= 1.20): " +
        std::to_string(chan_op_without_start) +
        " goroutines waiting in channel operations are chan_send or chan_receive, but some may "
        "be on nil channels (nil_chan); fetch debug=2 to tell them apart");
  }
  if (info.format != ProfileFormat::kDebug2 && !classifier_->debug2_only_user_rules().empty()) {
    const auto& rules = classifier_->debug2_only_user_rules();
    std::string names;
    for (std::size_t i = 0; i < rules.size() && i < 3; ++i) names += (i ? ", " : "") + rules[i];
    if (rules.size() > 3) names += ", ...";
    snap.notes.push_back("rules on state or created_by (" + names +
                         ") decide only with debug=2 dumps, which carry wait reasons and "
                         "creators; this capture has neither");
  }
  if (info.truncated) {
    snap.notes.push_back("the capture is truncated: counts are a lower bound");
  }
  // Stacks cut short by the memory budget have a note of their own, below.
  brief_shapes -= shapes_over_budget_;
  if (brief_shapes > 0) {
    snap.notes.push_back(std::to_string(brief_shapes) + " stacks keep only their first " +
                         "application frame: the frames of the stacks before them took the " +
                         std::to_string(limits_.max_shape_text_bytes >> 20) +
                         " MiB allowed (and once those names took the rest, they are cut to " +
                         std::to_string(kBriefSymbolBytes) + " bytes)");
  }
  if (labels_dropped_ > 0) {
    snap.notes.push_back(std::to_string(labels_dropped_) +
                         " goroutines are counted without their labels: the label sets before "
                         "them took the " + std::to_string(limits_.max_label_text_bytes >> 20) +
                         " MiB allowed");
  }
  if (labels_cut > 0) {
    std::string keys;
    for (const std::string& k : keep_label_keys_) keys += (keys.empty() ? "" : ", ") + k;
    snap.notes.push_back(
        std::to_string(labels_cut) + " goroutines keep " +
        (keys.empty() ? std::string("none of their labels")
                      : "only the labels split into series (" + keys + ")") +
        ": the label sets of the stacks before them took the " +
        std::to_string(limits_.max_snapshot_label_bytes >> 20) + " MiB a snapshot keeps");
  }
  if (overflow_ > 0) {
    snap.notes.push_back(std::to_string(overflow_) + " goroutines beyond the caps of " +
                         std::to_string(limits_.max_buckets) + " distinct stacks and " +
                         std::to_string(limits_.max_bucket_frames) +
                         " frames in all are counted in totals only");
    snap.by_category[static_cast<int>(Category::kUnknown)] += overflow_;
  }
  if (over_budget_ > 0 || shapes_over_budget_ > 0) {
    snap.notes.push_back(
        std::to_string(over_budget_) + " goroutines are counted in totals only and " +
        std::to_string(shapes_over_budget_) + " stacks keep only their first application " +
        "frame: " + charge_->RefusalReason());
    snap.by_category[static_cast<int>(Category::kUnknown)] += over_budget_;
    snap.overflow_goroutines += over_budget_;
  }
  if (info.format == ProfileFormat::kDebug2 && info.kind == ProfileKind::kGoroutineLeak) {
    snap.notes.push_back("goroutineleak?debug=2 lists all goroutines; leaked ones are marked");
  }
  for (const std::string& w : info.warnings) snap.notes.push_back(w);
  snap.IndexStacks();
  return snap;
}

Result<Snapshot> AnalyzeBody(std::string_view body, const Classifier& classifier,
                             const Limits& limits, const std::string& source,
                             StackShapeCache* shapes, MemoryCharge* charge) {
  Aggregator aggregator(&classifier, limits, shapes, charge);
  auto info = DecodeProfile(body, &aggregator, limits, charge);
  if (!info.ok()) return info.status();
  Snapshot snap = aggregator.Finalize(info.value());
  snap.source = source;
  return snap;
}

}  // namespace gx
