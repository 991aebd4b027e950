// What the decoders emit: one record per distinct stack (debug=0/1) or per goroutine
// (debug=2), before normalization and classification. Plain values (thread-compatible).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
  bool labels_cut = false;     // more than max_labels_per_goroutine labels: the rest dropped
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
  int64_t labels_cut_records = 0;  // records whose labels past max_labels_per_goroutine dropped
  bool truncated = false;      // cut dump (64 MiB cap, unterminated last line, byte cap)
  bool delta_profile = false;  // ?seconds= delta: counts can be negative
  int64_t time_nanos = 0;
  std::size_t input_bytes = 0;       // as received
  std::size_t decoded_bytes = 0;     // after gunzip
  std::vector<std::string> warnings;  // human-readable, bounded in number
};

// A frame as a decoder holds it: views into the decoder's buffers.
struct FrameView {
  std::string_view function;
  std::string_view file;
  int64_t line = 0;
  int64_t start_line = 0;
  bool inlined = false;
  // Nonzero when the decoder already knows which frames share a function (the function
  // table of debug=0): frames with the same key in one body have the same function name
  // and file, so a sink that indexes frames can skip hashing names it has seen.
  uint32_t function_key = 0;
};

// A record whose strings belong to the decoder and are valid only during the call that
// passes it. Same fields as RawRecord.
struct RecordView {
  int64_t count = 1;
  std::span<const FrameView> frames;  // leaf first
  const LabelSet* labels = nullptr;   // sorted by key; null means none
  std::string_view state;
  int64_t wait_minutes = -1;
  bool leaked = false;
  bool locked_to_thread = false;
  bool frames_elided = false;
  std::string_view created_by;
  std::string_view created_at;
  int64_t goroutine_id = -1;
  int64_t creator_goroutine_id = -1;
};

// A view of record with the given frames (the caller's views of record's frames).
inline RecordView ViewOf(const RawRecord& record, std::span<const FrameView> frames) {
  RecordView v;
  v.count = record.count;
  v.frames = frames;
  v.labels = &record.labels;
  v.state = record.state;
  v.wait_minutes = record.wait_minutes;
  v.leaked = record.leaked;
  v.locked_to_thread = record.locked_to_thread;
  v.frames_elided = record.frames_elided;
  v.created_by = record.created_by;
  v.created_at = record.created_at;
  v.goroutine_id = record.goroutine_id;
  v.creator_goroutine_id = record.creator_goroutine_id;
  return v;
}

// Receives decoded records. Implementations decide what to keep: a sink may move the record
// away, or leave it as it is, in which case the decoder reuses its storage (strings and
// vectors keep their capacity) for the next record.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void OnRecord(RawRecord&& record) = 0;
  // Offered every record first: a sink that can use the decoder's views (and copy only what
  // it keeps) consumes it and returns true; false (the default) has the decoder build a
  // RawRecord and call OnRecord instead.
  virtual bool OnRecordView(const RecordView& record) {
    (void)record;
    return false;
  }
};

}  // namespace gx
