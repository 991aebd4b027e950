#include "decode/pprof_profile.h"

#include <climits>

#include "decode/proto_wire.h"

namespace gx {
namespace {

// Field numbers of proto/profile.proto.
namespace profile_field {
constexpr uint32_t kSampleType = 1, kSample = 2, kMapping = 3, kLocation = 4, kFunction = 5,
                   kStringTable = 6, kTimeNanos = 9, kDurationNanos = 10, kPeriodType = 11,
                   kComment = 13;
}

// Every field of a message the decoder does not look into (Mapping, period_type, the other
// ValueTypes) is still read, so that a malformed one rejects the body as libprotobuf did.
// None of those messages has message-typed or packed fields.
bool SkipMessage(ProtoReader r) {
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) r.Skip(field, type);
  return r.ok();
}

bool ReadValueType(ProtoReader r, int64_t* type_index) {
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    if (field == 1 && type == WireType::kVarint) {
      *type_index = static_cast<int64_t>(r.ReadVarint());
    } else {
      r.Skip(field, type);
    }
  }
  return r.ok();
}

bool ReadFunction(ProtoReader r, PprofProfile::Function* f) {
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    if (type != WireType::kVarint || field > 5) {
      r.Skip(field, type);
      continue;
    }
    uint64_t v = r.ReadVarint();
    switch (field) {
      case 1: f->id = v; break;
      case 2: f->name = static_cast<int64_t>(v); break;
      case 4: f->filename = static_cast<int64_t>(v); break;
      case 5: f->start_line = static_cast<int64_t>(v); break;
      default: break;  // 3: system_name
    }
  }
  return r.ok();
}

bool ReadLine(ProtoReader r, PprofProfile::Line* line) {
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    if (type == WireType::kVarint && field == 1) {
      line->function_id = r.ReadVarint();
    } else if (type == WireType::kVarint && field == 2) {
      line->line = static_cast<int64_t>(r.ReadVarint());
    } else {
      r.Skip(field, type);  // 3: column
    }
  }
  return r.ok();
}

// max_lines: lines of all locations together, the rest of the entry cap (a Line costs 16
// bytes of table for 2 bytes of wire, and is nested, so the counting pass does not see it).
bool ReadLocation(ProtoReader r, PprofProfile* p, std::size_t max_lines) {
  PprofProfile::Location loc;
  loc.line_begin = static_cast<uint32_t>(p->lines.size());
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    if (field == 1 && type == WireType::kVarint) {
      loc.id = r.ReadVarint();
    } else if (field == 4 && type == WireType::kLengthDelimited) {
      PprofProfile::Line line;
      if (!ReadLine(r.ReadMessage(), &line)) return false;
      if (p->lines.size() >= max_lines) {
        p->too_large = true;
        return false;
      }
      p->lines.push_back(line);
    } else {
      r.Skip(field, type);  // mapping_id, address, is_folded
    }
  }
  loc.line_count = static_cast<uint32_t>(p->lines.size()) - loc.line_begin;
  p->locations.push_back(loc);
  return r.ok();
}

bool ReadLabel(ProtoReader r, PprofProfile::Label* label) {
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    if (type != WireType::kVarint || field > 3) {
      r.Skip(field, type);  // 4: num_unit
      continue;
    }
    int64_t v = static_cast<int64_t>(r.ReadVarint());
    if (field == 1) label->key = v;
    if (field == 2) label->str = v;
    if (field == 3) label->num = v;
  }
  return r.ok();
}

bool ReadSample(ProtoReader r, PprofProfile::SampleContents* out, std::size_t max_location_ids,
                std::size_t max_labels) {
  out->location_ids.clear();
  out->location_ids_cut = false;
  out->labels.clear();
  out->labels_cut = false;
  out->first_value = 0;
  bool has_value = false;
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    bool scalar = type == WireType::kVarint || type == WireType::kLengthDelimited;
    if (field == 1 && scalar) {
      r.ReadRepeatedVarint(type, [out, max_location_ids](uint64_t id) {
        if (out->location_ids.size() < max_location_ids) {
          out->location_ids.push_back(id);
        } else {
          out->location_ids_cut = true;
        }
      });
    } else if (field == 2 && scalar) {
      r.ReadRepeatedVarint(type, [&](uint64_t v) {
        if (!has_value) out->first_value = static_cast<int64_t>(v);
        has_value = true;
      });
    } else if (field == 3 && type == WireType::kLengthDelimited) {
      PprofProfile::Label label;
      if (!ReadLabel(r.ReadMessage(), &label)) return false;
      if (out->labels.size() < max_labels) {
        out->labels.push_back(label);
      } else {
        out->labels_cut = true;  // still read: a malformed one rejects the body
      }
    } else {
      r.Skip(field, type);
    }
  }
  return r.ok();
}

