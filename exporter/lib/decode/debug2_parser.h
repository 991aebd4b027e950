// Streaming parser for debug=2 goroutine dumps (FORMATS.md §3). Memory holds one goroutine
// record and one partial line, never the dump. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/limits.h"
#include "decode/line_buffer.h"
#include "decode/raw_record.h"
#include "decode/record_emitter.h"
#include "decode/string_arena.h"

namespace gx {

// Parses "goroutine 23 [chan receive (nil chan) (leaked), 1 minutes, locked to thread]:" and
// every header variant of Go 1.19-1.27 (labels inside or after the brackets, crash-dump
// gp=/m= fields). Fills goroutine_id, state, wait_minutes, leaked, locked_to_thread, labels.
bool ParseGoroutineHeader(std::string_view line, const Limits& limits, RawRecord* out);

// Parses the label text "{route: /enrich, tenant: x}" (1.27) or "{"route": "/enrich"}"
// (1.26 labels:{...}); *pos starts at '{' and ends after '}'. Labels past
// max_labels_per_goroutine are read and dropped; *cut says whether any were.
bool ParseTracebackLabels(std::string_view text, std::size_t* pos, const Limits& limits,
                          LabelSet* labels, bool* cut);

class Debug2Parser {
 public:
  Debug2Parser(RecordSink* sink, DecodeInfo* info, const Limits& limits);
  Debug2Parser(const Debug2Parser&) = delete;  // current_ and header_ point into itself
  Debug2Parser& operator=(const Debug2Parser&) = delete;
  void Feed(std::string_view chunk);
  void Finish();

 private:
  enum class State { kBetweenRecords, kFrames, kAncestors };
  std::string_view Keep(std::string_view s);
  void OnLine(std::string_view line, bool terminated);
  void OnFrameLine(std::string_view line);
  void EmitRecord();
  void StartRecord();
  void Unknown(std::string_view why);

  DecodeInfo* info_;
  Limits limits_;
  LineBuffer lines_;
  RecordEmitter emitter_;
  State state_ = State::kBetweenRecords;
  // The record being read: header fields, creator and flags in *current_ (its frames stay
  // empty), frames in frames_ and arena_, all reused from record to record. A frame's strings
  // view the input chunk while the record lies in it (nearly always), else arena_ (see Keep
  // and Feed); frames are kept as the views the sink receives, so emitting copies nothing.
  // *header_ is scratch for the next header: the two records trade places by swapping the
  // pointers, so starting a record copies nothing either.
  RawRecord records_[2];
  RawRecord* current_ = &records_[0];
  RawRecord* header_ = &records_[1];
  std::vector<FrameView> frames_;
  StringArena arena_;
  bool in_record_ = false;
  bool clamped_minutes_ = false;  // the warning about wait minutes was given
  int64_t lost_headers_ = 0;      // goroutine headers over the line cap, skipped
  bool expect_file_for_creator_ = false;
  bool expect_file_for_frame_ = false;
};

}  // namespace gx
