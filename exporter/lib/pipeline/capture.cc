#include "common/clock.h"
#include "pipeline/capture.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "aggregate/aggregator.h"
#include "decode/profile_decoder.h"
#include "decode/text_util.h"

namespace gx {
namespace {

// Appends a chunk of the body to *raw while the whole body fits in `max`; the first chunk that
// does not fit drops it all (a body with a chunk missing would be a corrupt capture).
void KeepRaw(std::string_view chunk, std::size_t max, std::string* raw, bool* too_big) {
  if (*too_big) return;
  if (raw->size() + chunk.size() > max) {
    *too_big = true;
    std::string().swap(*raw);
    return;
  }
  raw->append(chunk);
}

// One capture's decoder and aggregator, and the memory charge they share (declared first, so
// it outlives both).
struct Pipeline {
  Pipeline(const Classifier& classifier, const CaptureOptions& options)
      : charge(options.memory_budget),
        aggregator(&classifier, options.limits, options.shapes, &charge),
        decoder(&aggregator, options.limits, &charge) {
    aggregator.KeepLabelKeys(options.label_keys);
  }
  MemoryCharge charge;
  Aggregator aggregator;
  ProfileDecoder decoder;
};

Result<Capture> CaptureStream(std::istream& in, const std::string& name,
                              const Classifier& classifier, const CaptureOptions& options) {
  Pipeline pipeline(classifier, options);
  ProfileDecoder& decoder = pipeline.decoder;
  Aggregator& aggregator = pipeline.aggregator;
  Capture capture;
  bool raw_too_big = false;
  std::vector<char> buf(256 * 1024);
  std::size_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::size_t n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    total += n;
    if (total > options.limits.max_text_bytes) {
      return Status::Error(name + ": larger than " +
                           std::to_string(options.limits.max_text_bytes) + " bytes");
    }
    KeepRaw(std::string_view(buf.data(), n), options.keep_raw_bytes, &capture.raw, &raw_too_big);
    Status st = decoder.Feed(std::string_view(buf.data(), n));
    if (!st.ok()) return st.WithContext(name);
  }
  if (in.bad()) return Status::Error(name + ": read error");
  Status st = decoder.Finish();
  if (!st.ok()) return st.WithContext(name);
  capture.snapshot = aggregator.Finalize(decoder.info());
  capture.snapshot.source = name;
  // A saved capture was taken when its profile says (debug=0 carries time_nanos), not when it
  // is read; text captures carry no time, so their capture time stays unknown (0).
  capture.snapshot.captured_unix_ms = decoder.info().time_nanos / 1000000;
  return capture;
}

}  // namespace

std::string ProfileUrlFor(const std::string& url, int debug) {
  // "http://host:port" and "http://host:port/" both mean the target, not its root page;
  // so does its pprof index page, "/debug/pprof/" (copied from a browser).
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return url;
  const std::string& path = parsed->path_and_query;
  if (path == "/" || path == "/debug/pprof" || path == "/debug/pprof/") {
    // The URL ends with the path, except for the "/" that ParseUrl adds to a bare host.
    const bool path_written = path != "/" || EndsWith(url, "/");
    return url.substr(0, url.size() - (path_written ? path.size() : 0)) +
           "/debug/pprof/goroutine?debug=" + std::to_string(debug);
  }
  // The profile's own page without a query (as `go tool pprof` takes it): the format asked for.
  if (path == "/debug/pprof/goroutine" || path == "/debug/pprof/goroutineleak") {
    return url + "?debug=" + std::to_string(debug);
  }
  return url;
}

