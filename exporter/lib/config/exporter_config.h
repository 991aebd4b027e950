// The exporter's configuration file (--config.file): modules, the /probe allowlist and watch
// mode targets. Parsed strictly (unknown keys are errors naming the line) into immutable
// values; a loaded Config is shared read-only between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classify/classifier.h"
#include "classify/rules.h"
#include "common/status.h"
#include "fetch/http_fetch.h"

namespace gx {

// How often and under which size an expensive profile may be fetched (FORMATS.md §4, §6).
struct ExpensiveFetchPolicy {
  bool enabled = true;
  int64_t max_goroutines = 0;             // fetch only when the cheap total is <= this
  std::chrono::milliseconds min_interval{0};  // and no more often than this per target
};

struct Module {
  std::string name;
  std::string scheme = "http";
  std::string path = "/debug/pprof/goroutine";          // debug=N is added by the planner
  std::string leak_path = "/debug/pprof/goroutineleak";
  std::chrono::milliseconds timeout{10000};  // upper bound; probes also honour the scrape timeout
  std::size_t max_response_bytes = 16u << 20;  // per fetch, before decompression
  // debug=2 stops the world for the whole dump: ~7 ms per 1k goroutines measured, so the
  // default cap of 2,000 keeps the pause near 15 ms; every 10 minutes at most.
  ExpensiveFetchPolicy debug2{true, 2000, std::chrono::minutes(10)};
  // The leak-detecting GC stalls ~6 ms at 10k goroutines and 1.8 s at 100k (super-linear).
  ExpensiveFetchPolicy goroutineleak{true, 10000, std::chrono::minutes(15)};
  std::chrono::milliseconds min_interval{0};  // probes sooner than this reuse the last result
  TlsOptions tls;
  std::string bearer_token_file;  // read at fetch time; never logged
  std::string basic_auth_username;
  std::string basic_auth_password_file;
  std::map<std::string, std::string> headers;
  std::vector<std::string> label_keys;  // pprof label keys that split series
  int top_k = 20;          // stacks exported by count
  int top_k_growth = 10;   // extra stacks exported by growth (HistoryStore::GrowthBase)
  int max_label_values = 20;  // distinct values per label key before folding into "other"
  std::vector<Rule> rules;    // user rules, ignore-lists first
  // Built from `rules` once when the configuration is loaded, not on every probe; null in a
  // Module assembled by hand (callers then build one).
  std::shared_ptr<const Classifier> classifier;
};

struct TargetAllowlist {
  bool allow_any = true;               // no allowlist configured
  std::vector<std::string> host_globs;  // "*.svc.cluster.local", "localhost"
  std::vector<std::string> cidrs;       // "10.0.0.0/8", "::1/128"
  // Ranges that names allowed by host_globs must resolve into; the probe connects only to an
  // address in them. Empty: names are connected to wherever they resolve.
  std::vector<std::string> resolved_cidrs;
  // Built from resolved_cidrs when the configuration is loaded; null when that is empty.
  std::shared_ptr<const ConnectPolicy> connect_policy;
  // True if host (name or IP literal, no port) may be probed.
  bool Allows(const std::string& host) const;
};

struct StaticTargetGroup {
  std::vector<std::string> targets;  // "host:port" or URLs
  std::string module = "default";
  std::map<std::string, std::string> labels;
};

struct FileSdConfig {
  std::vector<std::string> files;  // globs of Prometheus file_sd JSON or YAML files
  std::chrono::milliseconds refresh_interval{30000};
  std::string module = "default";
};

struct WatchConfig {
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{10000};
  int concurrency = 4;
  double jitter = 0.1;  // fraction of the interval
  std::string target_label = "target";
  int history_max_snapshots = 60;
  std::chrono::milliseconds history_max_age = std::chrono::hours(2);
  // Targets (watched or probed through /probe) with a history; the least recently probed go
  // beyond it. Fewer than the targets a pod probes in turn means no target keeps two points.
  int history_max_targets = 2000;
  std::vector<StaticTargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
};

struct Config {
  std::map<std::string, Module> modules;  // always has "default"
  TargetAllowlist allowlist;
  WatchConfig watch;
  std::string source;  // file name, for messages
  std::string checksum;  // of the file content, to skip no-op reloads

  const Module* FindModule(const std::string& name) const;
};

// The configuration used without --config.file: one "default" module, any target allowed.
std::shared_ptr<const Config> DefaultConfig();

Result<std::shared_ptr<const Config>> ParseConfig(const std::string& yaml_text,
                                                  const std::string& source);
Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path);

// One watch target resolved from static_configs or file_sd.
struct WatchTarget {
  std::string address;  // as written: "host:port" or URL
  std::string module;
  std::map<std::string, std::string> labels;
};

// The targets each file of one file_sd config gave when it last read well. Owned by the
// caller across ResolveFileSd calls; not thread-safe.
struct FileSdMemory {
  std::map<std::string, std::vector<WatchTarget>> by_file;
};

// Reads every file matched by the file_sd globs (JSON or YAML, Prometheus file_sd format:
// a list of {targets: [...], labels: {...}}); bad files are reported. With `memory`, a file
// that fails to read or parse (caught mid-write, broken by an edit) keeps the targets it last
// gave, as Prometheus keeps a file's last good groups; a file no longer matched is forgotten.
// Without it, or before a first good read, a bad file gives no targets.
std::vector<WatchTarget> ResolveFileSd(const FileSdConfig& sd, std::vector<std::string>* errors,
                                       FileSdMemory* memory = nullptr);

}  // namespace gx
