// Wall-clock time in unix milliseconds, for timestamps of captures and probes.
#pragma once

#include <chrono>
#include <cstdint>

namespace gx {

inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gx
