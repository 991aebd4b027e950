// The line splitter, the arena and the file:line parser of the debug=2 fast path, each
// against a plain reference implementation.
#include "decode/line_buffer.h"

#include <doctest/doctest.h>

#include <random>

#include "decode/string_arena.h"
#include "decode/text_util.h"

namespace gx {
namespace {

struct Split {
  std::vector<std::string> lines;  // "!" and its first bytes mark an overlong line
  std::string rest;
};

// What LineBuffer must report: complete lines of at most max bytes, and for each longer line
// "!" and its first min(16, max + 1) bytes.
Split Reference(const std::string& input, std::size_t max) {
  Split out;
  const std::size_t head = std::min(LineBuffer::kOverlongHeadBytes, max + 1);
  std::size_t start = 0;
  for (std::size_t nl = input.find('\n'); nl != std::string::npos; nl = input.find('\n', start)) {
    std::size_t len = nl - start;
    out.lines.push_back(len <= max ? input.substr(start, len) : "!" + input.substr(start, head));
    start = nl + 1;
  }
  out.rest = input.substr(start);
  if (out.rest.size() > max) {
    out.lines.push_back("!" + out.rest.substr(0, head));
    out.rest.clear();
  }
  return out;
}

}  // namespace

TEST_CASE("line buffer: any chunking gives the reference split") {
  std::mt19937 rng(9);
  for (int round = 0; round < 300; ++round) {
    std::string input;
    const std::size_t n = rng() % 3000;
    for (std::size_t i = 0; i < n; ++i) {
      input.push_back(rng() % 9 == 0 ? '\n' : static_cast<char>('a' + rng() % 26));
    }
    const std::size_t max = 1 + rng() % 90;
    Split want = Reference(input, max);
    LineBuffer lb(max);
    Split got;
    bool last_overlong = false;
    for (std::size_t i = 0; i < input.size();) {
      std::size_t chunk = 1 + rng() % 200;
      std::string piece = input.substr(i, chunk);
      lb.Feed(
          piece,
          [&](std::string_view line, bool) {
            // A line in the chunk views it; otherwise it views the buffer's own copy.
            bool inside = line.empty() || (line.data() >= piece.data() &&
                                           line.data() < piece.data() + piece.size());
            if (!line.empty()) CHECK(lb.in_chunk() == inside);
            got.lines.emplace_back(line);
            last_overlong = false;
          },
          [&](std::string_view head) {
            got.lines.push_back("!" + std::string(head));
            last_overlong = true;
          });
      i += chunk;
    }
    lb.Finish([&](std::string_view line, bool terminated) {
      CHECK_FALSE(terminated);
      got.rest = std::string(line);
    });
    (void)last_overlong;
    CAPTURE(round);
    CHECK(got.lines == want.lines);
    CHECK(got.rest == want.rest);
  }
}

TEST_CASE("string arena: views stay valid until Clear, across blocks") {
  StringArena arena;
  std::vector<std::pair<std::string, std::string_view>> kept;
  for (int i = 0; i < 3000; ++i) {
    std::string s(static_cast<std::size_t>(i % 97) * (i % 7 == 0 ? 300 : 1), static_cast<char>('a' + i % 26));
    kept.emplace_back(s, arena.Append(s));
  }
  kept.emplace_back("abc…", arena.Append("abc", "…"));
  for (const auto& [want, view] : kept) CHECK(view == want);
  arena.Clear();
  CHECK(arena.Append("again") == "again");
}

TEST_CASE("file:line fast path splits as the general rule does") {
  // The general rule: cut at the last " +0x", then split at the last ':' into a file and a
  // whole-string decimal line.
  auto reference = [](std::string_view text, std::string* file, int64_t* line) {
    std::size_t plus = text.rfind(" +0x");
    if (plus != std::string_view::npos) text = text.substr(0, plus);
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    if (!ParseInt64(text.substr(colon + 1), line)) return false;
    *file = std::string(text.substr(0, colon));
    return true;
  };
  std::vector<std::string> cases = {
      "/a/b.go:12 +0x1f", "/a/b.go:12", "b.go:0", "b.go:", ":5", "b.go:12 +0x", "b.go:12 +0xZZ",
      "b.go:-3", "b.go:99999999999999999999", "b.go:123456789012345678 +0xff",
      "b.go:1234567890123456789", "a +0x1f/b.go:12", "x:1 +0x2 +0x3", "c:\\x:12 +0xab",
      "b.go:12 +0x1f fp=0xc0 sp=0xc8", "b.go:12 +0x1F", "b.go:1a", "", "+0x12", " +0x12",
      "b.go::12", "b.go:12 +0x1f\r"};
  std::mt19937 rng(4);
  const std::string alphabet = "ab.go:0123456789 +x/f";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (int n = rng() % 24; n > 0; --n) s.push_back(alphabet[rng() % alphabet.size()]);
    cases.push_back(s);
  }
  for (const std::string& c : cases) {
    std::string want_file;
    int64_t want_line = -7;
    bool want = reference(c, &want_file, &want_line);
    std::string_view got_file;
    int64_t got_line = -7;
    bool got = ParseFileLine(c, &got_file, &got_line);
    CAPTURE(c);
    REQUIRE(got == want);
    if (want) {
      CHECK(got_file == want_file);
      CHECK(got_line == want_line);
    }
  }
}

TEST_CASE("FindLast agrees with rfind at every length and position") {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (int n = rng() % 70; n > 0; --n) s.push_back("ab(:)"[rng() % 5]);
    // Views that start and end inside the string, so reads past the view would differ.
    std::size_t from = s.empty() ? 0 : rng() % (s.size() + 1);
    std::string_view v = std::string_view(s).substr(from);
    for (char c : {'(', ':', 'z'}) {
      CAPTURE(s);
      REQUIRE(FindLast(v, c) == v.rfind(c));
    }
  }
}

}  // namespace gx
