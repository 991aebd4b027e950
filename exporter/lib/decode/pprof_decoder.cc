#include "decode/pprof_decoder.h"

#include <algorithm>
#include <forward_list>
#include <string>
#include <unordered_map>
#include <vector>

#include "decode/pprof_profile.h"
#include "decode/record_emitter.h"
#include "decode/text_util.h"

namespace gx {
namespace {

// Finds a table entry by its id; the first entry with an id wins, as a map built with
// emplace did. Go numbers functions and locations 1..N, so a plain array usually does.
class IdIndex {
 public:
  template <typename Entry>
  explicit IdIndex(const std::vector<Entry>& entries) {
    uint64_t max_id = 0;
    for (const Entry& e : entries) max_id = std::max(max_id, e.id);
    dense_ = max_id <= 2 * entries.size() + 64;
    if (dense_) slots_.assign(max_id + 1, kAbsent);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      uint32_t index = static_cast<uint32_t>(i);
      if (dense_) {
        uint32_t& slot = slots_[entries[i].id];
        if (slot == kAbsent) slot = index;
      } else {
        sparse_.emplace(entries[i].id, index);
      }
    }
  }
  // Index of the entry with this id, or kAbsent.
  uint32_t Find(uint64_t id) const {
    if (dense_) return id < slots_.size() ? slots_[id] : kAbsent;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kAbsent : it->second;
  }
  static constexpr uint32_t kAbsent = UINT32_MAX;

 private:
  bool dense_ = true;
  std::vector<uint32_t> slots_;
  std::unordered_map<uint64_t, uint32_t> sparse_;
};

// Resolves string-table indexes; out-of-range indexes read as "" and are counted.
class StringTable {
 public:
  explicit StringTable(const std::vector<std::string_view>& strings) : strings_(strings) {}
  std::string_view Get(int64_t index) {
    if (index < 0 || static_cast<uint64_t>(index) >= strings_.size()) {
      ++bad_;
      return {};
    }
    return strings_[static_cast<std::size_t>(index)];
  }
  int64_t bad() const { return bad_; }
  void AddBad(int64_t n) { bad_ += n; }

 private:
  const std::vector<std::string_view>& strings_;
  int64_t bad_ = 0;
};

// A function as frames show it, resolved once per body instead of once per frame.
struct ResolvedFunction {
  std::string_view name;  // "?" when the profile has none
  std::string_view file;
  int64_t start_line = 0;
  int64_t bad_strings = 0;  // dangling string indexes, counted again at every use
};

// Cuts to max bytes like Bounded(), keeping a view when nothing is cut.
std::string_view BoundedView(std::string_view s, std::size_t max,
                             std::forward_list<std::string>* owned) {
  if (s.size() <= max) return s;
  owned->push_front(Bounded(s, max));
  return owned->front();
}

}  // namespace

