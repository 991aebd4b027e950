// JSON API (Prometheus API envelope) and the landing page.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <set>

#include "common/clock.h"
#include "common/duration.h"
#include "common/limits.h"
#include "daemon/routes_internal.h"
#include "report/json_report.h"

namespace gx {
namespace {

nlohmann::json FetchesJson(const ProbeResult& r) {
  nlohmann::json out = nlohmann::json::array();
  for (const FetchRecord& f : r.fetches) {
    nlohmann::json j = {{"profile", f.profile},   {"debug", f.debug},
                        {"performed", f.performed}, {"failed", f.failed},
                        {"skipped", SkipReasonName(f.skipped)}, {"bytes", f.bytes},
                        {"seconds", f.seconds}};
    if (!f.error.empty()) j["error"] = f.error;
    if (f.data_time_ms > 0) j["data_time_ms"] = f.data_time_ms;
    out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json TargetJson(const TargetView& v) {
  nlohmann::json j = {{"target", v.target}, {"module", v.module}, {"labels", v.labels},
                      {"history_points", v.points}, {"oldest_point_ms", v.oldest_point_ms}};
  if (const auto& r = v.latest) {
    j["last_probe_ms"] = r->time_ms;
    j["success"] = r->success;
    j["duration_seconds"] = r->duration_seconds;
    if (!r->error.empty()) j["error"] = r->error;
    if (r->snapshot) {
      j["goroutines"] = r->snapshot->total;
      j["stacks"] = r->snapshot->stacks.size();
      nlohmann::json cats = nlohmann::json::object();
      for (int i = 0; i < kCategoryCount; ++i) {
        if (r->snapshot->by_category[i]) {
          cats[std::string(CategoryName(static_cast<Category>(i)))] = r->snapshot->by_category[i];
        }
      }
      j["categories"] = std::move(cats);
    }
    if (r->leak) j["gc_leaked"] = GcLeakedTotal(*r->leak);
    j["fetches"] = FetchesJson(*r);
  }
  return j;
}

// The history's entry for the address `target` names under another spelling ("svc:6060",
// "http://svc:6060", "http://svc:6060/"): the history is keyed by the target as Prometheus
// sent it, and a pasted address need not match. Same address = same base URL as /probe
// resolves it under the entry's module. Without `module`, a match under one module only, or
// under "default". A pass over the history (bounded by its target cap), on a miss only.
std::optional<TargetView> SameAddress(App* app, const std::string& target,
                                      const std::string& module) {
  auto config = app->config();
  std::optional<TargetView> found;
  int matches = 0;
  for (TargetView& v : app->history().Targets()) {
    if (!module.empty() && v.module != module) continue;
    const Module* m = config->FindModule(v.module);
    if (!m) continue;
    auto wanted = ResolveTarget(target, *m);
    auto known = ResolveTarget(v.target, *m);
    if (!wanted.ok() || !known.ok() || wanted->base_url != known->base_url) continue;
    ++matches;
    if (!found || v.module == "default") found = std::move(v);
  }
  if (matches > 1 && found->module != "default") return std::nullopt;
  return found;
}

// Finds the target named by ?target=&module= in the history; replies with an error if not.
std::optional<TargetView> RequireTarget(App* app, const httplib::Request& req, httplib::Response& res) {
  TargetLookup found = LookUpTarget(app, req);
  if (!found.view) {
    ReplyJsonError(res, found.status, found.status == 400 ? "bad_data" : "not_found", found.error);
  }
  return found.view;
}

}  // namespace

TargetLookup LookUpTarget(App* app, const httplib::Request& req) {
  TargetLookup out;
  const std::string target = req.get_param_value("target");
  if (target.empty()) {
    out.status = 400;
    out.error = "target parameter is missing";
    return out;
  }
  // The target's modules (a pass over the history) only where they are needed: to pick one,
  // or to say which there are.
  std::vector<std::string> modules;
  std::string module = req.get_param_value("module");
  if (module.empty()) {
    modules = app->history().ModulesOf(target);
    module = modules.size() == 1 ? modules[0] : "default";
  }
  out.view = app->history().Target(target, module);
  if (!out.view) out.view = SameAddress(app, target, req.get_param_value("module"));
  if (out.view) return out;
  if (!app->config()->FindModule(module)) {
    out.status = 400;
    out.error = "unknown module \"" + module + "\"";
    return out;
  }
  out.status = 404;
  out.error = "no probe of " + target + " with module " + module + " yet";
  if (modules.empty()) modules = app->history().ModulesOf(target);
  if (!modules.empty()) {
    std::string names;
    for (const std::string& m : modules) names += (names.empty() ? "" : ", ") + m;
    out.error += " (it has results with module " + names + ")";
  }
  return out;
}

bool ParseTimeParam(const std::string& text, int64_t now_ms, int64_t* out_ms) {
  if (text.empty()) return false;
  if (auto ago = ParseDuration(text)) {
    // Before 1970 is no time a history holds (and <= 0 would read as "latest").
    if (ago->count() >= now_ms) return false;
    *out_ms = now_ms - ago->count();
    return true;
  }
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(seconds > 0) || seconds > 1e11) return false;
  *out_ms = static_cast<int64_t>(seconds * 1000);
  return true;
}

int TopParam(const httplib::Request& req, int fallback) {
  if (!req.has_param("top")) return fallback;
  int v = std::atoi(req.get_param_value("top").c_str());
  return v < 0 ? fallback : std::min(v, 100000);
}

// JSON answers say how many stacks there are in all.
int ListingTop(const httplib::Request& req, int fallback, int max) {
  const int top = TopParam(req, fallback);
  return top <= 0 || top > max ? max : top;
}

void ReplyJson(httplib::Response& res, const nlohmann::json& data) {
  nlohmann::json body = {{"status", "success"}, {"data", data}};
  res.set_content(JsonText(body), "application/json");
}

void ReplyJsonError(httplib::Response& res, int status, const std::string& type,
                    const std::string& message) {
  res.status = status;
  nlohmann::json body = {{"status", "error"}, {"errorType", type}, {"error", message}};
  res.set_content(JsonText(body), "application/json");
}

void InstallApiRoutes(httplib::Server* server, App* app, Watcher* watcher) {
  server->Get("/api/v1/targets", [app](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const TargetView& v : app->history().Targets()) out.push_back(TargetJson(v));
    ReplyJson(res, out);
  });

