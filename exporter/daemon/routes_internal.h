// Shared between the route files of the daemon; not a public interface.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "daemon/app.h"
#include "daemon/watcher.h"

namespace gx {

void InstallApiRoutes(httplib::Server* server, App* app, Watcher* watcher);
void InstallReportPage(httplib::Server* server, App* app);
std::string RenderLandingPage(App* app, Watcher* watcher);

// The history of the target named by ?target= and ?module=. Without ?module=, the module the
// target is probed with when it has one, else "default". On failure, `view` is empty and
// `status` (400 or 404) and `error` say why.
struct TargetLookup {
  std::optional<TargetView> view;
  int status = 200;
  std::string error;
};
TargetLookup LookUpTarget(App* app, const httplib::Request& req);

// Prometheus API envelope.
void ReplyJson(httplib::Response& res, const nlohmann::json& data);
void ReplyJsonError(httplib::Response& res, int status, const std::string& type,
                    const std::string& message);
std::string HtmlEscape(std::string_view s);
// "2026-11-28 06:27:04 UTC".
std::string UtcTime(int64_t unix_ms);
// A time parameter: unix seconds ("1700000000.5"), or a duration ago ("15m").
bool ParseTimeParam(const std::string& text, int64_t now_ms, int64_t* out_ms);
// ?top=N, bounded; `fallback` when absent or negative.
int TopParam(const httplib::Request& req, int fallback);
// ?top= for a listing: `fallback` when absent; 0 ("all") and anything above `max` read as max.
int ListingTop(const httplib::Request& req, int fallback, int max);

}  // namespace gx
