// GET /report?target=&module=: the triage report of one probed target, as the CLI prints it,
// for a browser (HTML) or a terminal (format=text): the last probe's fetch plan, what grew over
// the history window, the latest snapshot's categories and top stacks with their first-fix
// hints, and the GC-proven leaks when the goroutineleak profile was fetched.
#include <algorithm>
#include <ctime>

#include "aggregate/debug2_categories.h"
#include "common/clock.h"
#include "common/duration.h"
#include "common/limits.h"
#include "daemon/routes_internal.h"
#include "report/text_report.h"

namespace gx {
namespace {

// One line per profile of the fetch plan: fetched, reused from an earlier probe, or skipped
// and why (so that a missing wait age or GC proof explains itself).
std::string FetchLines(const ProbeResult& r) {
  std::string out = "FETCHES\n";
  for (const FetchRecord& f : r.fetches) {
    out += "  " + f.profile + " debug=" + std::to_string(f.debug) + ": ";
    if (f.failed) {
      out += "failed: " + f.error;
    } else if (f.performed) {
      out += "fetched, " + std::to_string(f.bytes) + " bytes";
    } else if (f.skipped != SkipReason::kNone) {
      out += std::string("skipped: ") + SkipReasonName(f.skipped);
      if (f.data_time_ms > 0) out += ", data from " + UtcTime(f.data_time_ms) + " in use";
    } else if (f.data_time_ms > 0) {
      out += "reused from " + UtcTime(f.data_time_ms);
    } else {
      out += "not fetched";
    }
    out += "\n";
  }
  return out;
}

void Reply(httplib::Response& res, bool html, int status, const std::string& title,
           const std::string& text, const std::string& links = "") {
  res.status = status;
  if (!html) {
    res.set_content(title + "\n\n" + text, "text/plain; charset=utf-8");
    return;
  }
  res.set_content(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
          "</title><style>body{font-family:sans-serif;margin:2em}pre{font-size:13px}</style>"
          "</head><body><p><a href=\"./\">goroutine_exporter</a></p><h1>" + HtmlEscape(title) +
          "</h1>" + links + "<pre>" + HtmlEscape(text) + "</pre></body></html>",
      "text/html; charset=utf-8");
}

}  // namespace

void InstallReportPage(httplib::Server* server, App* app) {
  server->Get("/report", [app](const httplib::Request& req, httplib::Response& res) {
    const bool html = req.get_param_value("format") != "text";
    TargetLookup found = LookUpTarget(app, req);
    if (!found.view || !found.view->latest) {
      return Reply(res, html, found.status == 400 ? 400 : 404,
                   found.status == 400 ? "Bad request" : "Not found", found.error);
    }
    const TargetView& view = *found.view;
    const std::string& target = view.target;
    const std::string& module = view.module;
    const int64_t now = NowUnixMs();
    int64_t from = now - 15 * 60 * 1000;
    const std::string from_text = req.has_param("from") ? req.get_param_value("from") : "15m";
    if (req.has_param("from") && !ParseTimeParam(from_text, now, &from)) {
      return Reply(res, html, 400, "Bad request",
                   "from must be unix seconds or a duration ago such as 15m");
    }
    TextReportOptions options;
    options.frames = req.get_param_value("frames") == "1";
    options.show_benign = req.get_param_value("all") == "1";
    options.benign_hint = "&all=1 lists them";
    // Up to 512 frames a stack: fewer stacks with frames keep a page within a few MB.
    const int max_top = options.frames ? kMaxReportStacksWithFrames : kMaxReportStacks;
    options.top_k = ListingTop(req, options.top_k, max_top);  // 0: as many as a page holds
    options.more_hint = "&top=N lists up to " + std::to_string(max_top);

    const ProbeResult& r = *view.latest;
    std::string text = "target " + target + ", module " + module + ", last probe " +
                       UtcTime(r.time_ms) + (r.success ? "" : ": FAILED: " + r.error) + "\n\n" +
                       FetchLines(r) + "\n";
    auto diff = app->history().Diff(target, module, from, 0);
    if (diff.ok()) {
      // The history compares its point nearest `from` (or its oldest) with the latest.
      const std::string then = "the point nearest " +
                                (ParseDuration(from_text) ? from_text + " ago" : UtcTime(from));
      text += RenderDiffText(diff.value(), then, "latest", options) + "\n";
    } else {
      text += "WHAT GREW: " + diff.status().message() + "\n\n";
    }
    if (r.snapshot && r.debug2) {
      // The dump this probe or an earlier one paid a stop-the-world pause for: its creators,
      // states and wait ages are the first things triage looks at.
      int joined = 0;
      Snapshot with_facts = WithDebug2Facts(*r.snapshot, *r.debug2, &joined);
      if (joined > 0) {
        with_facts.notes.push_back(
            "creators, states and wait ages of " + std::to_string(joined) +
            (joined == 1 ? " stack are" : " stacks are") + " from the debug=2 dump of " +
            UtcTime(r.debug2->captured_unix_ms) + "; goroutine counts are from this probe");
      }
      text += RenderSnapshotText(with_facts, options);
    } else if (r.snapshot) {
      text += RenderSnapshotText(*r.snapshot, options);
    }
    if (r.leak) {
      text += "\nGC-PROVEN LEAKS: the last goroutineleak profile, " +
              UtcTime(r.leak->captured_unix_ms) + "\n" + RenderSnapshotText(*r.leak, options);
    }
    const std::string q = "target=" + httplib::detail::encode_query_param(target) +
                          "&amp;module=" + httplib::detail::encode_query_param(module);
    // The frames link keeps the page's other choices (window, benign stacks, how many).
    std::string same_page = q;
    for (const char* p : {"from", "all", "top"}) {
      if (req.has_param(p)) {
        same_page += std::string("&amp;") + p + "=" +
                     httplib::detail::encode_query_param(req.get_param_value(p));
      }
    }
    const std::string links =
        "<p><a href=\"report?" + same_page +
        (options.frames ? "\">without frames</a>" : "&amp;frames=1\">with frames</a>") +
        " · <a href=\"api/v1/stacks?" +
        q + "\">stacks (JSON)</a> · <a href=\"api/v1/diff?" + q +
        "\">diff (JSON)</a> · <a href=\"api/v1/capture?" + q + "\">capture for go tool pprof</a></p>";
    Reply(res, html, 200, "Goroutine report: " + target, text, links);
  });
}

}  // namespace gx
