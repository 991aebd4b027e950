// Streaming parser for debug=1 aggregated text (FORMATS.md §2). Not thread-safe.
#pragma once

#include <string_view>

#include "common/limits.h"
#include "decode/line_buffer.h"
#include "decode/raw_record.h"

namespace gx {

// Parses the value of a "# labels: {"k":"v", "k2":"v2"}" line. Labels past
// max_labels_per_goroutine are read and dropped; *cut says whether any were.
bool ParseDebug1Labels(std::string_view text, const Limits& limits, LabelSet* labels,
                       bool* cut);

class Debug1Parser {
 public:
  Debug1Parser(RecordSink* sink, DecodeInfo* info, const Limits& limits);
  void Feed(std::string_view chunk);
  void Finish();

 private:
  void OnLine(std::string_view line, bool terminated);
  void EmitRecord();
  void Unknown(std::string_view why);

  RecordSink* sink_;
  DecodeInfo* info_;
  Limits limits_;
  LineBuffer lines_;
  bool seen_header_ = false;
  bool in_record_ = false;
  RawRecord current_;
  int64_t counted_ = 0;
};

}  // namespace gx
