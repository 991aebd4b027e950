// libFuzzer target (scripts/fuzz.sh): any bytes as a goroutine profile body, through what a
// probe does with one: format detection, gunzip, the protobuf or text parsers, aggregation and
// classification, then both reports with every frame, the /probe metrics with pprof label
// keys (so label values are exposed too), and a diff against the first half of the same bytes
// (or an empty snapshot). Built only with -DGOROUTINE_FUZZ=ON and clang.
#include <cstdint>
#include <memory>
#include <string>

#include "aggregate/aggregator.h"
#include "aggregate/diff.h"
#include "classify/classifier.h"
#include "expose/probe_metrics.h"
#include "probe/prober.h"
#include "report/json_report.h"
#include "report/text_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gx::Classifier* classifier = new gx::Classifier();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto snap = gx::AnalyzeBody(body, *classifier, gx::Limits{}, "fuzz");
  if (!snap.ok()) return 0;
  auto shared = std::make_shared<const gx::Snapshot>(std::move(snap).value());
  gx::TextReportOptions text;
  text.top_k = 0;
  text.frames = true;
  text.show_benign = true;
  std::string out = gx::RenderSnapshotText(*shared, text);
  out += gx::JsonText(gx::SnapshotToJson(*shared, 0, true));
  gx::ProbeResult r;
  r.target = "t:1";
  r.module = "default";
  r.success = true;
  r.snapshot = shared;
  r.debug2 = shared;
  gx::ExposeOptions options;
  options.label_keys = {"route", "job"};
  options.top_k = 1000;
  out += gx::SerializeText(gx::ProbeMetricFamilies(r, options));
  auto half = gx::AnalyzeBody(body.substr(0, size / 2), *classifier, gx::Limits{}, "half");
  const gx::Snapshot before = half.ok() ? std::move(half).value() : gx::Snapshot{};
  const gx::SnapshotDiff diff = gx::DiffSnapshots(before, *shared);
  out += gx::RenderDiffText(diff, "half", "whole", text);
  out += gx::JsonText(gx::DiffToJson(diff, 0, true));
  static volatile std::size_t sink;
  sink = out.size();  // so that no rendering is optimised away
  return 0;
}