  server->Get("/api/v1/stacks", [app](const httplib::Request& req, httplib::Response& res) {
    auto view = RequireTarget(app, req, res);
    if (!view) return;
    const auto& r = view->latest;
    if (!r || !r->snapshot) {
      return ReplyJsonError(res, 503, "unavailable", "the last probe of this target failed: " +
                                                         (r ? r->error : std::string()));
    }
    // Up to 512 frames a stack: as many stacks as /report shows with frames.
    nlohmann::json out =
        SnapshotToJson(*r->snapshot,
                       ListingTop(req, kMaxReportStacksWithFrames, kMaxReportStacksWithFrames),
                       true);
    // Facts only the expensive formats have, joined by stack id.
    for (auto& stack : out["stacks"]) {
      const std::string id = stack["stack_id"];
      if (r->debug2) {
        if (const StackSummary* d = r->debug2->FindStack(id)) {
          stack["wait"] = StackToJson(*d, false)["wait"];
          stack["state"] = d->state;
          stack["created_by"] = d->created_by;
          stack["created_at"] = d->created_at;
          stack["debug2_count"] = d->count;
        }
      }
      if (r->leak) {
        if (const StackSummary* l = r->leak->FindStack(id)) {
          stack["gc_leaked"] = GcLeakedIn(*r->leak, *l);
        }
      }
    }
    out["target"] = r->target;
    out["module"] = r->module;
    out["fetches"] = FetchesJson(*r);
    if (r->debug2) out["debug2_captured_unix_ms"] = r->debug2->captured_unix_ms;
    if (r->leak) {
      out["goroutineleak_captured_unix_ms"] = r->leak->captured_unix_ms;
      // The debug=0 snapshot marks no goroutine leaked; the goroutineleak profile knows.
      out["leaked"] = GcLeakedTotal(*r->leak);
    }
    ReplyJson(res, out);
  });