Result<Capture> CaptureUrl(const std::string& source_url, const Classifier& classifier,
                           const CaptureOptions& options, FetchError* error_kind,
                           int64_t* received) {
  FetchError ignored;
  if (!error_kind) error_kind = &ignored;
  *error_kind = FetchError::kNone;
  int64_t ignored_bytes = 0;
  if (!received) received = &ignored_bytes;
  *received = 0;
  std::string url = ProfileUrlFor(source_url, options.target_debug);
  Pipeline pipeline(classifier, options);
  ProfileDecoder& decoder = pipeline.decoder;
  Aggregator& aggregator = pipeline.aggregator;
  Capture capture;
  bool raw_too_big = false;
  Status decode_error;
  FetchRequest request;
  request.url = url;
  request.timeout = options.timeout;
  request.max_bytes = options.limits.max_text_bytes;
  request.pool = options.connections;
  request.connect_policy = options.connect_policy;
  request.headers = options.headers;
  request.tls = options.tls;
  auto on_chunk = [&](std::string_view chunk) {
    *received += static_cast<int64_t>(chunk.size());
    KeepRaw(chunk, options.keep_raw_bytes, &capture.raw, &raw_too_big);
    decode_error = decoder.Feed(chunk);
    return decode_error.ok();
  };
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  FetchOutcome outcome = FetchUrl(request, on_chunk);
  // A redirect's body is not handed on, so the decoder has seen nothing yet. Every hop
  // shares the one deadline.
  for (int hop = 0; hop < options.max_redirects && outcome.error == FetchError::kHttpStatus &&
                    !outcome.response.location.empty();
       ++hop) {
    auto from = ParseUrl(url);
    const std::string next = from.ok() ? ResolveRedirect(from.value(), outcome.response.location)
                                       : std::string();
    auto to = ParseUrl(next);
    if (!to.ok()) break;
    if (to->HostPort() != from->HostPort()) request.headers.clear();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *error_kind = FetchError::kTimeout;
      return Status::Error("deadline reached while following redirects, at " + next);
    }
    url = next;
    request.url = next;
    request.timeout = left;
    outcome = FetchUrl(request, on_chunk);
    if (hop + 1 == options.max_redirects && outcome.error == FetchError::kHttpStatus &&
        !outcome.response.location.empty()) {
      *error_kind = FetchError::kHttpStatus;
      return Status::Error("stopped after " + std::to_string(options.max_redirects) +
                           " redirects, at " + url)
          .WithContext(source_url);
    }
  }
  if (!decode_error.ok()) {
    *error_kind = FetchError::kCanceled;
    return decode_error.WithContext(url);
  }
  if (!outcome.status.ok()) {
    *error_kind = outcome.error;
    if (outcome.error == FetchError::kHttpStatus && outcome.response.status == 404 &&
        url.find("/debug/pprof/goroutineleak") != std::string::npos) {
      return Status::Error(outcome.status.message() +
                           " (no goroutineleak profile: it needs Go 1.27, or Go 1.26 built with "
                           "GOEXPERIMENT=goroutineleakprofile)")
          .WithContext(url);
    }
    return outcome.status.WithContext(url);
  }
  Status st = decoder.Finish();
  if (!st.ok()) {
    *error_kind = FetchError::kCanceled;
    return st.WithContext(url);
  }
  capture.snapshot = aggregator.Finalize(decoder.info());
  capture.snapshot.source = url;
  capture.snapshot.captured_unix_ms = NowUnixMs();
  return capture;
}

bool IsUrlSource(const std::string& source) {
  return StartsWith(source, "http://") || StartsWith(source, "https://");
}

namespace {

// For a URL of a goroutine (or goroutineleak) debug=2 dump, the target's cheap debug=0
// goroutine profile; "" for any other URL.
std::string CheapProfileUrlFor(const std::string& url) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return "";
  const std::string& path = parsed->path_and_query;
  const std::size_t query = path.find('?');
  const std::string_view route = std::string_view(path).substr(0, query);
  if (route != "/debug/pprof/goroutine" && route != "/debug/pprof/goroutineleak") return "";
  if (query == std::string::npos) return "";
  const std::string_view q = std::string_view(path).substr(query);
  if (q.find("?debug=2") == std::string_view::npos && q.find("&debug=2") == std::string_view::npos) {
    return "";
  }
  return url.substr(0, url.size() - path.size()) + "/debug/pprof/goroutine?debug=0";
}

}  // namespace

Result<Capture> CaptureSource(const std::string& source, const Classifier& classifier,
                              const CaptureOptions& options) {
  if (IsUrlSource(source)) {
    const std::string url = ProfileUrlFor(source, options.target_debug);
    const std::string cheap = CheapProfileUrlFor(url);
    if (options.max_debug2_goroutines > 0 && !cheap.empty()) {
      CaptureOptions first = options;
      first.keep_raw_bytes = 0;
      first.target_debug = 0;
      auto count = CaptureUrl(cheap, classifier, first);
      if (!count.ok()) {
        return count.status().WithContext("counting goroutines before a debug=2 dump");
      }
      const int64_t total = count->snapshot.total;
      if (total > options.max_debug2_goroutines) {
        return Status::Error(
            url + ": not fetched: the target has " + std::to_string(total) +
            " goroutines, and a debug=2 dump stops its world while it writes every one (about " +
            std::to_string(std::max<int64_t>(1, total * 7 / 1000)) +
            " ms, 7 ms per 1,000 goroutines); use --debug 0, or --force to fetch it anyway");
      }
    }
    return CaptureUrl(source, classifier, options);
  }
  if (source == "-") return CaptureStream(std::cin, "stdin", classifier, options);
  std::error_code ec;
  if (std::filesystem::is_directory(source, ec)) {
    return Status::Error(source + ": is a directory, not a capture");
  }
  std::ifstream file(source, std::ios::binary);
  if (!file) {
    const int err = errno;
    std::string message = source + ": cannot open: " + std::strerror(err);
    // "host:port" is how scrape configs name targets; as a file name it is a typo.
    if (err == ENOENT && source.find("://") == std::string::npos &&
        source.find(':') != std::string::npos) {
      message += " (for a live target, use http://" + source + ")";
    } else if (err == ENOENT && source.find("://") != std::string::npos) {
      message += " (only http:// and https:// URLs are fetched)";
    }
    return Status::Error(message);
  }
  return CaptureStream(file, source, classifier, options);
}

}  // namespace gx
