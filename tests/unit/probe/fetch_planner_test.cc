#include "probe/fetch_planner.h"

#include <doctest/doctest.h>

namespace gx {

TEST_CASE("expensive fetches are planned only under the cap and after the interval") {
  ExpensiveFetchPolicy policy{true, 1000, std::chrono::minutes(10)};
  ExpensiveFetchState fresh;
  const int64_t now = 10'000'000;
  CHECK(PlanExpensiveFetch(policy, 500, now, fresh, 5000) == SkipReason::kNone);
  CHECK(PlanExpensiveFetch(policy, 1000, now, fresh, 5000) == SkipReason::kNone);
  CHECK(PlanExpensiveFetch(policy, 1001, now, fresh, 5000) == SkipReason::kOverCap);
  CHECK(PlanExpensiveFetch(policy, -1, now, fresh, 5000) == SkipReason::kCheapFailed);
  CHECK(PlanExpensiveFetch(policy, 500, now, fresh, 100) == SkipReason::kNoTime);

  ExpensiveFetchState recent;
  recent.last_fetch_ms = now - 60'000;
  CHECK(PlanExpensiveFetch(policy, 500, now, recent, 5000) == SkipReason::kMinInterval);
  recent.last_fetch_ms = now - 600'000;
  CHECK(PlanExpensiveFetch(policy, 500, now, recent, 5000) == SkipReason::kNone);

  ExpensiveFetchState unsupported;
  unsupported.unsupported_until_ms = now + 1;
  CHECK(PlanExpensiveFetch(policy, 500, now, unsupported, 5000) == SkipReason::kUnsupported);
  unsupported.unsupported_until_ms = now;
  CHECK(PlanExpensiveFetch(policy, 500, now, unsupported, 5000) == SkipReason::kNone);

  policy.enabled = false;
  CHECK(PlanExpensiveFetch(policy, 1, now, fresh, 5000) == SkipReason::kDisabled);
}

TEST_CASE("kept expensive results are reused for two min_intervals") {
  ExpensiveFetchPolicy policy{true, 1000, std::chrono::minutes(10)};
  const int64_t now = 10'000'000;
  CHECK(StillReusable(policy, now, now));
  CHECK(StillReusable(policy, now - 1'200'000, now));
  CHECK_FALSE(StillReusable(policy, now - 1'200'001, now));
}

TEST_CASE("the default module is cheap for targets") {
  Module m;
  // FORMATS.md §4: debug=2 stops the world ~7 ms per 1k goroutines; §6: the leak GC stalls
  // 0.34 s at 50k. The defaults stay well below both.
  CHECK(m.debug2.max_goroutines <= 5000);
  CHECK(m.debug2.min_interval >= std::chrono::minutes(5));
  CHECK(m.goroutineleak.max_goroutines <= 20000);
  CHECK(m.goroutineleak.min_interval >= std::chrono::minutes(5));
  for (SkipReason r : {SkipReason::kDisabled, SkipReason::kOverCap, SkipReason::kMinInterval,
                       SkipReason::kUnsupported, SkipReason::kNoTime, SkipReason::kCheapFailed}) {
    CHECK(std::string(SkipReasonName(r)) != "none");
  }
}

}  // namespace gx
