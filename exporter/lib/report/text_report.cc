#include "report/text_report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

#include "common/utf8.h"
#include "report/stack_order.h"

namespace gx {
namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

// Appends s with control bytes and bytes that are not UTF-8 escaped (\n, \t, \r, \xNN); with
// `quoted`, '"' and '\' as well (the body of a Go-style quoted string).
void AppendEscaped(std::string* out, std::string_view s, bool quoted) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceAt(s, i);
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (n > 1 || (n == 1 && c >= 0x20 && c != 0x7f)) {
      if (quoted && (c == '"' || c == '\\')) out->push_back('\\');
      out->append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    if (c == '\n') {
      *out += "\\n";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c == '\r') {
      *out += "\\r";
    } else {
      *out += Format("\\x%02x", c);
    }
  }
}

// Strings from a target (function and file names, states, labels) as they may be printed to a
// terminal: a hostile or odd value can neither break the layout nor send escape sequences.
std::string Printable(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f;
      })) {
    return std::string(s);
  }
  std::string out;
  AppendEscaped(&out, s, false);
  return out;
}

// `key=value`, the value quoted (Go style) where it holds what would make the list ambiguous
// (spaces, commas, semicolons, '=', quotes, backslashes) or bytes that had to be escaped.
std::string LabelText(std::string_view key, std::string_view value) {
  const bool quote = value.empty() || value.find_first_of(" ,;=\"\\") != std::string::npos ||
                     Printable(value) != value;
  if (!quote) return Printable(key) + "=" + std::string(value);
  std::string out = Printable(key) + "=\"";
  AppendEscaped(&out, value, true);
  return out + "\"";
}

std::string LabelsText(const StackSummary& s) {
  std::string out;
  int shown = 0;
  for (const LabelCount& l : s.labels) {
    if (l.labels.empty() && !l.trimmed) continue;
    if (shown++ == 3) {
      out += " …";
      break;
    }
    if (!out.empty()) out += "; ";
    for (std::size_t i = 0; i < l.labels.size(); ++i) {
      if (i) out += ",";
      out += LabelText(l.labels[i].first, l.labels[i].second);
    }
    // Past what a snapshot keeps: the other labels of these goroutines were dropped.
    if (l.trimmed) out += l.labels.empty() ? "(labels not kept)" : ",…";
    out += " (" + std::to_string(l.count) + ")";
  }
  return out;
}

// Consecutive identical frames (function, file and line) from this many on print as one.
constexpr std::size_t kFoldedRecursion = 3;

void RenderStackDetails(std::ostringstream& out, const StackSummary& s,
                        const TextReportOptions& options) {
  std::string where = s.function().empty() ? "(no frames)" : Printable(s.function());
  if (!s.location().empty()) where += "  " + Printable(s.location());
  out << "        at " << where << "\n";
  if (!s.created_by.empty()) {
    out << "        created by " << Printable(s.created_by);
    if (!s.created_at.empty()) out << "  " << Printable(s.created_at);
    out << "\n";
    if (!s.other_creators.empty()) {
      out << "        also created by";
      for (std::size_t i = 0; i < s.other_creators.size(); ++i) {
        out << (i ? ", " : " ") << Printable(s.other_creators[i].name) << " ("
            << s.other_creators[i].count << ")";
      }
      out << "\n";
    }
  }
  if (!s.other_categories.empty()) {
    // The identity has no line numbers: the same functions blocked at another line.
    out << "        also blocked elsewhere in these functions:";
    for (std::size_t i = 0; i < s.other_categories.size(); ++i) {
      out << (i ? ", " : " ") << s.other_categories[i].second << " "
          << CategoryName(s.other_categories[i].first);
    }
    out << " (this row's category, location and frames are those of its largest group)\n";
  }
  if (!s.state.empty()) out << "        state " << Printable(s.state);
  if (s.wait.max_minutes >= 0) {
    // Go prints whole minutes waited, so the longest wait is at least that.
    out << (s.state.empty() ? "        " : ", ") << "longest wait >= " << s.wait.max_minutes
        << " min (" << s.wait.with_minutes << " with a wait time)";
  }
  if (!s.state.empty() || s.wait.max_minutes >= 0) out << "\n";
  if (s.leaked > 0) out << "        GC-proven leaked: " << s.leaked << "\n";
  std::string labels = LabelsText(s);
  if (!labels.empty()) out << "        labels " << labels << "\n";
  out << "        fix: " << StackHint(s.category, s.rule) << "\n";
  if (options.frames) {
    const auto& frames = s.frames();
    for (std::size_t i = 0; i < frames.size();) {
      const ShapeFrame& f = frames[i];
      // Deep recursion is the same call, frame after frame: one line for the run.
      std::size_t run = 1;
      while (i + run < frames.size() && frames[i + run].function == f.function &&
             frames[i + run].file == f.file && frames[i + run].line == f.line) {
        ++run;
      }
      out << "          " << Printable(f.function);
      if (!f.file.empty()) out << "  " << Printable(f.file) << ":" << f.line;
      if (run >= kFoldedRecursion) {
        out << "  (" << run << " frames of recursion)";
      } else {
        run = 1;
      }
      out << "\n";
      i += run;
    }
    if (s.frames_elided) out << "          ...frames elided...\n";
  }
}

}  // namespace

