#include "probe/fetch_planner.h"

namespace gx {

const char* SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "none";
    case SkipReason::kDisabled: return "disabled";
    case SkipReason::kOverCap: return "over_goroutine_cap";
    case SkipReason::kMinInterval: return "min_interval";
    case SkipReason::kUnsupported: return "unsupported";
    case SkipReason::kNoTime: return "deadline";
    case SkipReason::kCheapFailed: return "cheap_profile_failed";
  }
  return "none";
}

SkipReason PlanExpensiveFetch(const ExpensiveFetchPolicy& policy, int64_t cheap_total,
                              int64_t now_ms, const ExpensiveFetchState& state,
                              int64_t remaining_deadline_ms) {
  if (!policy.enabled) return SkipReason::kDisabled;
  if (cheap_total < 0) return SkipReason::kCheapFailed;
  if (state.unsupported_until_ms > now_ms) return SkipReason::kUnsupported;
  if (cheap_total > policy.max_goroutines) return SkipReason::kOverCap;
  if (state.last_fetch_ms >= 0 && now_ms - state.last_fetch_ms < policy.min_interval.count()) {
    return SkipReason::kMinInterval;
  }
  // A fetch needs time to be useful; below 200 ms of budget it would only time out.
  if (remaining_deadline_ms < 200) return SkipReason::kNoTime;
  return SkipReason::kNone;
}

bool StillReusable(const ExpensiveFetchPolicy& policy, int64_t captured_ms, int64_t now_ms) {
  const int64_t max_age_ms = kReuseMaxIntervals * policy.min_interval.count();
  return now_ms - captured_ms <= max_age_ms;
}

}  // namespace gx
