// Fetches a URL over HTTP(S) with a hard deadline and a byte cap, handing the body to the
// caller chunk by chunk. The deadline bounds the whole fetch, the name lookup included. With a
// ConnectionPool, connections are kept alive and reused between fetches of the same target;
// without, each fetch opens and closes its own. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fetch/bounded_resolver.h"
#include "fetch/connection_pool.h"

namespace gx {

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string path_and_query;  // "/" when empty
  std::string HostPort() const;  // "host:port", IPv6 in brackets
};

Result<ParsedUrl> ParseUrl(std::string_view url);

// Where a redirect's Location points, made absolute against the URL that answered with it
// ("/path", "//host/path" and "http(s)://..."); "" for anything else.
std::string ResolveRedirect(const ParsedUrl& from, std::string_view location);

struct TlsOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
};

// Where a fetch may connect when its URL names a host rather than giving an IP address. The
// name is resolved by FetchUrl itself, and each connection goes to an address that `allows`
// accepts (the first one, then the next when it refuses connections), never to one it
// refuses: a check of the name's addresses made elsewhere could be answered differently by
// the next DNS lookup (rebinding). IP literals are not resolved and not checked here.
// Immutable once built; thread-safe if its functions are.
struct ConnectPolicy {
  std::function<bool(const std::string& address)> allows;  // numeric: "10.1.2.3", "fd00::1"
  // Null: the system resolver (getaddrinfo). Tests give names answers of their own.
  ResolveFunction resolve;
  std::string name;  // names the allowed ranges in errors: "probe.allowed_targets.resolved_cidrs"
  std::string key;   // what it allows ("10.0.0.0/8,fd00::/8"), in the connection pool key
};

struct FetchRequest {
  std::string url;
  std::chrono::milliseconds timeout{10000};
  std::size_t max_bytes = 16u << 20;
  std::map<std::string, std::string> headers;  // may carry secrets: never logged
  TlsOptions tls;
  ConnectionPool* pool = nullptr;  // keep-alive connections to reuse, when set
  // When set, host names connect only to addresses it allows. Pooled connections are kept
  // apart by the policy's key: one made under other ranges is never reused.
  std::shared_ptr<const ConnectPolicy> connect_policy;
};

struct FetchResponse {
  int status = 0;
  std::string content_type;
  std::size_t bytes = 0;
  double seconds = 0;
  std::string error_body;  // first bytes of a non-200 body, for the message
  // A redirect's Location (301, 302, 303, 307, 308) when it is a plain URL of at most 1 KiB
  // (no spaces, control or non-ASCII bytes); empty otherwise, and the error is then the bare
  // status.
  std::string location;
};

// Bounded failure reasons for metrics and logs.
enum class FetchError {
  kNone,
  kBadUrl,
  kDns,             // the host name did not resolve (a lookup past the deadline is kTimeout)
  kAddressRefused,  // the host name resolved only to addresses the ConnectPolicy refuses
  kConnect,
  kTimeout,
  kTooLarge,
  kHttpStatus,
  kCanceled,
  kTls,
  kOther  // the last (self metrics create a series for each reason from kBadUrl to here)
};
const char* FetchErrorReason(FetchError e);  // "connect", "timeout", ...

struct FetchOutcome {
  FetchResponse response;
  FetchError error = FetchError::kNone;
  Status status;  // ok() iff error == kNone
};

// on_chunk returns false to stop reading (its own error). Non-2xx bodies are not passed on.
// Redirects are not followed (a probe must not be sent where allowed_targets did not check):
// a 3xx fails with kHttpStatus, and its message and response.location say where it points.
FetchOutcome FetchUrl(const FetchRequest& request,
                      const std::function<bool(std::string_view)>& on_chunk);

}  // namespace gx
