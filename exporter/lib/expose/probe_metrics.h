// Turns a probe result into Prometheus metric families under the goroutine_ namespace
// (docs/metrics.md). Built fresh from immutable results on every scrape, so series of stacks
// that vanish disappear. Pure functions; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/label_names.h"
#include "probe/prober.h"

namespace gx {

struct ExposeOptions {
  int top_k = 20;         // stacks by goroutine count
  int top_k_growth = 10;  // more stacks by growth against growth_base
  // The counts growth is ranked against (HistoryStore::GrowthBase); null: no growth selection.
  std::shared_ptr<const StackCounts> growth_base;
  std::vector<std::string> label_keys;  // pprof label keys that split series
  int max_label_values = 20;            // distinct values per key; the rest become "other"
  std::vector<std::pair<std::string, std::string>> target_labels;  // watch mode: target=...
  // When the series are rendered (unix ms), for data ages: a result served from the
  // min_interval cache, or a watch-mode result scraped long after its poll, is that much
  // older. 0: the probe's own start time.
  int64_t now_ms = 0;
};

ExposeOptions ExposeOptionsFor(const Module& module);

std::vector<prometheus::MetricFamily> ProbeMetricFamilies(const ProbeResult& result,
                                                          const ExposeOptions& options);

// Merges families of the same name (several targets in one /metrics answer).
void AppendFamilies(std::vector<prometheus::MetricFamily>* into,
                    std::vector<prometheus::MetricFamily>&& from);

std::string SerializeText(const std::vector<prometheus::MetricFamily>& families);

// Makes a label value valid UTF-8 of bounded length (invalid bytes become U+FFFD).
std::string SanitizeLabelValue(std::string_view value, std::size_t max_bytes = 256);

}  // namespace gx
