#include "decode/debug2_parser.h"

#include <algorithm>
#include <cstring>

#include "decode/go_quote.h"
#include "decode/text_util.h"

namespace gx {
namespace {

// Reads a label key or value, Go-quoted or bare up to one of the stop characters, into *out
// (cut to max bytes), reusing its storage.
bool ReadLabelToken(std::string_view text, std::size_t* pos, std::string_view stops,
                    std::size_t max, std::string* out) {
  out->clear();
  if (*pos < text.size() && text[*pos] == '"') {
    auto quoted = ReadGoQuoted(text, pos);
    if (!quoted) return false;
    AppendBounded(out, *quoted, max);
    return true;
  }
  std::size_t end = text.find_first_of(stops, *pos);
  if (end == std::string_view::npos) return false;
  AppendBounded(out, text.substr(*pos, end - *pos), max);
  *pos = end;
  return true;
}

// Finds the ']' closing the status bracket that opens at text[open], skipping quoted text
// and {...} label groups (label values may contain ']').
std::size_t FindStatusClose(std::string_view text, std::size_t open) {
  // Usually the first ']' with no quote or brace before it: then it is the one.
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == ']') return i;
    if (c == '"' || c == '{' || c == '}') break;
  }
  int braces = 0;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      std::size_t p = i;
      if (!ReadGoQuoted(text, &p)) return std::string_view::npos;
      i = p - 1;
    } else if (c == '{') {
      ++braces;
    } else if (c == '}') {
      --braces;
    } else if (c == ']' && braces <= 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool ParseTracebackLabels(std::string_view text, std::size_t* pos, const Limits& limits,
                          LabelSet* labels, bool* cut) {
  *cut = false;
  std::size_t i = *pos;
  if (i >= text.size() || text[i] != '{') return false;
  ++i;
  // Labels are read into the set's existing pairs (a dump's goroutines mostly carry the same
  // number of labels), so the strings' storage is reused from goroutine to goroutine.
  std::size_t n = 0;
  std::pair<std::string, std::string> spare;  // labels beyond the cap are read, then dropped
  while (true) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) return false;
    if (text[i] == '}') {
      ++i;
      break;
    }
    const bool keep = n < limits.max_labels_per_goroutine;
    if (keep && n == labels->size()) labels->emplace_back();
    auto& [key, value] = keep ? (*labels)[n] : spare;
    if (!ReadLabelToken(text, &i, ":", limits.max_label_bytes, &key)) return false;
    if (i >= text.size() || text[i] != ':') return false;
    ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    if (!ReadLabelToken(text, &i, ",}", limits.max_label_bytes, &value)) return false;
    n += keep;
    *cut |= !keep;
    if (i < text.size() && text[i] == ',') ++i;
  }
  labels->resize(n);
  std::sort(labels->begin(), labels->end());
  *pos = i;
  return true;
}

bool ParseGoroutineHeader(std::string_view line, const Limits& limits, RawRecord* out) {
  constexpr std::string_view kPrefix = "goroutine ";
  if (!StartsWith(line, kPrefix)) return false;
  std::size_t i = kPrefix.size();
  std::size_t digits_end = i;
  while (digits_end < line.size() && line[digits_end] >= '0' && line[digits_end] <= '9') {
    ++digits_end;
  }
  if (digits_end > i && digits_end - i <= 18) {  // cannot overflow
    int64_t id = 0;
    for (std::size_t k = i; k < digits_end; ++k) id = id * 10 + (line[k] - '0');
    out->goroutine_id = id;
  } else if (!ParseInt64(line.substr(i, digits_end - i), &out->goroutine_id)) {
    return false;
  }
  // Crash dumps at traceback level >= 2 add " gp=0x... m=N mp=0x..." before the bracket.
  std::size_t open = line.compare(digits_end, 2, " [") == 0 ? digits_end
                                                             : line.find(" [", digits_end);
  if (open == std::string_view::npos) return false;
  if (open != digits_end && !StartsWith(line.substr(digits_end), " gp=")) return false;
  open += 1;
  std::size_t close = FindStatusClose(line, open);
  if (close == std::string_view::npos) return false;
  std::string_view status = line.substr(open + 1, close - open - 1);

  // Go 1.26 with GODEBUG=tracebacklabels=1: " labels:{...}" inside the brackets.
  bool has_labels = false;
  std::size_t labels_at = status.find('{') == std::string_view::npos
                              ? std::string_view::npos
                              : status.find(" labels:{");
  if (labels_at != std::string_view::npos) {
    std::size_t pos = labels_at + 8;
    if (!ParseTracebackLabels(status, &pos, limits, &out->labels, &out->labels_cut)) {
      return false;
    }
    has_labels = true;
    status = status.substr(0, labels_at);
  }

  // The status, then ", "-separated modifiers: "N minutes", "locked to thread", "synctest …".
  std::size_t comma = status.find(", ");
  std::string_view head = status.substr(0, comma);
  while (comma != std::string_view::npos) {
    std::size_t next = status.find(", ", comma + 2);
    std::string_view mod = status.substr(comma + 2, next == std::string_view::npos
                                                        ? std::string_view::npos
                                                        : next - comma - 2);
    int64_t minutes = 0;
    if (EndsWith(mod, " minutes") && ParseInt64(mod.substr(0, mod.size() - 8), &minutes)) {
      out->wait_minutes = std::min(minutes, kMaxWaitMinutes);
    } else if (mod == "locked to thread") {
      out->locked_to_thread = true;
    }
    // "synctest group N" / "synctest bubble N" only occur in tests: accepted and ignored.
    comma = next;
  }
  static constexpr std::string_view kSuffixes[] = {" (leaked)", " (scan)", " (durable)"};
  for (bool stripped = !head.empty() && head.back() == ')'; stripped;) {
    stripped = false;
    for (std::string_view suffix : kSuffixes) {
      if (EndsWith(head, suffix)) {
        if (suffix == " (leaked)") out->leaked = true;
        head.remove_suffix(suffix.size());
        stripped = true;
      }
    }
  }
  out->state.assign(head.data(), head.size());

  // Go 1.27: " {k: v, ...}" after the bracket, then ':'.
  std::size_t rest = close + 1;
  if (StartsWith(line.substr(rest), " {")) {
    rest += 1;
    if (!ParseTracebackLabels(line, &rest, limits, &out->labels, &out->labels_cut)) {
      return false;
    }
    has_labels = true;
  }
  if (!has_labels) out->labels.clear();
  std::string_view tail = line.substr(rest);
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == '\r')) tail.remove_suffix(1);
  return tail == ":";
}

