#include "expose/self_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "fetch/http_fetch.h"

namespace gx {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

prometheus::MetricFamily Single(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

}  // namespace

SelfMetrics::SelfMetrics(const std::string& version, const std::string& revision)
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("goroutine_exporter_build_info")
      .Help("Always 1; labelled with the exporter's version and revision.")
      .Register(*registry_)
      .Add({{"version", version}, {"revision", revision}})
      .Set(1);
  probes_ = &prometheus::BuildCounter()
                 .Name("goroutine_exporter_probes_total")
                 .Help("Probes run, by result (success, failure, cached: a result this probe did not fetch, from the min_interval cache or a successful concurrent probe of the same target).")
                 .Register(*registry_);
  for (const char* r : {"success", "failure", "cached"}) probes_->Add({{"result", r}});
  fetch_errors_ = &prometheus::BuildCounter()
                       .Name("goroutine_exporter_fetch_errors_total")
                       .Help("Failed profile fetches by reason.")
                       .Register(*registry_);
  // Every reason from the start, so that the first failure of a kind is an increase from 0
  // rather than a new series (which rate() and increase() cannot see).
  for (int e = static_cast<int>(gx::FetchError::kBadUrl);
       e <= static_cast<int>(gx::FetchError::kOther); ++e) {
    fetch_errors_->Add({{"reason", FetchErrorReason(static_cast<gx::FetchError>(e))}});
  }
  rejected_ = &prometheus::BuildCounter()
                   .Name("goroutine_exporter_probe_rejected_targets_total")
                   .Help("Probe requests refused because the target is not in the allowlist.")
                   .Register(*registry_)
                   .Add({});
  requests_cut_ = &prometheus::BuildCounter()
                       .Name("goroutine_exporter_http_requests_cut_total")
                       .Help("Requests to this exporter cut short, by reason: too_large (headers, a line or the body over their caps) or timeout (not sent whole, or the TLS handshake not done, in time).")
                       .Register(*registry_);
  for (const char* r : {"too_large", "timeout"}) requests_cut_->Add({{"reason", r}});
  reload_ok_ = &prometheus::BuildGauge()
                    .Name("goroutine_exporter_config_last_reload_successful")
                    .Help("1 if the last configuration reload succeeded.")
                    .Register(*registry_)
                    .Add({});
  reload_time_ = &prometheus::BuildGauge()
                      .Name("goroutine_exporter_config_last_reload_success_timestamp_seconds")
                      .Help("Time of the last successful configuration reload.")
                      .Register(*registry_)
                      .Add({});
  watch_targets_ = &prometheus::BuildGauge()
                        .Name("goroutine_exporter_watch_targets")
                        .Help("Targets polled in watch mode.")
                        .Register(*registry_)
                        .Add({});
  history_points_ = &prometheus::BuildGauge()
                         .Name("goroutine_exporter_history_points")
                         .Help("Probe results held in the per-target history.")
                         .Register(*registry_)
                         .Add({});
  reload_ok_->Set(1);
  reload_time_->Set(NowSeconds());
}

void SelfMetrics::ProbeDone(bool success, bool cached) {
  probes_->Add({{"result", cached ? "cached" : success ? "success" : "failure"}}).Increment();
}

void SelfMetrics::FetchError(const std::string& reason) {
  fetch_errors_->Add({{"reason", reason}}).Increment();
}

void SelfMetrics::ReloadDone(bool success) {
  reload_ok_->Set(success ? 1 : 0);
  if (success) reload_time_->Set(NowSeconds());
}

void SelfMetrics::RejectedTarget() { rejected_->Increment(); }
void SelfMetrics::RequestCut(const char* reason) {
  requests_cut_->Add({{"reason", reason}}).Increment();
}
void SelfMetrics::SetWatchTargets(double n) { watch_targets_->Set(n); }
void SelfMetrics::SetHistoryPoints(double n) { history_points_->Set(n); }

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const { return registry_->Collect(); }

std::vector<prometheus::MetricFamily> MemoryBudgetFamilies(const MemoryBudget& budget) {
  using T = prometheus::MetricType;
  return {
      Single("goroutine_exporter_capture_memory_budget_bytes",
             "Memory the captures in progress may hold together beyond a small allowance each "
             "(--probe.memory-budget).",
             T::Gauge, static_cast<double>(budget.limit())),
      Single("goroutine_exporter_capture_memory_in_use_bytes",
             "Memory of the budget that captures in progress hold now.", T::Gauge,
             static_cast<double>(budget.in_use())),
      Single("goroutine_exporter_capture_memory_refusals_total",
             "Captures that asked the budget for more than it had left (once per capture); "
             "each failed or kept a partial result that says so.",
             T::Counter, static_cast<double>(budget.refusals())),
  };
}

std::vector<prometheus::MetricFamily> ProcessMetricFamilies() {
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the ")" that closes the command name: state is field 3.
  std::size_t close = content.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(content.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 22) return out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double utime = std::stod(f[11]), stime = std::stod(f[12]);
  double starttime = std::stod(f[19]), vsize = std::stod(f[20]), rss = std::stod(f[21]);
  double boot = 0;
  std::ifstream pstat("/proc/stat");
  for (std::string line; std::getline(pstat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  using T = prometheus::MetricType;
  out.push_back(Single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                       T::Counter, (utime + stime) / ticks));
  out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.", T::Gauge,
                       rss * page));
  out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.", T::Gauge, vsize));
  out.push_back(Single("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", T::Gauge,
                       boot + starttime / ticks));
  out.push_back(Single("process_open_fds", "Number of open file descriptors.", T::Gauge, fds));
  out.push_back(Single("process_max_fds", "Maximum number of open file descriptors.", T::Gauge,
                       static_cast<double>(lim.rlim_cur)));
  return out;
}

}  // namespace gx
