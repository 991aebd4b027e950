#include "expose/text_format.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace gx {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v < 0 ? "-Inf" : "+Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact form
    out->append(buf, ec == std::errc() ? end : buf);
  }
}

template <typename Int>
void AppendInt(Int v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ec == std::errc() ? end : buf);
}

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
void AppendEscaped(std::string_view s, bool quote, std::string* out) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\\' && c != '\n' && !(quote && c == '"')) continue;
    out->append(s.substr(from, i - from));
    out->push_back('\\');
    out->push_back(c == '\n' ? 'n' : c);
    from = i + 1;
  }
  out->append(s.substr(from));
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Summary: return "summary";
    case MetricType::Histogram: return "histogram";
    case MetricType::Untyped: break;
  }
  return "untyped";
}

// name{labels[,extra="value"]} — `extra` is "le" or "quantile" with its value.
void AppendSeriesName(const MetricFamily& family, const ClientMetric& m, std::string_view suffix,
                      std::string_view extra_name, std::string_view extra_value,
                      std::string* out) {
  out->append(family.name).append(suffix);
  if (m.label.empty() && extra_name.empty()) {
    out->push_back(' ');
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& label : m.label) {
    if (!first) out->push_back(',');
    first = false;
    out->append(label.name).append("=\"");
    AppendEscaped(label.value, true, out);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    out->append(extra_name).append("=\"").append(extra_value).push_back('"');
  }
  out->append("} ");
}

void EndSample(const ClientMetric& m, std::string* out) {
  if (m.timestamp_ms != 0) {
    out->push_back(' ');
    AppendInt(m.timestamp_ms, out);
  }
  out->push_back('\n');
}

// name_sum and name_count; the caller ends the last line.
void AppendSumAndCount(const MetricFamily& family, const ClientMetric& m, double sum,
                       uint64_t count, std::string* out) {
  AppendSeriesName(family, m, "_sum", "", "", out);
  AppendDouble(sum, out);
  EndSample(m, out);
  AppendSeriesName(family, m, "_count", "", "", out);
  AppendInt(count, out);
}

void AppendMetric(const MetricFamily& family, const ClientMetric& m, std::string* out) {
  switch (family.type) {
    case MetricType::Counter:
      AppendSeriesName(family, m, "", "", "", out);
      AppendDouble(m.counter.value, out);
      break;
    case MetricType::Gauge:
      AppendSeriesName(family, m, "", "", "", out);
      AppendDouble(m.gauge.value, out);
      break;
    case MetricType::Untyped:
      AppendSeriesName(family, m, "", "", "", out);
      AppendDouble(m.untyped.value, out);
      break;
    case MetricType::Summary: {
      for (const auto& q : m.summary.quantile) {
        std::string bound;
        AppendDouble(q.quantile, &bound);
        AppendSeriesName(family, m, "", "quantile", bound, out);
        AppendDouble(q.value, out);
        EndSample(m, out);
      }
      AppendSumAndCount(family, m, m.summary.sample_sum, m.summary.sample_count, out);
      break;
    }
    case MetricType::Histogram: {
      bool has_inf = false;
      for (const auto& b : m.histogram.bucket) {
        std::string bound;
        AppendDouble(b.upper_bound, &bound);
        has_inf = has_inf || std::isinf(b.upper_bound);
        AppendSeriesName(family, m, "_bucket", "le", bound, out);
        AppendInt(b.cumulative_count, out);
        EndSample(m, out);
      }
      if (!has_inf) {  // the +Inf bucket is implied by the count
        AppendSeriesName(family, m, "_bucket", "le", "+Inf", out);
        AppendInt(m.histogram.sample_count, out);
        EndSample(m, out);
      }
      AppendSumAndCount(family, m, m.histogram.sample_sum, m.histogram.sample_count, out);
      break;
    }
  }
  EndSample(m, out);
}

}  // namespace

void AppendTextFormat(const std::vector<MetricFamily>& families, std::string* out) {
  std::size_t series = 0;
  for (const MetricFamily& f : families) series += f.metric.size();
  out->reserve(out->size() + 160 * series + 200 * families.size());
  for (const MetricFamily& family : families) {
    if (!family.help.empty()) {
      out->append("# HELP ").append(family.name).push_back(' ');
      AppendEscaped(family.help, false, out);
      out->push_back('\n');
    }
    out->append("# TYPE ").append(family.name).push_back(' ');
    out->append(TypeName(family.type)).push_back('\n');
    for (const ClientMetric& m : family.metric) AppendMetric(family, m, out);
  }
}

}  // namespace gx
