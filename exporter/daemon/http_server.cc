#include "daemon/http_server.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "common/clock.h"
#include "common/limits.h"
#include "common/logger.h"
#include "daemon/routes_internal.h"
#include "expose/probe_metrics.h"

namespace gx {
namespace {

constexpr const char* kTextFormat = "text/plain; version=0.0.4; charset=utf-8";

// How long the connection a worker serves waited in the queue for it, and how many requests
// the worker has read from that connection (set by QueueTimingPool and the pre-routing
// handler; only the first request of a connection waited in the queue).
thread_local std::chrono::milliseconds t_queue_wait{0};
thread_local int t_requests_on_connection = 0;

// cpp-httplib's thread pool, timing how long each connection waits for a worker: a probe
// that waited past its scrape timeout is answered at once instead of fetching a profile
// for a scrape Prometheus already gave up on.
class QueueTimingPool : public httplib::TaskQueue {
 public:
  explicit QueueTimingPool(int threads) : pool_(static_cast<size_t>(threads)) {}
  void enqueue(std::function<void()> fn) override {
    const auto queued = std::chrono::steady_clock::now();
    pool_.enqueue([fn = std::move(fn), queued] {
      t_queue_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - queued);
      t_requests_on_connection = 0;
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
};

// The time this request waited for a worker (0 after the first request of a connection).
std::chrono::milliseconds QueueWait() {
  return t_requests_on_connection <= 1 ? t_queue_wait : std::chrono::milliseconds(0);
}

void BadRequest(httplib::Response& res, const std::string& message) {
  res.status = 400;
  res.set_content(message + "\n", "text/plain; charset=utf-8");
}

void HandleProbe(App* app, const std::chrono::milliseconds offset, const httplib::Request& req,
                 httplib::Response& res) {
  auto config = app->config();
  std::string target = req.get_param_value("target");
  std::string module_name = req.has_param("module") ? req.get_param_value("module") : "default";
  if (target.empty()) return BadRequest(res, "Target parameter is missing");
  const Module* module = config->FindModule(module_name);
  if (!module) return BadRequest(res, "Unknown module \"" + module_name.substr(0, 64) + "\"");
  auto address = ResolveTarget(target, *module);
  if (!address.ok()) return BadRequest(res, "Bad target: " + address.status().message());
  if (!config->allowlist.Allows(address->host)) {
    app->metrics().RejectedTarget();
    res.status = 403;
    res.set_content("Target is not in probe.allowed_targets\n", "text/plain; charset=utf-8");
    return;
  }
  const auto waited = QueueWait();
  const auto budget = ProbeBudget(req, *module, offset, waited);
  if (budget.count() == 0) {
    // The scrape has (nearly) timed out in the queue: fetching now would only load the target.
    Log().Warn("probe waited for a worker past its deadline; not run",
               {{"target", target}, {"waited_ms", std::to_string(waited.count())}});
    app->metrics().ProbeDone(false, false);
    res.status = 503;
    res.set_content("probe waited " + std::to_string(waited.count()) +
                        " ms for a worker, past its deadline; raise --web.max-requests or add "
                        "replicas\n",
                    "text/plain; charset=utf-8");
    return;
  }
  // Names under resolved_cidrs connect only to an address in those ranges (checked where the
  // connection is made, so that a second DNS answer cannot point elsewhere).
  auto result = app->RunProbe(target, *module, budget, {}, config->allowlist.connect_policy);
  if (!result->success) {
    Log().Warn("probe failed", {{"target", target}, {"module", module_name}, {"err", result->error}});
  }
  ExposeOptions options = ExposeOptionsFor(*module);
  options.now_ms = NowUnixMs();
  options.growth_base = app->history().GrowthBase(result->target, result->module, options.now_ms);
  auto families = ProbeMetricFamilies(*result, options);
  res.set_content(SerializeText(families), kTextFormat);
}

void HandleMetrics(App* app, Watcher* watcher, httplib::Response& res) {
  std::vector<prometheus::MetricFamily> families = app->metrics().Collect();
  AppendFamilies(&families, ProcessMetricFamilies());
  AppendFamilies(&families, MemoryBudgetFamilies(app->prober().memory_budget()));
  auto config = app->config();
  const std::string label = SanitizeLabelName(config->watch.target_label);
  const int64_t now_ms = NowUnixMs();
  for (const WatchedResult& w : watcher->Latest()) {
    const Module* module = config->FindModule(w.target.module);
    if (!module) continue;
    ExposeOptions options = ExposeOptionsFor(*module);
    options.now_ms = now_ms;
    options.growth_base = app->history().GrowthBase(w.target.address, w.target.module, now_ms);
    options.target_labels.emplace_back(label, w.target.address);
    // Target labels are valid names, none of the exporter's own (checked at load, file_sd
    // included); one named like the target label or like a pprof label key of this module
    // (file_sd labels change at run time) is dropped here, as one name twice on a series
    // would fail the whole scrape.
    std::set<std::string> taken = {label};
    for (const std::string& key : module->label_keys) taken.insert(LabelNameOfKey(key));
    for (const auto& [name, value] : w.target.labels) {
      if (taken.insert(name).second) options.target_labels.emplace_back(name, value);
    }
    AppendFamilies(&families, ProbeMetricFamilies(*w.latest, options));
  }
  res.set_content(SerializeText(families), kTextFormat);
}

}  // namespace

std::chrono::milliseconds ProbeBudget(const httplib::Request& req, const Module& module,
                                      std::chrono::milliseconds offset,
                                      std::chrono::milliseconds waited) {
  std::chrono::milliseconds budget = module.timeout;
  std::string header = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
  if (!header.empty()) {
    char* end = nullptr;
    double seconds = std::strtod(header.c_str(), &end);
    if (end != header.c_str() && std::isfinite(seconds) && seconds > 0) {
      // A day bounds the cast (the header is outside input; 1e300 must not overflow it).
      seconds = std::min(seconds, 86400.0);
      auto scrape = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) - offset;
      if (waited.count() > 0 && scrape - waited < kMinProbeBudget) {
        return std::chrono::milliseconds(0);
      }
      budget = std::min(budget, scrape - waited);
    }
  }
  return std::max(budget, kMinProbeBudget);
}

void InstallRoutes(httplib::Server* server, App* app, Watcher* watcher, const ServerOptions& options) {
  const int threads = std::max(1, options.max_requests);
  server->new_task_queue = [threads] { return new QueueTimingPool(threads); };
  server->set_payload_max_length(kMaxRequestBodyBytes);
  // Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add
  // ~40 ms to every response on a kept-alive connection (the way Prometheus scrapes).
  server->set_tcp_nodelay(true);
  // Each single wait; whole requests and responses have their own deadlines (common/limits.h,
  // kRequestReadTimeout and kResponseWriteTimeout).
  server->set_read_timeout(10, 0);
  server->set_write_timeout(30, 0);

  server->set_pre_routing_handler([app](const httplib::Request& req, httplib::Response& res) {
    ++t_requests_on_connection;
    auto web = app->web_config();
    if (web->basic_auth_users.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (web->Authorize(req.get_header_value("Authorization"))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"goroutine_exporter\"");
    res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });

  const auto offset = app->flags().timeout_offset;
  server->Get("/probe", [app, offset](const httplib::Request& req, httplib::Response& res) {
    HandleProbe(app, offset, req, res);
  });
  server->Get("/metrics", [app, watcher](const httplib::Request&, httplib::Response& res) {
    HandleMetrics(app, watcher, res);
  });
  server->Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Healthy\n", "text/plain; charset=utf-8");
  });
  server->Get("/-/ready", [app](const httplib::Request&, httplib::Response& res) {
    if (!app->ready()) res.status = 503;
    res.set_content(app->ready() ? "Ready\n" : "Not ready\n", "text/plain; charset=utf-8");
  });
  auto reload = [app](const httplib::Request&, httplib::Response& res) {
    Status st = app->Reload();
    if (!st.ok()) {
      res.status = 500;
      res.set_content("failed to reload config: " + st.message() + "\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_content("OK\n", "text/plain; charset=utf-8");
  };
  server->Post("/-/reload", reload);
  server->Put("/-/reload", reload);
  server->Get("/", [app, watcher](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderLandingPage(app, watcher), "text/html; charset=utf-8");
  });
  InstallApiRoutes(server, app, watcher);
  InstallReportPage(server, app);
  server->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(res.status == 404 ? std::string("404 page not found\n")
                                        : "HTTP " + std::to_string(res.status) + "\n",
                      "text/plain; charset=utf-8");
    }
  });
  server->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Log().Error("handler failed", {{"err", what}});
    res.status = 500;
    res.set_content("internal error\n", "text/plain; charset=utf-8");
  });
}

}  // namespace gx
