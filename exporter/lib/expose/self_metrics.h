// The exporter's own metrics for /metrics: build info, config reloads, probe and fetch error
// counters by bounded reason, watch-mode sizes and standard process_* metrics.
// Thread-safe (prometheus-cpp counters are atomic; the rest is read under a mutex).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "common/memory_budget.h"

namespace gx {

class SelfMetrics {
 public:
  SelfMetrics(const std::string& version, const std::string& revision);
  void ProbeDone(bool success, bool cached);
  void FetchError(const std::string& reason);  // bounded set: FetchErrorReason()
  void ReloadDone(bool success);
  void RejectedTarget();  // /probe target not in the allowlist
  void RequestCut(const char* reason);  // "too_large" or "timeout" (expose/capped_server.h)
  void SetWatchTargets(double n);
  void SetHistoryPoints(double n);
  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* probes_;
  prometheus::Family<prometheus::Counter>* fetch_errors_;
  prometheus::Counter* rejected_;
  prometheus::Family<prometheus::Counter>* requests_cut_;
  prometheus::Gauge* reload_ok_;
  prometheus::Gauge* reload_time_;
  prometheus::Gauge* watch_targets_;
  prometheus::Gauge* history_points_;
};

// The capture memory budget's limit, use and refusals (common/memory_budget.h).
std::vector<prometheus::MetricFamily> MemoryBudgetFamilies(const MemoryBudget& budget);

// process_* metrics read from /proc/self (Linux).
std::vector<prometheus::MetricFamily> ProcessMetricFamilies();

}  // namespace gx
