// Shared between the route files of the daemon; not a public interface.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "daemon/app.h"
#include "daemon/watcher.h"

namespace gx {

void InstallApiRoutes(httplib::Server* server, App* app, Watcher* watcher);
std::string RenderLandingPage(App* app, Watcher* watcher);

// Prometheus API envelope.
void ReplyJson(httplib::Response& res, const nlohmann::json& data);
void ReplyJsonError(httplib::Response& res, int status, const std::string& type,
                    const std::string& message);
std::string HtmlEscape(std::string_view s);

}  // namespace gx
