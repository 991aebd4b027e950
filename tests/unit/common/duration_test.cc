#include "common/duration.h"

#include <doctest/doctest.h>

namespace gx {
namespace {

using std::chrono::milliseconds;

TEST_CASE("durations: Prometheus units, combined, bounded") {
  CHECK(ParseDuration("500ms") == milliseconds(500));
  CHECK(ParseDuration("30s") == milliseconds(30'000));
  CHECK(ParseDuration("1h30m") == milliseconds(5'400'000));
  CHECK(ParseDuration("2d") == milliseconds(2 * 86'400'000));
  CHECK(ParseDuration("1w") == milliseconds(7 * int64_t{86'400'000}));
  CHECK(ParseDuration("10y") == milliseconds(3650 * int64_t{86'400'000}));
  CHECK(ParseDuration("100y") == milliseconds(36500 * int64_t{86'400'000}));
  CHECK(ParseDuration("0s") == milliseconds(0));
  // Above 100 years, however the parts add up, and whatever the digits: never an overflow.
  for (const char* bad : {"", "s", "30", "1x", "1.5h", "-1s", "101y", "99y2y", "999999999y",
                          "1000000001ms", "1h 30m", "5m10", "123456789012345678901234567890123"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad).has_value());
  }
}

TEST_CASE("durations are written in the largest unit that divides them") {
  CHECK(FormatDuration(milliseconds(7'200'000)) == "2h");
  CHECK(FormatDuration(milliseconds(90'000)) == "90s");
  CHECK(FormatDuration(milliseconds(600'000)) == "10m");
  CHECK(FormatDuration(milliseconds(1500)) == "1500ms");
  CHECK(FormatDuration(milliseconds(0)) == "0s");
}

}  // namespace
}  // namespace gx