// Counts the top-level repeated fields so that the tables are allocated once; false (having
// allocated nothing) when they are more than max_entries.
bool Reserve(std::string_view message, int max_nesting, std::size_t max_entries,
             MemoryCharge* charge, PprofProfile* out) {
  namespace f = profile_field;
  std::size_t samples = 0, locations = 0, functions = 0, strings = 0;
  ProtoReader r(message, max_nesting);
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    samples += field == f::kSample;
    locations += field == f::kLocation;
    functions += field == f::kFunction;
    strings += field == f::kStringTable;
    r.Skip(field, type);
  }
  out->entries = samples + locations + functions + strings;
  if (out->entries > max_entries) {
    out->too_large = true;
    return false;
  }
  // These tables, the lines at one per location (more only when inlined), and the decoder's
  // per-function and per-id indexes (pprof_decoder.cc), about 64 bytes per function.
  const std::size_t bytes =
      samples * sizeof(PprofProfile::Sample) +
      locations * (sizeof(PprofProfile::Location) + sizeof(PprofProfile::Line) + 4) +
      functions * (sizeof(PprofProfile::Function) + 64) + strings * sizeof(std::string_view);
  if (charge && !charge->Add(bytes)) {
    out->over_budget = true;
    return false;
  }
  if (charge) out->charged_bytes = bytes;
  out->samples.reserve(samples);
  out->locations.reserve(locations);
  out->lines.reserve(locations + locations / 8);  // a location has one line unless inlined
  out->functions.reserve(functions);
  out->strings.reserve(strings);
  return true;
}

}  // namespace

bool ReadPprofProfile(std::string_view message, int max_nesting, PprofProfile* out,
                      std::size_t max_entries, std::size_t max_location_ids,
                      std::size_t max_labels, MemoryCharge* charge) {
  namespace f = profile_field;
  if (!Reserve(message, max_nesting, max_entries, charge, out)) return false;
  const std::size_t max_lines = max_entries - out->entries;
  PprofProfile::SampleContents scratch;
  ProtoReader r(message, max_nesting);
  uint32_t field;
  WireType type;
  while (r.NextField(&field, &type)) {
    const bool bytes = type == WireType::kLengthDelimited;
    if (field == f::kSample && bytes) {
      ProtoReader sample = r.ReadMessage();
      std::string_view payload = sample.remaining();
      if (!ReadSample(sample, &scratch, max_location_ids, max_labels)) return false;
      out->samples.push_back({payload});
    } else if (field == f::kLocation && bytes) {
      if (!ReadLocation(r.ReadMessage(), out, max_lines)) return false;
    } else if (field == f::kFunction && bytes) {
      PprofProfile::Function fn;
      if (!ReadFunction(r.ReadMessage(), &fn)) return false;
      out->functions.push_back(fn);
    } else if (field == f::kStringTable && bytes) {
      out->strings.push_back(r.ReadBytes());
    } else if (field == f::kSampleType && bytes) {
      int64_t type_index = 0;
      if (!ReadValueType(r.ReadMessage(), &type_index)) return false;
      if (!out->has_sample_type) out->first_sample_type = type_index;
      out->has_sample_type = true;
    } else if ((field == f::kMapping || field == f::kPeriodType) && bytes) {
      if (!SkipMessage(r.ReadMessage())) return false;
    } else if (field == f::kTimeNanos && type == WireType::kVarint) {
      out->time_nanos = static_cast<int64_t>(r.ReadVarint());
    } else if (field == f::kDurationNanos && type == WireType::kVarint) {
      out->duration_nanos = static_cast<int64_t>(r.ReadVarint());
    } else if (field == f::kComment && (type == WireType::kVarint || bytes)) {
      r.ReadRepeatedVarint(type, [](uint64_t) {});
    } else {
      r.Skip(field, type);
    }
  }
  return r.ok();
}

void ReadPprofSample(const PprofProfile::Sample& sample, PprofProfile::SampleContents* out,
                     std::size_t max_location_ids, std::size_t max_labels) {
  // Already validated, nesting included: read it with any budget.
  ReadSample(ProtoReader(sample.message, INT32_MAX), out, max_location_ids, max_labels);
}

}  // namespace gx
