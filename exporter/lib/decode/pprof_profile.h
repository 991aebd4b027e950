// The parts of a pprof Profile message (proto/profile.proto) that goroutine decoding uses,
// read straight from the wire format into flat tables. Strings are views into the message
// buffer, which must outlive the tables. Reading validates the whole message the way
// libprotobuf's parser does (any field order, packed or unpacked repeated scalars, unknown
// fields of every wire type), so a body is either read completely or rejected.
// Plain data; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/memory_budget.h"

namespace gx {

struct PprofProfile {
  struct Function {
    uint64_t id = 0;
    int64_t name = 0;  // string table indexes
    int64_t filename = 0;
    int64_t start_line = 0;
  };
  struct Line {
    uint64_t function_id = 0;
    int64_t line = 0;
  };
  struct Location {
    uint64_t id = 0;
    uint32_t line_begin = 0;  // into lines, innermost inlined call first
    uint32_t line_count = 0;
  };
  struct Label {
    int64_t key = 0;
    int64_t str = 0;
    int64_t num = 0;
  };
  // A sample's location ids and labels are read again from its bytes when they are needed
  // (ReadPprofSample), so they never sit in memory all at once.
  struct Sample {
    std::string_view message;  // the Sample message, already validated
  };
  struct SampleContents {
    int64_t first_value = 0;  // value[0], or 0 when the sample has no value
    std::vector<uint64_t> location_ids;  // leaf first
    bool location_ids_cut = false;       // more than the reader's cap: the outermost dropped
    std::vector<Label> labels;           // the first ones, up to the reader's cap
    bool labels_cut = false;             // more than that: the rest dropped
  };

  std::vector<std::string_view> strings;
  bool has_sample_type = false;
  int64_t first_sample_type = 0;  // sample_type[0].type
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  std::vector<Function> functions;  // in message order
  std::vector<Location> locations;  // in message order
  std::vector<Line> lines;
  std::vector<Sample> samples;  // in message order
  // Samples, locations, functions and strings in the message, counted before any table is
  // allocated (each costs 16 to 100 bytes of tables for as little as 2 bytes of wire).
  std::size_t entries = 0;
  // Those, or they and the locations' lines, were more than the reader's max_entries.
  bool too_large = false;
  bool over_budget = false;  // the memory charge refused the tables (nothing was allocated)
  std::size_t charged_bytes = 0;  // what the memory charge was told the tables hold
};

// Reads `message` into `out`. False if it is not a valid Profile message, or if it has more
// than `max_entries` entries, counting the locations' lines (out->too_large says so; nothing
// big is allocated then). `max_nesting` is how deep messages and groups may nest below the
// top level (Limits::max_proto_nesting); `max_location_ids` and `max_labels` cap the ids and
// labels kept per sample. `charge` (may be null) is told what the tables will hold before
// they are allocated; when it refuses, out->over_budget is set and false returned.
bool ReadPprofProfile(std::string_view message, int max_nesting, PprofProfile* out,
                      std::size_t max_entries = SIZE_MAX,
                      std::size_t max_location_ids = SIZE_MAX,
                      std::size_t max_labels = SIZE_MAX, MemoryCharge* charge = nullptr);

// Reads one sample of a profile that ReadPprofProfile accepted into `out` (its vectors are
// cleared first and keep their capacity), keeping at most `max_location_ids` ids and
// `max_labels` labels.
void ReadPprofSample(const PprofProfile::Sample& sample, PprofProfile::SampleContents* out,
                     std::size_t max_location_ids = SIZE_MAX,
                     std::size_t max_labels = SIZE_MAX);

}  // namespace gx