  server->Get("/api/v1/diff", [app](const httplib::Request& req, httplib::Response& res) {
    auto view = RequireTarget(app, req, res);
    if (!view) return;
    const int64_t now = NowUnixMs();
    int64_t from = now - 15 * 60 * 1000, to = 0;
    if (req.has_param("from") && !ParseTimeParam(req.get_param_value("from"), now, &from)) {
      return ReplyJsonError(res, 400, "bad_data", "from must be unix seconds or a duration ago such as 15m");
    }
    if (req.has_param("to") && !ParseTimeParam(req.get_param_value("to"), now, &to)) {
      return ReplyJsonError(res, 400, "bad_data", "to must be unix seconds or a duration ago such as 5m");
    }
    auto diff = app->history().Diff(view->target, view->module, from, to);
    if (!diff.ok()) return ReplyJsonError(res, 422, "execution", diff.status().message());
    nlohmann::json out = DiffToJson(diff.value(), ListingTop(req, 50, kMaxReportStacks), false);
    out["target"] = view->target;
    out["module"] = view->module;
    ReplyJson(res, out);
  });

  server->Get("/api/v1/capture", [app](const httplib::Request& req, httplib::Response& res) {
    auto view = RequireTarget(app, req, res);
    if (!view) return;
    // The latest body, or the last good one while the target fails (a crashed or hanging
    // target is when its last profile is wanted most); the header says which probe it is.
    const ProbeResult* r = view->latest.get();
    if (r && (!r->raw || r->raw->empty()) && !r->success) r = view->last_good.get();
    if (!r || !r->raw || r->raw->empty()) {
      std::string why = "no stored capture of this target: ";
      if (!r) {
        why += "no probe has succeeded yet" +
               (view->latest ? " (the last one failed: " + view->latest->error + ")" : "");
      } else {
        why += "bodies over " + std::to_string(kMaxKeptRawBytes >> 20) + " MiB are not kept";
      }
      return ReplyJsonError(res, 404, "not_found", why);
    }
    std::string name = "goroutine-" + std::to_string(r->time_ms / 1000) + ".pb.gz";
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    res.set_header("X-Capture-Time", UtcTime(r->time_ms));
    res.set_content(*r->raw, "application/octet-stream");
  });

