// What the decoders emit: one record per distinct stack (debug=0/1) or per goroutine
// (debug=2), before normalization and classification.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gx {

enum class ProfileFormat { kUnknown, kProto, kDebug1, kDebug2 };
enum class ProfileKind { kGoroutine, kGoroutineLeak };

const char* FormatName(ProfileFormat format);  // "debug=0", "debug=1", "debug=2"
const char* KindName(ProfileKind kind);        // "goroutine", "goroutineleak"

struct RawFrame {
  std::string function;  // fully qualified, no arguments or offsets; "?" when unknown
  std::string file;
  int64_t line = 0;
  int64_t start_line = 0;  // first line of the function (debug=0, Go >= 1.20), else 0
  bool inlined = false;
};

using LabelSet = std::vector<std::pair<std::string, std::string>>;  // sorted by key

struct RawRecord {
  int64_t count = 1;
  std::vector<RawFrame> frames;  // leaf first
  LabelSet labels;
  std::string state;         // debug=2 wait reason or status ("chan receive"); "" if unknown
  int64_t wait_minutes = -1;  // debug=2 ", N minutes"; -1 when absent
  bool leaked = false;        // "(leaked)" marker, or any record of a goroutineleak profile
  bool locked_to_thread = false;
  bool frames_elided = false;  // "...N frames elided..." or "...additional frames elided..."
  std::string created_by;      // creator function (debug=2 only)
  std::string created_at;      // creator file:line
  int64_t goroutine_id = -1;
  int64_t creator_goroutine_id = -1;
};

// Per-capture facts the decoder learned, including everything it could not read.
struct DecodeInfo {
  ProfileFormat format = ProfileFormat::kUnknown;
  ProfileKind kind = ProfileKind::kGoroutine;
  bool compressed = false;
  int64_t stated_total = -1;   // debug=1 "total N"; debug=0 sum of values; debug=2 records
  int64_t records = 0;         // samples, text records or goroutine blocks read
  int64_t unknown_lines = 0;   // lines that fit no rule of the grammar (skipped, counted)
  int64_t ancestor_blocks = 0;  // "[originating from goroutine N]:" blocks (skipped)
  bool truncated = false;      // cut dump (64 MiB cap, unterminated last line, byte cap)
  bool delta_profile = false;  // ?seconds= delta: counts can be negative
  int64_t time_nanos = 0;
  std::size_t input_bytes = 0;       // as received
  std::size_t decoded_bytes = 0;     // after gunzip
  std::vector<std::string> warnings;  // human-readable, bounded in number
};

// Receives decoded records. Implementations decide what to keep.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void OnRecord(RawRecord&& record) = 0;
};

}  // namespace gx