std::string RenderSnapshotText(const Snapshot& snap, const TextReportOptions& options) {
  std::ostringstream out;
  out << snap.source << ": " << FormatName(snap.info.format) << " " << KindName(snap.info.kind)
      << " profile, " << (snap.info.truncated ? "at least " : "") << snap.total << " goroutines";
  if (snap.self_excluded > 0) out << " (" << snap.self_excluded << " serving the request)";
  out << ", " << snap.stacks.size() << " distinct stacks\n";
  if (snap.info.truncated) out << "TRUNCATED CAPTURE: every count is a lower bound (see NOTES)\n";
  int64_t counted = 0;
  for (int64_t n : snap.by_category) counted += n;
  if (counted + snap.self_excluded < snap.total) {
    // A cut text dump states more goroutines than it holds: the shares are of those read.
    out << "the categories, shares and stacks below are of the "
        << counted + snap.self_excluded << " goroutines read\n";
  }
  out << "\n";

  out << "CATEGORY           GOROUTINES   SHARE\n";
  for (int i = 0; i < kCategoryCount; ++i) {
    int64_t n = snap.by_category[i];
    if (n == 0) continue;
    Category c = static_cast<Category>(i);
    out << Format("%-18s %10lld  %5.1f%%%s\n", std::string(CategoryName(c)).c_str(),
                  static_cast<long long>(n), counted ? 100.0 * n / counted : 0.0,
                  IsBenign(c) ? "  (benign)" : "");
  }

  const auto [leaked, leaked_stacks] = LeakedTotals(snap);
  if (leaked > 0) {
    out << "\nGC-PROVEN LEAKED: " << leaked << " goroutines in " << leaked_stacks
        << (leaked_stacks == 1 ? " stack" : " stacks") << " (listed first below)\n";
  }
  out << "\nTOP STACKS (" << (leaked > 0 ? "GC-proven leaked first, then " : "")
      << "by goroutines" << (options.show_benign ? "" : ", benign hidden") << ")\n";
  int shown = 0, more = 0;
  for (const StackSummary* s : StacksInReportOrder(snap, options.show_benign)) {
    if (shown >= options.top_k) {
      ++more;
      continue;
    }
    ++shown;
    out << Format("%7lld  %-16s %s\n", static_cast<long long>(s->count),
                  std::string(CategoryName(s->category)).c_str(), s->id.c_str());
    RenderStackDetails(out, *s, options);
  }
  if (more > 0) out << "  ... " << more << " more stacks (" << options.more_hint << ")\n";
  if (!snap.notes.empty()) {
    out << "\nNOTES\n";
    for (const std::string& n : snap.notes) out << "  - " << n << "\n";
  }
  return out.str();
}

