// Prometheus-style durations ("500ms", "30s", "10m", "1h", "1h30m", "2w", "1y"; at most 100
// years), parsed and written.
// Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gx {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// "500ms", "30s", "10m", "2h": the largest unit that divides the duration.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace gx
