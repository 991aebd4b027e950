// Writes metric families in the Prometheus text exposition format (version 0.0.4) straight
// into one string: the /probe and /metrics hot path, where the ostream-based serializer of
// prometheus-cpp spent most of its time in stream machinery. Pure function; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace gx {

void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out);

}  // namespace gx