std::string RenderDiffText(const SnapshotDiff& diff, const std::string& before_name,
                           const std::string& after_name, const TextReportOptions& options) {
  std::ostringstream out;
  out << "WHAT GREW: " << before_name << " -> " << after_name;
  if (diff.interval_seconds > 0) out << Format(" (%.0f s apart)", diff.interval_seconds);
  out << "\n  goroutines " << (diff.before_truncated ? "at least " : "") << diff.total_before
      << " -> " << (diff.after_truncated ? "at least " : "") << diff.total_after << " ("
      << Format("%+lld", static_cast<long long>(diff.total_after - diff.total_before)) << ")\n";
  if (diff.before_truncated || diff.after_truncated) {
    out << "TRUNCATED CAPTURE (" << (diff.before_truncated ? "before" : "")
        << (diff.before_truncated && diff.after_truncated ? " and " : "")
        << (diff.after_truncated ? "after" : "")
        << "): its counts are lower bounds, so the growth below is not to be trusted\n";
  }
  out << "\n";

  out << "CATEGORY           BEFORE    AFTER    DELTA\n";
  for (int i = 0; i < kCategoryCount; ++i) {
    int64_t b = diff.category_before[i], a = diff.category_after[i];
    if (a == 0 && b == 0) continue;
    out << Format("%-18s %6lld %8lld %+8lld\n",
                  std::string(CategoryName(static_cast<Category>(i))).c_str(),
                  static_cast<long long>(b), static_cast<long long>(a),
                  static_cast<long long>(a - b));
  }

  out << "\nGROWING STACKS (largest growth first)\n";
  int shown = 0, more = 0;
  // Benign growth is the categories' net change, as the table above shows it: one idle
  // connection closed and another opened (stacks that come and go with each request, the
  // fetch's own among them) is not growth.
  int64_t benign_growth = 0;
  std::array<int64_t, kCategoryCount> benign_by_category{};
  if (!options.show_benign) {
    for (int i = 0; i < kCategoryCount; ++i) {
      const int64_t net = diff.category_after[i] - diff.category_before[i];
      if (!IsBenign(static_cast<Category>(i)) || net <= 0) continue;
      benign_by_category[i] = net;
      benign_growth += net;
    }
  }
  for (const DiffRow& row : diff.rows) {
    if (row.delta() <= 0) break;
    if (!options.show_benign && IsBenign(row.stack.category)) continue;
    if (shown >= options.top_k) {
      ++more;
      continue;
    }
    ++shown;
    out << Format("%+7lld  %5lld -> %-5lld %-16s %s\n", static_cast<long long>(row.delta()),
                  static_cast<long long>(row.before), static_cast<long long>(row.after),
                  std::string(CategoryName(row.stack.category)).c_str(), row.stack.id.c_str());
    RenderStackDetails(out, row.stack, options);
  }
  if (more > 0) out << "  ... " << more << " more growing stacks (" << options.more_hint << ")\n";
  if (shown == 0) out << "  nothing grew\n";
  if (benign_growth > 0) {
    // Hidden, but not silently: idle server connections that grow mean a client keeps
    // opening connections.
    out << "  benign stacks grew too, by " << benign_growth << " goroutines (";
    bool first = true;
    for (int i = 0; i < kCategoryCount; ++i) {
      if (benign_by_category[i] == 0) continue;
      out << (first ? "" : ", ") << CategoryName(static_cast<Category>(i)) << " "
          << Format("%+lld", static_cast<long long>(benign_by_category[i]));
      first = false;
    }
    out << "); " << options.benign_hint << "\n";
  }
  // What shrank or went: a fix shows here as its stack gone or bounded.
  int dropped = 0, more_dropped = 0;
  for (auto it = diff.rows.rbegin(); it != diff.rows.rend() && it->delta() < 0; ++it) {
    if (!options.show_benign && IsBenign(it->stack.category)) continue;
    if (dropped == 0) out << "\nSHRINKING OR GONE STACKS (largest drop first)\n";
    if (dropped >= options.top_k) {
      ++more_dropped;
      continue;
    }
    ++dropped;
    out << Format("%+7lld  %5lld -> %-5lld %-16s %s\n", static_cast<long long>(it->delta()),
                  static_cast<long long>(it->before), static_cast<long long>(it->after),
                  std::string(CategoryName(it->stack.category)).c_str(), it->stack.id.c_str());
    const std::string where =
        it->stack.function().empty() ? "(no frames)" : Printable(it->stack.function());
    out << "        at " << where << "\n";
  }
  if (more_dropped > 0) {
    out << "  ... " << more_dropped << " more shrinking stacks (" << options.more_hint << ")\n";
  }
  if (!diff.notes.empty()) {
    out << "\nNOTES\n";
    for (const std::string& n : diff.notes) out << "  - " << n << "\n";
  }
  return out.str();
}

}  // namespace gx
