// Parses Prometheus-style durations ("500ms", "30s", "10m", "1h", "1h30m"). Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gx {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace gx
