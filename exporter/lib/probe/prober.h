// One probe of one target: the cheap debug=0 profile every time, then debug=2 and
// goroutineleak only when the planner allows, reusing their last results in between.
// Thread-safe: per-target state sits behind one mutex and fetches run outside it;
// concurrent probes of the same target share one fetch.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregate/debug2_categories.h"
#include "aggregate/snapshot.h"
#include "aggregate/stack_shape_cache.h"
#include "common/limits.h"
#include "common/memory_budget.h"
#include "config/exporter_config.h"
#include "fetch/http_fetch.h"
#include "probe/fetch_planner.h"

namespace gx {

struct CaptureOptions;

struct FetchRecord {
  std::string profile;  // "goroutine" or "goroutineleak"
  int debug = 0;
  bool performed = false;  // a request was sent by this probe
  bool failed = false;
  SkipReason skipped = SkipReason::kNone;
  FetchError error_kind = FetchError::kNone;
  std::string error;
  std::size_t bytes = 0;
  double seconds = 0;
  int64_t data_time_ms = -1;  // capture time of the data in use (fresh or reused); -1: none
};

struct ProbeResult {
  std::string target;
  std::string module;
  bool success = false;
  std::string error;  // never contains secrets
  FetchError error_kind = FetchError::kNone;
  int64_t time_ms = 0;  // unix ms when the probe started
  double duration_seconds = 0;
  bool cached = false;  // served from the module's min_interval cache
  // Another probe's result (a concurrent probe of the same target ran the fetch), or this
  // probe's timeout while waiting for it: that probe does the bookkeeping, not this one.
  bool shared = false;
  std::shared_ptr<const Snapshot> snapshot;  // debug=0 (the main result)
  std::shared_ptr<const Snapshot> debug2;    // latest debug=2, fresh or reused
  std::shared_ptr<const Snapshot> leak;      // latest goroutineleak, fresh or reused
  std::vector<FetchRecord> fetches;
  std::shared_ptr<const std::string> raw;  // the debug=0 body, for `go tool pprof`
};

// "host:port" or an http(s) URL → "scheme://host:port" plus the host for the allowlist.
struct TargetAddress {
  std::string base_url;
  std::string host;
};
Result<TargetAddress> ResolveTarget(const std::string& target, const Module& module);

class Prober {
 public:
  // `memory_budget_bytes` bounds what the captures in progress hold together
  // (common/memory_budget.h).
  explicit Prober(const Limits& limits,
                  std::size_t memory_budget_bytes = kDefaultMemoryBudgetBytes);
  // Never throws; failures are in the result. `budget` bounds the whole probe. With a
  // `connect_policy`, a target given by name is connected to only at an address it allows.
  std::shared_ptr<const ProbeResult> Probe(
      const std::string& target, const Module& module, std::chrono::milliseconds budget,
      std::shared_ptr<const ConnectPolicy> connect_policy = nullptr);
  std::size_t tracked_targets() const;
  const MemoryBudget& memory_budget() const { return memory_; }

 private:
  struct TargetState {
    ExpensiveFetchState debug2_state;
    ExpensiveFetchState leak_state;
    std::shared_ptr<const Snapshot> debug2;
    std::shared_ptr<const Snapshot> leak;
    // From the last debug=2 dump, kept until the next one (and dropped when the module's
    // rules change: categories_rules is the fingerprint of those they were worked out with).
    std::shared_ptr<const Debug2Categories> debug2_categories;
    uint64_t categories_rules = 0;
    std::shared_ptr<const ProbeResult> last;
    std::shared_future<std::shared_ptr<const ProbeResult>> inflight;
    int64_t last_used_ms = 0;
  };
  // `updated` holds the target's state when Run starts, and its new state when Run returns.
  std::shared_ptr<ProbeResult> Run(const std::string& target,
                                   const Result<TargetAddress>& address, const Module& module,
                                   std::chrono::milliseconds budget,
                                   const std::shared_ptr<const ConnectPolicy>& connect_policy,
                                   TargetState* updated);
  void EvictIfFull();
  // A fetch's options (module settings, secrets read now) with the prober's shared shape
  // cache and connection pool.
  Result<CaptureOptions> FetchOptions(const Module& module, std::chrono::milliseconds timeout,
                                      const std::shared_ptr<const ConnectPolicy>& connect_policy);

  const Limits limits_;
  StackShapeCache shapes_;      // shared by every capture of every target
  MemoryBudget memory_;         // shared by every capture in progress
  ConnectionPool connections_;  // keep-alive connections to the targets
  mutable std::mutex mu_;
  std::unordered_map<std::string, TargetState> states_;  // GUARDED_BY(mu_)
};

}  // namespace gx
