// One capture, start to finish: read a file, stdin or URL, stream it through the decoder
// into the aggregator, and return the snapshot. Stateless; thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aggregate/snapshot.h"
#include "aggregate/stack_shape_cache.h"
#include "classify/classifier.h"
#include "common/limits.h"
#include "common/memory_budget.h"
#include "common/status.h"
#include "fetch/http_fetch.h"

namespace gx {

struct CaptureOptions {
  Limits limits;
  std::chrono::milliseconds timeout{30000};
  std::map<std::string, std::string> headers;
  TlsOptions tls;
  std::size_t keep_raw_bytes = 0;  // keep the raw body up to this size (0: do not keep)
  int target_debug = 0;  // the format fetched from a URL without a path (ProfileUrlFor)
  // When > 0, a debug=2 goroutine dump (or goroutineleak?debug=2) is fetched from a URL only
  // after a cheap debug=0 fetch found at most this many goroutines in the target: the dump
  // stops the target's world for all of its goroutines (goroutine_triage; the exporter's
  // fetch planner has its own caps).
  int64_t max_debug2_goroutines = 0;
  // Redirects followed from a URL (goroutine_triage, as `go tool pprof` does). The exporter
  // follows none: a probe goes only where allowed_targets checked, and a redirect's message
  // names where it points. Headers are not sent on to another host.
  int max_redirects = 0;
  StackShapeCache* shapes = nullptr;  // shares stack shapes across captures when set
  // The pprof label keys the module splits series by: kept in every label set of the
  // snapshot, when the others are dropped past Limits::max_snapshot_label_bytes.
  std::vector<std::string> label_keys;
  // Bounds what this capture holds together with the others in progress, when set.
  MemoryBudget* memory_budget = nullptr;
  ConnectionPool* connections = nullptr;  // keeps connections to targets alive when set
  std::shared_ptr<const ConnectPolicy> connect_policy;  // where host names may connect, when set
};

struct Capture {
  Snapshot snapshot;
  std::string raw;  // the body as received, when kept and small enough
};

// Whether CaptureSource fetches `source` (an http:// or https:// URL) rather than reading it.
bool IsUrlSource(const std::string& source);

// `source` is a path, "-" for stdin, or an http(s):// URL. A URL without a path gets the
// cheap default /debug/pprof/goroutine?debug=0.
Result<Capture> CaptureSource(const std::string& source, const Classifier& classifier,
                              const CaptureOptions& options);

// On failure, *error_kind (if given) says why in a bounded set (for metrics). *received (if
// given) is the count of body bytes read, whether or not the capture succeeded.
Result<Capture> CaptureUrl(const std::string& url, const Classifier& classifier,
                           const CaptureOptions& options, FetchError* error_kind = nullptr,
                           int64_t* received = nullptr);

// The URL actually fetched for a source given as a URL: a target without a path gets
// /debug/pprof/goroutine?debug=<debug> (CaptureOptions::target_debug).
std::string ProfileUrlFor(const std::string& url, int debug = 0);

}  // namespace gx
