#include "common/duration.h"

#include <cstdint>

namespace gx {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  int64_t total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    int64_t value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      if (value > 1'000'000'000) return std::nullopt;
      ++i;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    std::size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit == "w") scale = 7 * int64_t{86'400'000};
    else if (unit == "y") scale = 365 * int64_t{86'400'000};
    else return std::nullopt;
    // At most 100 years, checked before multiplying so that nothing overflows.
    constexpr int64_t kMaxMs = 100 * 365 * int64_t{86'400'000};
    if (value > (kMaxMs - total_ms) / scale) return std::nullopt;
    total_ms += value * scale;
  }
  return std::chrono::milliseconds(total_ms);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace gx
