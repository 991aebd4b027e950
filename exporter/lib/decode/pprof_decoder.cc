#include "decode/pprof_decoder.h"

#include <algorithm>
#include <unordered_map>

#include "decode/text_util.h"
#include "profile.pb.h"

namespace gx {
namespace {

// Resolves string-table indexes; out-of-range indexes read as "" and are counted.
class StringTable {
 public:
  explicit StringTable(const perftools::profiles::Profile& p) : p_(p) {}
  const std::string& Get(int64_t index) {
    if (index < 0 || index >= p_.string_table_size()) {
      ++bad_;
      return empty_;
    }
    return p_.string_table(static_cast<int>(index));
  }
  int64_t bad() const { return bad_; }

 private:
  const perftools::profiles::Profile& p_;
  const std::string empty_;
  int64_t bad_ = 0;
};

}  // namespace

Status DecodePprofProto(std::string_view message, const Limits& limits, RecordSink* sink,
                        DecodeInfo* info) {
  perftools::profiles::Profile profile;
  if (message.size() > static_cast<std::size_t>(INT32_MAX) ||
      !profile.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    return Status::Error("not a valid pprof protobuf message");
  }
  StringTable strings(profile);
  info->format = ProfileFormat::kProto;
  if (profile.sample_type_size() > 0) {
    const std::string& type = strings.Get(profile.sample_type(0).type());
    if (type == "goroutineleak") {
      info->kind = ProfileKind::kGoroutineLeak;
    } else if (type != "goroutine") {
      return Status::Error("pprof profile of type '" + Bounded(type, 64) +
                           "', not a goroutine profile");
    }
  } else {
    return Status::Error("pprof profile has no sample type");
  }
  info->time_nanos = profile.time_nanos();
  info->delta_profile = profile.duration_nanos() != 0;
  if (info->delta_profile) {
    info->warnings.push_back(
        "delta profile (?seconds=): counts are differences and can be negative; do not use "
        "it for leak accounting");
  }

  std::unordered_map<uint64_t, const perftools::profiles::Function*> functions;
  for (const auto& f : profile.function()) functions.emplace(f.id(), &f);
  std::unordered_map<uint64_t, const perftools::profiles::Location*> locations;
  for (const auto& l : profile.location()) locations.emplace(l.id(), &l);

  int64_t total = 0;
  int64_t missing_refs = 0;
  for (const auto& sample : profile.sample()) {
    RawRecord record;
    record.count = sample.value_size() > 0 ? sample.value(0) : 0;
    record.leaked = info->kind == ProfileKind::kGoroutineLeak;
    for (uint64_t location_id : sample.location_id()) {
      auto loc = locations.find(location_id);
      if (loc == locations.end()) {
        ++missing_refs;
        continue;
      }
      const auto& lines = loc->second->line();
      if (lines.empty()) {
        RawFrame frame;
        frame.function = "?";
        record.frames.push_back(std::move(frame));
      }
      // Several lines = inlined calls, innermost first; the last one is the physical frame.
      for (int i = 0; i < lines.size(); ++i) {
        if (record.frames.size() >= limits.max_frames_per_stack) {
          record.frames_elided = true;
          break;
        }
        RawFrame frame;
        auto fn = functions.find(lines[i].function_id());
        if (fn == functions.end()) {
          ++missing_refs;
          frame.function = "?";
        } else {
          const std::string& name = strings.Get(fn->second->name());
          frame.function = name.empty() ? "?" : Bounded(name, limits.max_symbol_bytes);
          frame.file = Bounded(strings.Get(fn->second->filename()), limits.max_symbol_bytes);
          frame.start_line = fn->second->start_line();
        }
        frame.line = lines[i].line();
        frame.inlined = i + 1 < lines.size();
        record.frames.push_back(std::move(frame));
      }
    }
    for (const auto& label : sample.label()) {
      if (record.labels.size() >= limits.max_labels_per_goroutine) break;
      std::string value = label.str() != 0 ? strings.Get(label.str())
                                           : std::to_string(label.num());
      record.labels.emplace_back(Bounded(strings.Get(label.key()), limits.max_label_bytes),
                                 Bounded(value, limits.max_label_bytes));
    }
    // Go <= 1.23 writes labels in map order: sort them for a stable identity.
    std::sort(record.labels.begin(), record.labels.end());
    total += record.count;
    ++info->records;
    sink->OnRecord(std::move(record));
  }
  info->stated_total = total;
  if (missing_refs > 0 || strings.bad() > 0) {
    info->warnings.push_back("pprof: " + std::to_string(missing_refs + strings.bad()) +
                             " dangling location, function or string references");
  }
  return Status::Ok();
}

}  // namespace gx
