// A list of RE2 patterns matched against one string at a time, answering which of them
// partially match as a bitset. Patterns anchored at the start ("^net/http\.…") can only match
// strings that begin with a known literal prefix (or byte range); RE2 itself says which
// (PossibleMatchRange), so those are skipped with a byte compare instead of a regexp call
// for the many strings that begin differently. The answers are exactly RE2::PartialMatch's.
// Immutable after the patterns are added; thread-safe for Match.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace gx {

class PatternMatcher {
 public:
  // Adds a pattern and returns its index (its bit in Match's output). With `prefilter`,
  // works out the pattern's required start once (about the cost of compiling it) so that
  // Match can skip it cheaply.
  std::size_t Add(std::shared_ptr<const re2::RE2> pattern, bool prefilter);
  std::size_t size() const { return patterns_.size(); }
  // 64-bit words in Match's output.
  std::size_t words() const { return (patterns_.size() + 63) / 64; }
  // Writes words() words: bit i set iff pattern i partially matches `text`.
  void Match(std::string_view text, uint64_t* bits) const;
  const re2::RE2& pattern(std::size_t i) const { return *patterns_[i].re; }

  // How a partial match of a start-anchored pattern must begin: with `prefix`, then (when
  // lo <= hi) a byte in [lo, hi].
  struct Start {
    std::string prefix;
    unsigned char lo = 1, hi = 0;
  };
  // The ways every partial match of `pattern` must begin (any one of them); false if the
  // pattern can match anywhere in a string. A leading alternation ("^(a|b)…") gives one
  // start per alternative. Exposed for tests.
  static bool RequiredStarts(const re2::RE2& pattern, std::vector<Start>* starts);

 private:
  struct Pattern {
    std::shared_ptr<const re2::RE2> re;
    std::vector<Start> starts;  // empty: always ask RE2
  };
  static bool MayMatch(const Pattern& p, std::string_view text);

  std::vector<Pattern> patterns_;
  std::vector<uint32_t> unfiltered_;
  // Patterns with starts, by the first byte a match can start with.
  std::array<std::vector<uint32_t>, 256> by_first_byte_;
};

}  // namespace gx
