// goroutine_triage: the offline triage CLI. Analyze one capture, diff two, or capture a live
// target twice and diff. A thin shell over the core library.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "aggregate/diff.h"
#include "classify/classifier.h"
#include "classify/rules.h"
#include "common/duration.h"
#include "common/limits.h"
#include "pipeline/capture.h"
#include "report/json_report.h"
#include "report/text_report.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a capture could not be read or decoded
constexpr int kExitUsage = 2;    // bad flags or arguments

struct CommonFlags {
  std::string output = "text";
  int top = 10;
  bool frames = false;
  bool all = false;
  std::string rules_file;
  std::string timeout = "30s";
  int debug = 0;
  bool force = false;
};

void AddCommonFlags(CLI::App* cmd, CommonFlags* f) {
  cmd->add_option("-o,--output", f->output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--top", f->top, "Stacks to list (0 for all)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_flag("--frames", f->frames, "Print every frame of the listed stacks");
  cmd->add_flag("--all", f->all,
                "Also list benign stacks (idle servers, runtime, ignored), in text and JSON");
  cmd->add_option("--rules", f->rules_file,
                  "YAML file with extra classification rules and ignore-lists");
  cmd->add_option("--timeout", f->timeout, "Deadline for fetching a URL")->capture_default_str();
  cmd->add_option("--debug", f->debug,
                  "Format fetched from a target URL without a path or query (or with the "
                  "profile's own path): 0 (protobuf, cheap for the "
                  "target), 1, or 2 (text with wait reasons, wait times and creators; the "
                  "target stops the world while it writes it, longer with more goroutines)")
      ->check(CLI::IsMember({0, 1, 2}))
      ->capture_default_str();
  cmd->add_flag("--force", f->force,
                "Fetch a debug=2 dump even from a target with more than " +
                    std::to_string(gx::kTriageMaxDebug2Goroutines) +
                    " goroutines (otherwise its cheap debug=0 profile is read first, and the "
                    "dump refused above that)");
}

struct Setup {
  gx::Classifier classifier;
  gx::CaptureOptions options;
};

// Reads the rules file and flags into the pipeline settings; prints the error on failure.
bool MakeSetup(const CommonFlags& f, Setup* setup) {
  auto timeout = gx::ParseDuration(f.timeout);
  if (!timeout) {
    std::cerr << "goroutine_triage: bad --timeout '" << f.timeout
              << "' (a duration such as 30s or 1m30s: whole numbers with the units ms, s, m, h, d)\n";
    return false;
  }
  if (timeout->count() <= 0) {
    std::cerr << "goroutine_triage: --timeout must be more than 0\n";
    return false;
  }
  setup->options.timeout = *timeout;
  setup->options.target_debug = f.debug;
  setup->options.max_redirects = 10;  // as Go's HTTP client (and so `go tool pprof`)
  setup->options.max_debug2_goroutines = f.force ? 0 : gx::kTriageMaxDebug2Goroutines;
  if (!f.rules_file.empty()) {
    std::ifstream in(f.rules_file);
    if (!in) {
      std::cerr << "goroutine_triage: cannot open rules file " << f.rules_file << "\n";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto rules = gx::ParseRulesDocument(text.str(), f.rules_file);
    if (!rules.ok()) {
      std::cerr << "goroutine_triage: " << rules.status().message() << "\n";
      return false;
    }
    setup->classifier = gx::Classifier(std::move(rules.value()));
  }
  return true;
}

// --debug picks the format fetched from a URL; a file or stdin is read as it is.
void WarnDebugUnused(const CommonFlags& f, const std::vector<std::string>& sources) {
  if (f.debug == 0) return;
  const std::string asked = "debug=" + std::to_string(f.debug);
  for (const std::string& source : sources) {
    if (!gx::IsUrlSource(source)) {
      std::cerr << "goroutine_triage: --debug applies to URLs only; " << source
                << " is read in whatever format it holds\n";
    } else if (gx::ProfileUrlFor(source, f.debug).find(asked) == std::string::npos) {
      std::cerr << "goroutine_triage: --debug " << f.debug << " does not apply to " << source
                << ": its path and query are fetched as written\n";
    }
  }
}

gx::TextReportOptions TextOptions(const CommonFlags& f) {
  gx::TextReportOptions o;
  o.top_k = f.top == 0 ? 1 << 30 : f.top;
  o.frames = f.frames;
  o.show_benign = f.all;
  return o;
}

int Analyze(const std::string& source, const CommonFlags& f) {
  Setup setup;
  if (!MakeSetup(f, &setup)) return kExitUsage;
  WarnDebugUnused(f, {source});
  auto capture = gx::CaptureSource(source, setup.classifier, setup.options);
  if (!capture.ok()) {
    std::cerr << "goroutine_triage: " << capture.status().message() << "\n";
    return kExitFailure;
  }
  if (f.output == "json") {
    std::cout << gx::JsonText(gx::SnapshotToJson(capture->snapshot, f.top, f.frames, f.all), 2) << "\n";
  } else {
    std::cout << gx::RenderSnapshotText(capture->snapshot, TextOptions(f));
  }
  return kExitOk;
}

int PrintDiff(const gx::Snapshot& before, const gx::Snapshot& after, const CommonFlags& f) {
  gx::SnapshotDiff diff = gx::DiffSnapshots(before, after);
  if (f.output == "json") {
    nlohmann::json out = gx::DiffToJson(diff, f.top, f.frames, f.all);
    out["before"] = before.source;
    out["after"] = after.source;
    std::cout << gx::JsonText(out, 2) << "\n";
  } else {
    std::cout << gx::RenderDiffText(diff, before.source, after.source, TextOptions(f));
  }
  return kExitOk;
}

int Diff(const std::string& before_source, const std::string& after_source,
         const CommonFlags& f) {
  if (before_source == "-" && after_source == "-") {
    std::cerr << "goroutine_triage: stdin can be read only once: give one capture as a file\n";
    return kExitUsage;
  }
  Setup setup;
  if (!MakeSetup(f, &setup)) return kExitUsage;
  WarnDebugUnused(f, {before_source, after_source});
  auto before = gx::CaptureSource(before_source, setup.classifier, setup.options);
  if (!before.ok()) {
    std::cerr << "goroutine_triage: " << before.status().message() << "\n";
    return kExitFailure;
  }
  auto after = gx::CaptureSource(after_source, setup.classifier, setup.options);
  if (!after.ok()) {
    std::cerr << "goroutine_triage: " << after.status().message() << "\n";
    return kExitFailure;
  }
  return PrintDiff(before->snapshot, after->snapshot, f);
}

// Writes a capture's body to DIR/goroutine-<unix time>.<format extension>; the path, or ""
// (with the reason on stderr) when it cannot.
std::string SaveCapture(const gx::Capture& capture, const std::string& dir) {
  if (capture.raw.empty()) return "";
  const gx::DecodeInfo& info = capture.snapshot.info;
  const char* ext = info.format == gx::ProfileFormat::kProto ? ".pb" : ".txt";
  const std::string path = dir + "/goroutine-" +
                           std::to_string(capture.snapshot.captured_unix_ms / 1000) + ext +
                           (info.compressed ? ".gz" : "");
  std::ofstream out(path, std::ios::binary);
  out.write(capture.raw.data(), static_cast<std::streamsize>(capture.raw.size()));
  out.close();
  if (!out) {
    std::cerr << "goroutine_triage: cannot save the first capture to " << path << "\n";
    return "";
  }
  return path;
}

int Watch(const std::string& url, const std::string& interval_text, const std::string& save_dir,
          const CommonFlags& f) {
  Setup setup;
  if (!MakeSetup(f, &setup)) return kExitUsage;
  auto interval = gx::ParseDuration(interval_text);
  if (!interval || interval->count() <= 0) {
    std::cerr << "goroutine_triage: bad --interval '" << interval_text
              << "' (a duration such as 10m, more than 0)\n";
    return kExitUsage;
  }
  if (!gx::IsUrlSource(url)) {
    std::cerr << "goroutine_triage: watch needs an http(s):// URL\n";
    return kExitUsage;
  }
  // The first capture is saved: if the second fails or the wait is cut short, it still
  // serves a later `diff` instead of costing another interval.
  setup.options.keep_raw_bytes = setup.options.limits.max_text_bytes;
  // CaptureSource, as analyze and diff: a debug=2 dump only after the cheap count allows it.
  auto before = gx::CaptureSource(url, setup.classifier, setup.options);
  if (!before.ok()) {
    std::cerr << "goroutine_triage: first capture failed: " << before.status().message() << "\n";
    return kExitFailure;
  }
  const std::string saved = SaveCapture(before.value(), save_dir);
  // Said now, not only when the second capture fails: the wait may be cut short (Ctrl-C).
  const std::string later = saved.empty() ? "" : "goroutine_triage diff " + saved + " " + url +
                            (f.debug != 0 ? " --debug " + std::to_string(f.debug) : "");
  std::cerr << "goroutine_triage: first capture: " << before->snapshot.total << " goroutines"
            << (saved.empty() ? "" : ", saved to " + saved) << "; next in " << interval_text
            << (later.empty() ? "" : " (or compare later with: " + later + ")") << "\n";
  // A URL without a path, or with the profile's own path and no query, takes --debug; others
  // are fetched as they are.
  if (before->snapshot.info.format != gx::ProfileFormat::kDebug2 &&
      gx::ProfileUrlFor(url, 2) != url) {
    std::cerr << "goroutine_triage: this format names no creators and no wait reasons; "
                 "--debug 2 adds them (the target stops the world while it writes that dump)\n";
  }
  std::this_thread::sleep_for(*interval);
  auto after = gx::CaptureSource(url, setup.classifier, setup.options);
  if (!after.ok()) {
    std::cerr << "goroutine_triage: second capture failed: " << after.status().message() << "\n";
    if (!later.empty()) std::cerr << "goroutine_triage: compare later with: " << later << "\n";
    return kExitFailure;
  }
  return PrintDiff(before->snapshot, after->snapshot, f);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "goroutine_triage: find what is accumulating in a Go service's goroutines.\n"
      "Reads goroutine profiles (debug=0/1/2, goroutine or goroutineleak) from files, stdin\n"
      "(-) or http(s):// URLs; a URL without a path (or with just /) gets\n/debug/pprof/goroutine?debug=0 (--debug 2 for the text dump), as does one ending in\n/debug/pprof/goroutine without a query."};
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  app.require_subcommand(0, 1);

  CommonFlags analyze_flags, diff_flags, watch_flags;
  std::string analyze_source, before, after, watch_url, interval = "10m";

  auto* analyze = app.add_subcommand("analyze", "Triage one capture");
  analyze->add_option("source", analyze_source, "File, - or URL")->required();
  AddCommonFlags(analyze, &analyze_flags);

  auto* diff = app.add_subcommand("diff", "What grew between two captures");
  diff->add_option("before", before, "Older capture (file, - or URL)")->required();
  diff->add_option("after", after, "Newer capture (file, - or URL)")->required();
  AddCommonFlags(diff, &diff_flags);

  auto* watch = app.add_subcommand("watch", "Capture a URL twice, --interval apart, and diff");
  watch->add_option("url", watch_url, "Target URL")->required();
  watch->add_option("--interval", interval, "Time between the two captures")
      ->capture_default_str();
  std::error_code tmp_error;
  std::string save_dir = std::filesystem::temp_directory_path(tmp_error).string();
  if (tmp_error) save_dir = "/tmp";
  watch->add_option("--save-dir", save_dir, "Where the first capture is saved")
      ->capture_default_str();
  AddCommonFlags(watch, &watch_flags);

  app.add_subcommand("rules", "Print the built-in classification rules");

  // CLI11 answers an unknown command with "A subcommand is required"; name it instead.
  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "analyze" && first != "diff" &&
      first != "watch" && first != "rules") {
    std::cerr << "goroutine_triage: unknown command '" << argv[1]
              << "' (analyze, diff, watch or rules; --help for more)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (version) {
    std::cout << "goroutine_triage " << GX_VERSION << " (" << GX_REVISION << ")\n";
    return kExitOk;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "goroutine_triage: a command is required (analyze, diff, watch or rules; "
                 "--help for more)\n";
    return kExitUsage;
  }
  if (*analyze) return Analyze(analyze_source, analyze_flags);
  if (*diff) return Diff(before, after, diff_flags);
  if (*watch) return Watch(watch_url, interval, save_dir, watch_flags);
  std::cout << gx::BuiltinRulesYaml()
            << "\n# Decided in code, around the rules above (the `rule` a stack reports):\n";
  for (const gx::CodeRule& r : gx::kCodeRules) {
    std::cout << "#   " << r.name << ": " << r.meaning << "\n";
  }
  return kExitOk;
}