Status DecodePprofProto(std::string_view message, const Limits& limits, RecordSink* sink,
                        DecodeInfo* info, MemoryCharge* charge) {
  PprofProfile profile;
  // The tables are freed on return, before the aggregator builds the snapshot.
  struct ReleaseTables {
    MemoryCharge* charge;
    const PprofProfile& profile;
    ~ReleaseTables() {
      if (charge) charge->Release(profile.charged_bytes);
    }
  } release{charge, profile};
  if (message.size() > static_cast<std::size_t>(INT32_MAX) ||
      !ReadPprofProfile(message, limits.max_proto_nesting, &profile, limits.max_profile_entries,
                        limits.max_frames_per_stack, limits.max_labels_per_goroutine, charge)) {
    if (profile.over_budget) return Status::Error(charge->RefusalReason());
    if (profile.too_large) {
      return Status::Error("pprof profile too large: more than " +
                           std::to_string(limits.max_profile_entries) +
                           " samples, locations, lines, functions and strings");
    }
    return Status::Error("not a valid pprof protobuf message");
  }
  StringTable strings(profile.strings);
  info->format = ProfileFormat::kProto;
  if (profile.has_sample_type) {
    std::string_view type = strings.Get(profile.first_sample_type);
    if (type == "goroutineleak") {
      info->kind = ProfileKind::kGoroutineLeak;
    } else if (type != "goroutine") {
      return Status::Error("pprof profile of type '" + Bounded(type, 64) +
                           "', not a goroutine profile");
    }
  } else {
    return Status::Error("pprof profile has no sample type");
  }
  info->time_nanos = profile.time_nanos;
  info->delta_profile = profile.duration_nanos != 0;
  if (info->delta_profile) {
    info->warnings.push_back(
        "delta profile (?seconds=): counts are differences and can be negative; do not use "
        "it for leak accounting");
  }

  // Names and files are cut to the symbol cap once per function. String lookups are done
  // once too, but a dangling index is counted at every use, as per-frame lookups counted it.
  std::forward_list<std::string> owned;  // cut names (rare); never moves its strings
  std::vector<ResolvedFunction> functions(profile.functions.size());
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const PprofProfile::Function& f = profile.functions[i];
    StringTable lookups(profile.strings);
    std::string_view name = lookups.Get(f.name);
    std::string_view file = lookups.Get(f.filename);
    ResolvedFunction& r = functions[i];
    r.name = name.empty() ? std::string_view("?")
                          : BoundedView(name, limits.max_symbol_bytes, &owned);
    r.file = BoundedView(file, limits.max_symbol_bytes, &owned);
    r.start_line = f.start_line;
    r.bad_strings = lookups.bad();
  }
  const IdIndex function_index(profile.functions);
  const IdIndex location_index(profile.locations);

  int64_t total = 0;
  int64_t missing_refs = 0;
  int64_t implausible_counts = 0;
  // Delta profiles (?seconds=) hold differences, which can be negative.
  auto plausible_count = [&](int64_t value) {
    const int64_t count = std::clamp<int64_t>(
        value, info->delta_profile ? -kMaxRecordCount : 0, kMaxRecordCount);
    if (count != value) ++implausible_counts;
    return count;
  };
  std::size_t frames_expanded = 0;
  int64_t samples_not_decoded = 0, goroutines_not_decoded = 0;
  // The frames and labels of one sample at a time, reused; strings are views into the
  // message and the resolved functions.
  std::vector<FrameView> frames;
  LabelSet labels;
  PprofProfile::SampleContents sample;
  RecordEmitter emitter(sink);
  const bool leaked = info->kind == ProfileKind::kGoroutineLeak;
  for (const PprofProfile::Sample& sample_bytes : profile.samples) {
    ReadPprofSample(sample_bytes, &sample, limits.max_frames_per_stack,
                    limits.max_labels_per_goroutine);
    if (frames_expanded >= limits.max_profile_frames) {
      const int64_t count = plausible_count(sample.first_value);
      total += count;
      ++samples_not_decoded;
      goroutines_not_decoded += count;
      continue;
    }
    frames.clear();
    bool frames_elided = sample.location_ids_cut;
    for (uint64_t location_id : sample.location_ids) {
      if (frames.size() >= limits.max_frames_per_stack) {
        frames_elided = true;
        break;
      }
      uint32_t loc_index = location_index.Find(location_id);
      if (loc_index == IdIndex::kAbsent) {
        ++missing_refs;
        continue;
      }
      const PprofProfile::Location& loc = profile.locations[loc_index];
      if (loc.line_count == 0) frames.push_back(FrameView{"?", {}, 0, 0, false, 0});
      // Several lines = inlined calls, innermost first; the last one is the physical frame.
      for (uint32_t i = 0; i < loc.line_count; ++i) {
        if (frames.size() >= limits.max_frames_per_stack) {
          frames_elided = true;
          break;
        }
        const PprofProfile::Line& line = profile.lines[loc.line_begin + i];
        const bool inlined = i + 1 < loc.line_count;
        uint32_t fn_index = function_index.Find(line.function_id);
        if (fn_index == IdIndex::kAbsent) {
          ++missing_refs;
          frames.push_back(FrameView{"?", {}, line.line, 0, inlined, 0});
          continue;
        }
        const ResolvedFunction& fn = functions[fn_index];
        strings.AddBad(fn.bad_strings);
        frames.push_back(
            FrameView{fn.name, fn.file, line.line, fn.start_line, inlined, fn_index + 1});
      }
    }
    labels.clear();
    // At most max_labels_per_goroutine: the reader keeps no more.
    for (const PprofProfile::Label& label : sample.labels) {
      // Cut before copying: a value can be a string of the whole table's size.
      const std::string num = label.str != 0 ? std::string() : std::to_string(label.num);
      const std::string_view value = label.str != 0 ? strings.Get(label.str) : num;
      labels.emplace_back(Bounded(strings.Get(label.key), limits.max_label_bytes),
                          Bounded(value, limits.max_label_bytes));
    }
    // Go <= 1.23 writes labels in map order: sort them for a stable identity.
    std::sort(labels.begin(), labels.end());
    RecordView record;
    record.count = plausible_count(sample.first_value);
    frames_expanded += frames.size();
    record.frames = frames;
    record.labels = &labels;
    record.leaked = leaked;
    record.frames_elided = frames_elided;
    total += record.count;
    ++info->records;
    info->labels_cut_records += sample.labels_cut;
    emitter.Emit(record);
  }
  info->stated_total = total;
  if (samples_not_decoded > 0) {
    info->truncated = true;
    info->warnings.push_back("pprof: " + std::to_string(samples_not_decoded) + " samples (" +
                             std::to_string(goroutines_not_decoded) +
                             " goroutines) past the cap of " +
                             std::to_string(limits.max_profile_frames) +
                             " frames per profile were counted but not decoded");
  }
  if (implausible_counts > 0) {
    info->warnings.push_back("pprof: " + std::to_string(implausible_counts) +
                             " samples with a negative or implausible goroutine count, clamped");
  }
  if (missing_refs > 0 || strings.bad() > 0) {
    info->warnings.push_back("pprof: " + std::to_string(missing_refs + strings.bad()) +
                             " dangling location, function or string references");
  }
  return Status::Ok();
}

}  // namespace gx