  server->Get("/config", [app](const httplib::Request&, httplib::Response& res) {
    auto config = app->config();
    nlohmann::json modules = nlohmann::json::object();
    for (const auto& [name, m] : config->modules) {
      nlohmann::json headers = nlohmann::json::object();
      for (const auto& [k, v] : m.headers) headers[k] = "<secret>";  // values may be credentials
      modules[name] = {
          {"scheme", m.scheme}, {"path", m.path}, {"leak_path", m.leak_path},
          {"timeout_ms", m.timeout.count()}, {"max_response_bytes", m.max_response_bytes},
          {"min_interval_ms", m.min_interval.count()},
          {"debug2", {{"enabled", m.debug2.enabled}, {"max_goroutines", m.debug2.max_goroutines},
                      {"min_interval_ms", m.debug2.min_interval.count()}}},
          {"goroutineleak", {{"enabled", m.goroutineleak.enabled},
                             {"max_goroutines", m.goroutineleak.max_goroutines},
                             {"min_interval_ms", m.goroutineleak.min_interval.count()}}},
          {"bearer_token_file", m.bearer_token_file.empty() ? "" : "<set>"},
          {"basic_auth_username", m.basic_auth_username},
          {"headers", headers}, {"label_keys", m.label_keys}, {"top_k", m.top_k},
          {"top_k_growth", m.top_k_growth}, {"rules", m.rules.size()}};
    }
    nlohmann::json out = {{"source", config->source},
                          {"modules", modules},
                          {"probe_allow_any_target", config->allowlist.allow_any},
                          {"probe_allowed_hosts", config->allowlist.host_globs},
                          {"probe_allowed_cidrs", config->allowlist.cidrs},
                          {"probe_resolved_cidrs", config->allowlist.resolved_cidrs},
                          {"watch_interval_ms", config->watch.interval.count()},
                          {"watch_target_label", config->watch.target_label}};
    res.set_content(JsonText(out, 2), "application/json");
  });
  (void)watcher;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string UtcTime(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string RenderLandingPage(App* app, Watcher* watcher) {
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>goroutine_exporter</title>"
      "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}"
      ".bad{color:#b00}</style></head><body><h1>goroutine_exporter</h1>"
      "<p>Goroutine profiles of Go services, per leak category and per stack, as Prometheus "
      "metrics. Version " + HtmlEscape(app->version()) + ".</p><ul>"
      "<li><a href=\"metrics\">Metrics</a> (the exporter itself and watched targets)</li>"
      "<li>Probe: <code>/probe?target=host:port&amp;module=default</code></li>"
      "<li><a href=\"api/v1/targets\">Targets (JSON)</a></li>"
      "<li><a href=\"config\">Configuration</a></li>"
      "<li><a href=\"-/healthy\">Health</a> and <a href=\"-/ready\">readiness</a></li></ul>"
      "<h2>Recent probes</h2><table><tr><th>Target</th><th>Module</th><th>By</th><th>When</th>"
      "<th>Result</th><th>Goroutines</th><th>Top stack</th><th>Links</th></tr>";
  auto targets = app->history().Targets();
  std::sort(targets.begin(), targets.end(), [](const TargetView& a, const TargetView& b) {
    int64_t ta = a.latest ? a.latest->time_ms : 0, tb = b.latest ? b.latest->time_ms : 0;
    return ta > tb;
  });
  auto watched = watcher->Latest();
  std::set<std::pair<std::string, std::string>> by_watch;
  for (const WatchedResult& w : watched) by_watch.emplace(w.target.address, w.target.module);
  int shown = 0;
  for (const TargetView& v : targets) {
    if (shown++ >= 50 || !v.latest) break;
    const ProbeResult& r = *v.latest;
    std::string q = "target=" + httplib::detail::encode_query_param(v.target) +
                    "&amp;module=" + httplib::detail::encode_query_param(v.module);
    std::string top;
    if (r.snapshot) {
      for (const StackSummary& s : r.snapshot->stacks) {
        if (IsBenign(s.category)) continue;
        top = std::to_string(s.count) + " " + std::string(CategoryName(s.category)) + " " + std::string(s.function());
        break;
      }
    }
    const char* by = by_watch.count({v.target, v.module}) ? "watch" : "/probe";
    html += "<tr><td>" + HtmlEscape(v.target) + "</td><td>" + HtmlEscape(v.module) + "</td><td>" +
            by + "</td><td>" + UtcTime(r.time_ms) + "</td><td" + (r.success ? ">ok" : " class=\"bad\">" + HtmlEscape(r.error)) +
            "</td><td>" + (r.snapshot ? std::to_string(r.snapshot->total) : "") + "</td><td>" +
            HtmlEscape(top) + "</td><td><a href=\"report?" + q + "\">report</a> <a href=\"api/v1/stacks?" + q + "\">stacks</a> <a href=\"api/v1/diff?" + q +
            "\">diff</a> <a href=\"api/v1/capture?" + q + "\">pprof</a></td></tr>";
  }
  html += "</table>";
  html += "<p>Watch mode: " + std::to_string(watched.size()) +
          (watched.size() == 1 ? " target" : " targets") + " polled so far.</p></body></html>";
  return html;
}

}  // namespace gx