namespace {

// Resets what ParseGoroutineHeader fills, keeping the strings' capacity.
void ResetRecord(RawRecord* r) {
  r->count = 1;
  r->frames.clear();
  // labels are left as they are: ParseGoroutineHeader always sets them, reusing their
  // strings' storage.
  r->state.clear();
  r->wait_minutes = -1;
  r->leaked = false;
  r->locked_to_thread = false;
  r->frames_elided = false;
  r->labels_cut = false;
  r->created_by.clear();
  r->created_at.clear();
  r->goroutine_id = -1;
  r->creator_goroutine_id = -1;
}

void AssignBounded(std::string* out, std::string_view s, std::size_t max) {
  out->clear();
  AppendBounded(out, s, max);
}

}  // namespace

Debug2Parser::Debug2Parser(RecordSink* sink, DecodeInfo* info, const Limits& limits)
    : info_(info), limits_(limits), lines_(limits.max_line_bytes), emitter_(sink) {}

void Debug2Parser::Feed(std::string_view chunk) {
  lines_.Feed(
      chunk, [this](std::string_view line, bool terminated) { OnLine(line, terminated); },
      [this](std::string_view head) {
        // A goroutine's header (Go >= 1.27 prints its labels there, and they can be long):
        // the goroutine is lost, so the counts are lower bounds.
        if (StartsWith(head, "goroutine ")) {
          ++lost_headers_;
          info_->truncated = true;
        }
        Unknown("line longer than the line cap");
      });
  // The caller reuses the chunk's memory: a record still open copies what it views there.
  if (!in_record_) return;
  auto in_chunk = [&](std::string_view s) {
    return !s.empty() && s.data() >= chunk.data() && s.data() < chunk.data() + chunk.size();
  };
  for (FrameView& f : frames_) {
    if (in_chunk(f.function)) f.function = arena_.Append(f.function);
    if (in_chunk(f.file)) f.file = arena_.Append(f.file);
  }
}

// A string of the current frame, cut to the symbol cap, kept where it stays valid until the
// record is emitted: in place if it lies in the chunk being fed, else copied to arena_.
std::string_view Debug2Parser::Keep(std::string_view s) {
  if (s.size() > limits_.max_symbol_bytes) {
    return arena_.Append(s.substr(0, BoundedCut(s, limits_.max_symbol_bytes)), "\xE2\x80\xA6");
  }
  return lines_.in_chunk() ? s : arena_.Append(s);
}

void Debug2Parser::Finish() {
  if (lost_headers_ > 0) {
    info_->warnings.push_back("debug=2: " + std::to_string(lost_headers_) +
                              " goroutine headers longer than " +
                              std::to_string(limits_.max_line_bytes) +
                              " bytes were skipped with their goroutines; counts from debug=2 "
                              "are a lower bound");
  }
  bool cut = false;
  lines_.Finish([&](std::string_view, bool) { cut = true; });
  if (cut || info_->decoded_bytes == (64u << 20)) {
    // The runtime's 64 MiB cap cuts the dump silently, even mid-line (FORMATS.md §3.4).
    info_->truncated = true;
    if (in_record_) {
      info_->warnings.push_back(
          "dump truncated (64 MiB runtime cap or byte limit): the last goroutine record was "
          "cut and is not counted; totals from debug=2 are a lower bound");
      in_record_ = false;
      StartRecord();
      ResetRecord(current_);
      return;
    }
  }
  EmitRecord();
}

