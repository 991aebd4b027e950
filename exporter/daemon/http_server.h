// The exporter's HTTP endpoints: landing page, /metrics, /probe, /-/healthy, /-/ready,
// /-/reload, /config and the JSON API under /api/v1. Routes only; state lives in App and
// Watcher. Thread-safe (handlers run on the server's bounded thread pool).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "daemon/app.h"
#include "daemon/watcher.h"

namespace gx {

struct ServerOptions {
  int max_requests = 16;  // worker threads of the HTTP server
};

// Registers every route on server.
void InstallRoutes(httplib::Server* server, App* app, Watcher* watcher,
                   const ServerOptions& options);

// The least time a probe is given: below it a fetch could only time out.
inline constexpr std::chrono::milliseconds kMinProbeBudget{100};

// The probe's deadline: Prometheus' X-Prometheus-Scrape-Timeout-Seconds minus the offset and
// minus `waited` (time the request spent queued for a worker), clamped to the module timeout,
// at least kMinProbeBudget. 0 when the request waited so long that less than kMinProbeBudget
// of the scrape's own deadline is left: the scrape is lost, the probe is not worth running.
std::chrono::milliseconds ProbeBudget(const httplib::Request& req, const Module& module,
                                      std::chrono::milliseconds offset,
                                      std::chrono::milliseconds waited);

}  // namespace gx
