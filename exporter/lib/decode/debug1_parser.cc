#include "decode/debug1_parser.h"

#include <algorithm>

#include "decode/go_quote.h"
#include "decode/text_util.h"

namespace gx {

bool ParseDebug1Labels(std::string_view text, const Limits& limits, LabelSet* labels,
                       bool* cut) {
  *cut = false;
  std::size_t i = 0;
  if (text.empty() || text[0] != '{') return false;
  ++i;
  LabelSet parsed;
  while (true) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) return false;
    if (text[i] == '}') break;
    auto key = ReadGoQuoted(text, &i);
    if (!key || i >= text.size() || text[i] != ':') return false;
    ++i;
    auto value = ReadGoQuoted(text, &i);
    if (!value) return false;
    if (parsed.size() < limits.max_labels_per_goroutine) {
      parsed.emplace_back(Bounded(*key, limits.max_label_bytes),
                          Bounded(*value, limits.max_label_bytes));
    } else {
      *cut = true;
    }
    if (i < text.size() && text[i] == ',') ++i;
  }
  std::sort(parsed.begin(), parsed.end());
  *labels = std::move(parsed);
  return true;
}

Debug1Parser::Debug1Parser(RecordSink* sink, DecodeInfo* info, const Limits& limits)
    : sink_(sink), info_(info), limits_(limits), lines_(limits.max_line_bytes) {}

void Debug1Parser::Feed(std::string_view chunk) {
  lines_.Feed(
      chunk, [this](std::string_view line, bool terminated) { OnLine(line, terminated); },
      [this](std::string_view) { Unknown("line longer than the line cap"); });
}

void Debug1Parser::Finish() {
  bool cut = false;
  lines_.Finish([&](std::string_view, bool) { cut = true; });
  if (cut) {
    info_->truncated = true;
    info_->warnings.push_back("debug=1: body ends in the middle of a line");
  }
  EmitRecord();
  if (info_->stated_total >= 0 && counted_ != info_->stated_total && !info_->truncated) {
    info_->warnings.push_back("debug=1: records sum to " + std::to_string(counted_) +
                              " but the header says total " +
                              std::to_string(info_->stated_total));
  }
}

void Debug1Parser::Unknown(std::string_view why) {
  ++info_->unknown_lines;
  if (info_->warnings.size() < 8) {
    info_->warnings.push_back("debug=1: skipped unrecognized line (" + std::string(why) + ")");
  }
}

void Debug1Parser::EmitRecord() {
  if (!in_record_) return;
  ++info_->records;
  info_->labels_cut_records += current_.labels_cut;
  counted_ += current_.count;
  sink_->OnRecord(std::move(current_));
  current_ = RawRecord();
  in_record_ = false;
}

void Debug1Parser::OnLine(std::string_view line, bool terminated) {
  if (!terminated) return;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    EmitRecord();
    return;
  }
  if (!seen_header_) {
    // "<profname> profile: total N"
    std::size_t at = line.find(" profile: total ");
    int64_t total = 0;
    if (at == std::string_view::npos || !ParseInt64(line.substr(at + 16), &total)) {
      Unknown("missing 'profile: total N' header");
      return;
    }
    seen_header_ = true;
    info_->stated_total = std::clamp<int64_t>(total, 0, kMaxRecordCount);
    if (info_->stated_total != total) {
      info_->warnings.push_back("debug=1: implausible total " + std::to_string(total) +
                                " in the header, clamped");
    }
    if (line.substr(0, at) == "goroutineleak") info_->kind = ProfileKind::kGoroutineLeak;
    return;
  }
  if (line[0] >= '0' && line[0] <= '9') {
    // "<count> @ 0x... 0x..."
    std::size_t at = line.find(" @");
    int64_t count = 0;
    if (at == std::string_view::npos || !ParseInt64(line.substr(0, at), &count)) {
      Unknown("record line not understood");
      return;
    }
    if (count < 0 || count > kMaxRecordCount) {
      count = count < 0 ? 0 : kMaxRecordCount;
      if (info_->warnings.size() < 8) {
        info_->warnings.push_back("debug=1: implausible goroutine count clamped to " +
                                  std::to_string(count));
      }
    }
    EmitRecord();
    current_.count = count;
    current_.leaked = info_->kind == ProfileKind::kGoroutineLeak;
    in_record_ = true;
    return;
  }
  if (!in_record_) {
    Unknown("text outside a record");
    return;
  }
  if (StartsWith(line, "# labels: ")) {
    if (!ParseDebug1Labels(line.substr(10), limits_, &current_.labels, &current_.labels_cut)) {
      Unknown("labels not understood");
    }
    return;
  }
  if (StartsWith(line, "#\t")) {
    // "#\t0xPC\tfunc+0xoff\tfile:line" with runs of tabs, or "#\t0xPC" alone.
    std::string_view rest = line.substr(2);
    std::size_t tab = rest.find('\t');
    if (!StartsWith(rest, "0x")) {
      Unknown("frame line without PC");
      return;
    }
    if (current_.frames.size() >= limits_.max_frames_per_stack) {
      current_.frames_elided = true;
      return;
    }
    RawFrame frame;
    if (tab == std::string_view::npos) {
      frame.function = "?";
    } else {
      rest = rest.substr(tab);
      std::size_t start = rest.find_first_not_of('\t');
      std::size_t end = start == std::string_view::npos ? start : rest.find('\t', start);
      if (start == std::string_view::npos || end == std::string_view::npos) {
        Unknown("frame line not understood");
        return;
      }
      std::string_view func = rest.substr(start, end - start);
      std::size_t off = func.rfind("+0x");
      if (off != std::string_view::npos) func = func.substr(0, off);
      frame.function = Bounded(func, limits_.max_symbol_bytes);
      std::size_t fstart = rest.find_first_not_of('\t', end);
      if (fstart != std::string_view::npos) {
        std::string file;
        if (ParseFileLine(rest.substr(fstart), &file, &frame.line)) {
          frame.file = Bounded(file, limits_.max_symbol_bytes);
        }
      }
    }
    current_.frames.push_back(std::move(frame));
    return;
  }
  if (line == "#") return;  // empty comment, harmless
  Unknown("line not understood");
}

}  // namespace gx
