#include "expose/text_format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace gx {
namespace {

prometheus::ClientMetric Metric(std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  return m;
}

}  // namespace

TEST_CASE("text format: help, type, labels with escapes, values") {
  prometheus::MetricFamily gauge;
  gauge.name = "goroutine_x";
  gauge.help = "Help with \\ and\nnewline.";
  gauge.type = prometheus::MetricType::Gauge;
  auto m = Metric({{"function", "main.(*T).f"}, {"v", "a\"b\\c\nd"}});
  m.gauge.value = 196;
  gauge.metric.push_back(m);
  auto frac = Metric({});
  frac.gauge.value = 0.1;
  gauge.metric.push_back(frac);
  auto nan = Metric({{"k", "v"}});
  nan.gauge.value = std::nan("");
  gauge.metric.push_back(nan);
  auto inf = Metric({{"k", "w"}});
  inf.gauge.value = -std::numeric_limits<double>::infinity();
  inf.timestamp_ms = 1700000000123;
  gauge.metric.push_back(inf);

  prometheus::MetricFamily counter;
  counter.name = "goroutine_probes_total";
  counter.type = prometheus::MetricType::Counter;
  auto c = Metric({});
  c.counter.value = 12345678901.0;
  counter.metric.push_back(c);

  prometheus::MetricFamily empty;
  empty.name = "goroutine_empty";
  empty.help = "Nothing yet.";
  empty.type = prometheus::MetricType::Gauge;

  std::string out;
  AppendTextFormat({gauge, counter, empty}, &out);
  CHECK(out ==
        "# HELP goroutine_x Help with \\\\ and\\nnewline.\n"
        "# TYPE goroutine_x gauge\n"
        "goroutine_x{function=\"main.(*T).f\",v=\"a\\\"b\\\\c\\nd\"} 196\n"
        "goroutine_x 0.1\n"
        "goroutine_x{k=\"v\"} NaN\n"
        "goroutine_x{k=\"w\"} -Inf 1700000000123\n"
        "# TYPE goroutine_probes_total counter\n"
        "goroutine_probes_total 12345678901\n"
        "# HELP goroutine_empty Nothing yet.\n"
        "# TYPE goroutine_empty gauge\n");
}

TEST_CASE("text format: histograms get cumulative buckets, +Inf, sum and count") {
  prometheus::MetricFamily h;
  h.name = "goroutine_wait_age_seconds";
  h.help = "Ages.";
  h.type = prometheus::MetricType::Histogram;
  auto m = Metric({{"category", "chan_receive"}});
  m.histogram.sample_count = 7;
  m.histogram.sample_sum = 930;
  for (auto [bound, count] : {std::pair{60.0, 3ull}, std::pair{300.0, 5ull}}) {
    prometheus::ClientMetric::Bucket b;
    b.upper_bound = bound;
    b.cumulative_count = count;
    m.histogram.bucket.push_back(b);
  }
  h.metric.push_back(m);
  std::string out;
  AppendTextFormat({h}, &out);
  CHECK(out ==
        "# HELP goroutine_wait_age_seconds Ages.\n"
        "# TYPE goroutine_wait_age_seconds histogram\n"
        "goroutine_wait_age_seconds_bucket{category=\"chan_receive\",le=\"60\"} 3\n"
        "goroutine_wait_age_seconds_bucket{category=\"chan_receive\",le=\"300\"} 5\n"
        "goroutine_wait_age_seconds_bucket{category=\"chan_receive\",le=\"+Inf\"} 7\n"
        "goroutine_wait_age_seconds_sum{category=\"chan_receive\"} 930\n"
        "goroutine_wait_age_seconds_count{category=\"chan_receive\"} 7\n");
}

}  // namespace gx