void Debug2Parser::Unknown(std::string_view why) {
  ++info_->unknown_lines;
  if (info_->warnings.size() < 8) {
    info_->warnings.push_back("debug=2: skipped unrecognized line (" + std::string(why) + ")");
  }
}

void Debug2Parser::StartRecord() {
  frames_.clear();
  arena_.Clear();
}

void Debug2Parser::EmitRecord() {
  if (!in_record_) return;
  ++info_->records;
  info_->labels_cut_records += current_->labels_cut;
  emitter_.Emit(ViewOf(*current_, frames_));
  StartRecord();
  ResetRecord(current_);
  in_record_ = false;
  expect_file_for_creator_ = false;
  expect_file_for_frame_ = false;
  state_ = State::kBetweenRecords;
}

void Debug2Parser::OnLine(std::string_view line, bool terminated) {
  if (!terminated) return;  // handled by Finish()
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    EmitRecord();
    return;
  }
  if (line[0] == '\t' && state_ == State::kFrames) {  // half of all lines: file:line
    OnFrameLine(line);
    return;
  }
  if (StartsWith(line, "goroutine ")) {
    ResetRecord(header_);
    if (ParseGoroutineHeader(line, limits_, header_)) {
      if (header_->wait_minutes >= kMaxWaitMinutes && !clamped_minutes_) {
        clamped_minutes_ = true;
        info_->warnings.push_back("debug=2: implausible wait minutes clamped to " +
                                  std::to_string(kMaxWaitMinutes));
      }
      EmitRecord();  // tolerate a missing blank line between records
      std::swap(current_, header_);
      StartRecord();
      in_record_ = true;
      state_ = State::kFrames;
      return;
    }
    if (state_ == State::kBetweenRecords) {
      Unknown("goroutine header not understood");
      return;
    }
  }
  switch (state_) {
    case State::kBetweenRecords:
      Unknown("text outside a goroutine record");
      return;
    case State::kAncestors:
      // Ancestor tracebacks (GODEBUG=tracebackancestors) describe other goroutines.
      if (StartsWith(line, "[originating from goroutine ")) ++info_->ancestor_blocks;
      return;
    case State::kFrames:
      OnFrameLine(line);
      return;
  }
}

void Debug2Parser::OnFrameLine(std::string_view line) {
  if (line[0] == '\t') {
    std::string_view file;
    int64_t lineno = 0;
    bool parsed = ParseFileLine(line.substr(1), &file, &lineno);
    if (expect_file_for_creator_) {
      AssignBounded(&current_->created_at, line.substr(1), limits_.max_symbol_bytes);
      std::size_t plus = current_->created_at.rfind(" +0x");
      if (plus != std::string::npos) current_->created_at.resize(plus);
      expect_file_for_creator_ = false;
    } else if (expect_file_for_frame_ && parsed) {
      if (!frames_.empty()) {
        FrameView& f = frames_.back();
        f.file = Keep(file);
        f.line = lineno;
      }
      expect_file_for_frame_ = false;
    } else if (!expect_file_for_frame_ && current_->frames_elided) {
      // File line of a frame dropped by the frame cap.
    } else {
      Unknown("file:line line out of place");
    }
    return;
  }
  expect_file_for_frame_ = false;
  expect_file_for_creator_ = false;
  // The special lines start with 'c', '.' or '['; a function line usually does not.
  const char first = line[0];
  if (first == 'c' && StartsWith(line, "created by ")) {
    std::string_view creator = line.substr(11);
    std::size_t in = creator.rfind(" in goroutine ");
    if (in != std::string_view::npos) {
      int64_t id = 0;
      if (ParseInt64(creator.substr(in + 14), &id)) current_->creator_goroutine_id = id;
      creator = creator.substr(0, in);
    }
    AssignBounded(&current_->created_by, creator, limits_.max_symbol_bytes);
    expect_file_for_creator_ = true;
    return;
  }
  if (first == '.' && StartsWith(line, "...") && EndsWith(line, "frames elided...")) {
    current_->frames_elided = true;
    return;
  }
  if (first == '[' && StartsWith(line, "[originating from goroutine ")) {
    ++info_->ancestor_blocks;
    state_ = State::kAncestors;
    return;
  }
  // The last '(' opens the arguments (names like "main.(*T).f" hold earlier ones).
  const std::size_t paren = line.back() == ')' ? FindLast(line, '(') : std::string_view::npos;
  if (paren == std::string_view::npos || paren == 0) {
    Unknown("expected a function call line");
    return;
  }
  expect_file_for_frame_ = true;
  if (frames_.size() >= limits_.max_frames_per_stack) {
    current_->frames_elided = true;
    expect_file_for_frame_ = false;
    return;
  }
  FrameView& f = frames_.emplace_back();
  f.function = Keep(line.substr(0, paren));
  f.inlined = line.substr(paren) == "(...)";
}

}  // namespace gx
