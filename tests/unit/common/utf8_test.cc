#include "common/utf8.h"

#include <doctest/doctest.h>

#include <string>

namespace gx {

TEST_CASE("UTF-8 is well formed by RFC 3629, as Prometheus' parser checks it") {
  struct Case {
    std::string bytes;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"plain ascii", true},
      {"caf\xC3\xA9", true},                  // U+00E9
      {"\xE2\x80\xA6", true},                 // U+2026, the cut marker
      {"\xED\x9F\xBF", true},                 // U+D7FF, just below the surrogates
      {"\xEE\x80\x80", true},                 // U+E000, just above them
      {"\xF0\x90\x80\x80", true},             // U+10000
      {"\xF4\x8F\xBF\xBF", true},             // U+10FFFF, the last code point
      {"\xC0\xAF", false},                    // overlong '/'
      {"\xC1\xBF", false},                    // overlong
      {"\xE0\x80\x80", false},                // overlong 3-byte NUL
      {"\xE0\x9F\xBF", false},                // overlong 3-byte
      {"\xED\xA0\x80", false},                // U+D800, a surrogate
      {"\xED\xBF\xBF", false},                // U+DFFF
      {"\xF0\x80\x80\x80", false},            // overlong 4-byte
      {"\xF0\x8F\xBF\xBF", false},            // overlong 4-byte
      {"\xF4\x90\x80\x80", false},            // U+110000
      {"\xF5\x80\x80\x80", false},            // lead byte past U+10FFFF
      {"\xF8\x88\x80\x80\x80", false},        // 5-byte form
      {"\xFF", false},
      {"\x80", false},                        // a continuation byte alone
      {"\xC3", false},                        // cut short
      {"\xE2\x80", false},
      {"\xF0\x90\x80", false},
      {"ok\xC3(", false},                     // a lead byte followed by ASCII
  };
  for (const Case& c : cases) {
    CAPTURE(c.bytes);
    CHECK(IsValidUtf8(c.bytes) == c.valid);
  }
  CHECK(Utf8SequenceAt("a\xC3\xA9", 1) == 2);
  CHECK(Utf8SequenceAt("\xF0\x9F\x98\x80", 0) == 4);
  CHECK(Utf8SequenceAt("\xED\xA0\x80", 0) == 0);
}

}  // namespace gx
