// Label names of the exporter's own series, and the rule that turns any key into a valid
// Prometheus label name. Config checks user-chosen names (pprof label_keys, target labels)
// against these at load time, so that no series can carry one label name twice (Prometheus
// rejects the whole scrape then). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gx {

// True for every label name that a goroutine_* series of a target carries by itself
// (expose/probe_metrics.cc), plus the histogram and summary labels "le" and "quantile".
bool IsExporterLabelName(std::string_view name);

// A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsLabelName(std::string_view name);
// The same rule applied: other characters become '_'.
std::string SanitizeLabelName(std::string_view name);
// The label name a pprof label key becomes: SanitizeLabelName, and "job" and "instance"
// (pprof labels that real services set) prefixed "pprof_": under honor_labels they would
// replace the scrape's own job and instance, and without it Prometheus renames them.
std::string LabelNameOfKey(std::string_view key);

}  // namespace gx
