#include "decode/go_quote.h"

#include <doctest/doctest.h>

namespace gx {

TEST_CASE("ReadGoQuoted unescapes Go string literals") {
  struct Case {
    std::string input;
    std::string want;
  };
  const Case cases[] = {
      {R"("plain")", "plain"},
      {R"("nightly \"batch\" 1")", "nightly \"batch\" 1"},
      {R"("a\\b")", "a\\b"},
      {R"("tab\tnl\n")", "tab\tnl\n"},
      {R"("\x41\101")", "AA"},
      {R"("\u00e9")", "\xC3\xA9"},
      {R"("\U0001F600")", "\xF0\x9F\x98\x80"},
  };
  for (const Case& c : cases) {
    std::size_t pos = 0;
    auto got = ReadGoQuoted(c.input, &pos);
    CAPTURE(c.input);
    REQUIRE(got.has_value());
    CHECK(*got == c.want);
    CHECK(pos == c.input.size());
  }
}

TEST_CASE("ReadGoQuoted rejects malformed literals") {
  for (std::string bad : {R"("unterminated)", R"("bad \q escape")", R"("\x4")", R"(noquote)",
                          R"("\u12")", R"("trailing\)"}) {
    std::size_t pos = 0;
    CAPTURE(bad);
    CHECK_FALSE(ReadGoQuoted(bad, &pos).has_value());
  }
}

}  // namespace gx
