// Decides, per target, whether an expensive profile (debug=2, goroutineleak) may be fetched
// now, so the exporter never becomes the incident it watches. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "config/exporter_config.h"

namespace gx {

enum class SkipReason {
  kNone,           // fetched
  kDisabled,       // turned off in the module
  kOverCap,        // the target has more goroutines than the module allows for this format
  kMinInterval,    // fetched recently; the previous result is reused
  kUnsupported,    // the target answered 404 for this profile (remembered for a while)
  kNoTime,         // not enough of the probe deadline left
  kCheapFailed,    // the cheap profile failed, so the size is unknown
};
const char* SkipReasonName(SkipReason r);  // "over_goroutine_cap", "min_interval", ...

struct ExpensiveFetchState {
  // The last request sent, whatever came of it: a dump that timed out or was too large cost
  // the target its stop-the-world pause all the same, so failures wait min_interval too.
  int64_t last_fetch_ms = -1;
  int64_t unsupported_until_ms = -1;  // a 404 is remembered until then
};

// A kept result of an expensive fetch is reused only while younger than this many
// min_intervals: older, fetching has stopped (over the cap, failures, no time left), and a
// count the GC proved once would otherwise be exported as current forever.
inline constexpr int64_t kReuseMaxIntervals = 2;
bool StillReusable(const ExpensiveFetchPolicy& policy, int64_t captured_ms, int64_t now_ms);

// How long a 404 for goroutineleak is remembered: the target would need a rebuild with
// another Go version to gain the profile, so re-checking hourly is plenty.
inline constexpr int64_t kUnsupportedMemoryMs = 3600 * 1000;

SkipReason PlanExpensiveFetch(const ExpensiveFetchPolicy& policy, int64_t cheap_total,
                              int64_t now_ms, const ExpensiveFetchState& state,
                              int64_t remaining_deadline_ms);

}  // namespace gx
