#include "classify/pattern_matcher.h"

#include <re2/re2.h>

#include <cstring>

namespace gx {
namespace {

// True if every match of the pattern must start at the beginning of the text: a leading
// '^' (not repeated) and no '|' outside parentheses that could start an unanchored branch.
// Reads the pattern syntax conservatively: anything it is not sure about answers false,
// which only costs a regexp call.
bool AnchoredAtStart(std::string_view p) {
  if (p.size() < 2 || p[0] != '^') return false;
  if (p[1] == '*' || p[1] == '+' || p[1] == '?' || p[1] == '{') return false;
  if (p.find("\\Q") != std::string_view::npos) return false;  // quoted text hides syntax
  // Word-boundary assertions look at the byte after a match; keep them out of the argument.
  if (p.find("\\b") != std::string_view::npos || p.find("\\B") != std::string_view::npos) {
    return false;
  }
  int depth = 0;
  for (std::size_t i = 1; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;  // the escaped character is literal (or a class such as \d)
    } else if (c == '[') {
      // A character class: '|' and parentheses inside it are literal.
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a leading ']' is literal
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          j += 2;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          std::size_t close = p.find(":]", j + 2);
          if (close == std::string_view::npos) return false;
          j = close + 2;
        } else {
          ++j;
        }
      }
      if (j >= p.size()) return false;
      i = j;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth <= 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace {

// The start of a single start-anchored pattern from RE2's own analysis: every string the
// pattern matches from its start lies in [min, max], so it begins with their common prefix,
// and the byte after that lies between theirs. A partial match anchored at the start is
// such a string followed by anything.
bool StartOf(const re2::RE2& re, PatternMatcher::Start* start) {
  std::string min, max;
  if (!re.ok() || !re.PossibleMatchRange(&min, &max, 64)) return false;
  std::size_t common = 0;
  while (common < min.size() && common < max.size() && min[common] == max[common]) ++common;
  start->prefix = min.substr(0, common);
  if (common < min.size() && common < max.size()) {
    start->lo = static_cast<unsigned char>(min[common]);
    start->hi = static_cast<unsigned char>(max[common]);
  }
  return !start->prefix.empty() || start->lo <= start->hi;
}

// Splits "^head(alt1|alt2|…)tail" at its first top-level group into "^head(?:alt1)tail", …,
// whose matches together are exactly the pattern's. False if there is no such group.
bool SplitFirstGroup(std::string_view p, std::vector<std::string>* out) {
  std::size_t open = std::string_view::npos;
  for (std::size_t i = 1; i < p.size() && open == std::string_view::npos; ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '[') {
      return false;  // keep it simple: a class before the group
    } else if (p[i] == '(') {
      open = i;
    }
  }
  if (open == std::string_view::npos) return false;
  std::size_t body = open + 1;
  if (p.substr(body, 2) == "?:") {
    body += 2;
  } else if (body < p.size() && p[body] == '?') {
    return false;  // flags or a named group: not worth the syntax
  }
  int depth = 0;
  std::vector<std::size_t> bars;
  std::size_t close = std::string_view::npos;
  for (std::size_t i = body; i < p.size() && close == std::string_view::npos; ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      return false;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth == 0) close = i;
      --depth;
    } else if (c == '|' && depth == 0) {
      bars.push_back(i);
    }
  }
  if (close == std::string_view::npos || bars.empty()) return false;
  const char after = close + 1 < p.size() ? p[close + 1] : '\0';
  if (after == '?' || after == '*' || after == '+' || after == '{') {
    return false;  // an optional or repeated group
  }
  std::string_view head = p.substr(0, open), tail = p.substr(close + 1);
  std::size_t from = body;
  bars.push_back(close);
  for (std::size_t bar : bars) {
    out->push_back(std::string(head) + "(?:" + std::string(p.substr(from, bar - from)) + ")" +
                   std::string(tail));
    from = bar + 1;
  }
  return true;
}

}  // namespace

bool PatternMatcher::RequiredStarts(const re2::RE2& re, std::vector<Start>* starts) {
  starts->clear();
  if (!re.ok() || !AnchoredAtStart(re.pattern())) return false;
  std::vector<std::string> alternatives;
  if (SplitFirstGroup(re.pattern(), &alternatives)) {
    bool all = true;
    for (const std::string& alt : alternatives) {
      re2::RE2 sub(alt, re.options());
      Start start;
      if (!StartOf(sub, &start)) {
        all = false;
        break;
      }
      starts->push_back(std::move(start));
    }
    if (all) return true;
    starts->clear();
  }
  Start start;
  if (!StartOf(re, &start)) return false;
  starts->push_back(std::move(start));
  return true;
}

std::size_t PatternMatcher::Add(std::shared_ptr<const re2::RE2> re, bool prefilter) {
  Pattern p;
  if (prefilter) RequiredStarts(*re, &p.starts);
  p.re = std::move(re);
  uint32_t index = static_cast<uint32_t>(patterns_.size());
  if (p.starts.empty()) {
    unfiltered_.push_back(index);
  } else {
    bool first_bytes[256] = {};
    for (const Start& st : p.starts) {
      if (!st.prefix.empty()) {
        first_bytes[static_cast<unsigned char>(st.prefix[0])] = true;
      } else {
        for (unsigned b = st.lo; b <= st.hi; ++b) first_bytes[b] = true;
      }
    }
    for (unsigned b = 0; b < 256; ++b) {
      if (first_bytes[b]) by_first_byte_[b].push_back(index);
    }
  }
  patterns_.push_back(std::move(p));
  return index;
}

bool PatternMatcher::MayMatch(const Pattern& p, std::string_view text) {
  for (const Start& st : p.starts) {
    std::size_t n = st.prefix.size();
    if (text.size() < n || (n > 0 && std::memcmp(text.data(), st.prefix.data(), n) != 0)) {
      continue;
    }
    if (st.lo <= st.hi) {
      if (text.size() <= n) continue;
      unsigned char c = static_cast<unsigned char>(text[n]);
      if (c < st.lo || c > st.hi) continue;
    }
    return true;
  }
  return false;
}

void PatternMatcher::Match(std::string_view text, uint64_t* bits) const {
  if (words() == 0) return;  // no patterns
  std::memset(bits, 0, words() * sizeof(uint64_t));
  auto test = [&](uint32_t i) {
    if (re2::RE2::PartialMatch(text, *patterns_[i].re)) bits[i / 64] |= uint64_t{1} << (i % 64);
  };
  for (uint32_t i : unfiltered_) test(i);
  if (text.empty()) return;  // a filtered pattern needs at least its first byte
  for (uint32_t i : by_first_byte_[static_cast<unsigned char>(text[0])]) {
    if (MayMatch(patterns_[i], text)) test(i);
  }
}

}  // namespace gx
