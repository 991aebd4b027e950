#include "fetch/http_fetch.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/clock.h"
#include "common/limits.h"
#include "fetch/bounded_resolver.h"
#include "fetch/capped_client.h"
#include "fetch/deadline_watchdog.h"

namespace gx {
namespace {

// The system's answer for a host name: numeric addresses in getaddrinfo's order (the call and
// hints cpp-httplib itself connects with), each once, at most kMaxResolvedAddresses.
Result<std::vector<std::string>> SystemResolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) return Status::Error(gai_strerror(rc));
  std::vector<std::string> out;
  for (addrinfo* a = found; a && out.size() < kMaxResolvedAddresses; a = a->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
            0 &&
        std::find(out.begin(), out.end(), text) == out.end()) {
      out.emplace_back(text);
    }
  }
  freeaddrinfo(found);
  return out;
}

// IP literals are connected to as written (the allowlist judged them already). A zone id
// ("fe80::1%eth0") does not make a literal here: the allowlist cannot parse one, so it is
// resolved and judged like a name (and refused, as the policy cannot parse it either).
bool IsIpLiteral(const std::string& host) {
  if (host.find('%') != std::string::npos) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  freeaddrinfo(found);
  return true;
}

// The addresses a host name may be connected to (under `policy`, if any), in the resolver's
// order of preference: each is tried in turn, as cpp-httplib tries every address of a name it
// resolves itself. Empty for an IP literal. The name is looked up here rather than by
// cpp-httplib so that the lookup, too, ends at the deadline.
Result<std::vector<std::string>> AllowedAddresses(const std::string& host,
                                                  const ConnectPolicy* policy,
                                                  std::chrono::steady_clock::time_point deadline,
                                                  FetchError* kind) {
  if (IsIpLiteral(host)) return std::vector<std::string>();
  const bool system = !policy || !policy->resolve;
  const ResolveFunction& resolve = system ? ResolveFunction(SystemResolve) : policy->resolve;
  // Concurrent lookups of one name by the system resolver share its answer.
  BoundedLookup lookup = ResolveBefore(host, resolve, deadline, system ? host : std::string());
  if (!lookup.addresses.ok()) {
    *kind = lookup.timed_out ? FetchError::kTimeout : FetchError::kDns;
    return Status::Error("cannot resolve host '" + host + "': " +
                         lookup.addresses.status().message());
  }
  std::vector<std::string> allowed, refused;
  for (const std::string& address : lookup.addresses.value()) {
    (!policy || policy->allows(address) ? allowed : refused).push_back(address);
    if (allowed.size() + refused.size() >= kMaxResolvedAddresses) break;
  }
  if (!allowed.empty()) return allowed;
  if (!policy) {
    *kind = FetchError::kDns;
    return Status::Error("cannot resolve host '" + host + "': no address");
  }
  *kind = FetchError::kAddressRefused;
  std::string list;
  for (std::size_t i = 0; i < refused.size() && i < kMaxAddressesInError; ++i) {
    list += (i ? ", " : "") + refused[i];
  }
  if (refused.size() > kMaxAddressesInError) list += ", ...";
  return Status::Error("host '" + host + "' resolves to " + (list.empty() ? "no address" : list) +
                       ", outside " + policy->name);
}

}  // namespace

const char* FetchErrorReason(FetchError e) {
  switch (e) {
    case FetchError::kNone: return "none";
    case FetchError::kBadUrl: return "bad_url";
    case FetchError::kDns: return "dns";
    case FetchError::kAddressRefused: return "address_refused";
    case FetchError::kConnect: return "connect";
    case FetchError::kTimeout: return "timeout";
    case FetchError::kTooLarge: return "too_large";
    case FetchError::kHttpStatus: return "http_status";
    case FetchError::kCanceled: return "decode";
    case FetchError::kTls: return "tls";
    case FetchError::kOther: return "other";
  }
  return "other";
}

std::string ParsedUrl::HostPort() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string ResolveRedirect(const ParsedUrl& from, std::string_view location) {
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return std::string(location);
  }
  if (location.starts_with("//")) return from.scheme + ":" + std::string(location);
  if (location.starts_with("/")) {
    return from.scheme + "://" + from.HostPort() + std::string(location);
  }
  return "";  // relative to the path: pprof servers do not answer so
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return Status::Error("URL needs http:// or https://");
  out.scheme = std::string(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return Status::Error("unsupported URL scheme '" + out.scheme + "'");
  }
  std::string_view rest = url.substr(sep + 3);
  std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.path_and_query = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.path_and_query[0] == '?') out.path_and_query = "/" + out.path_and_query;
  if (authority.find('@') != std::string_view::npos) {
    return Status::Error("credentials in URLs are not supported; use the auth settings");
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::Error("bad IPv6 address in URL");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::Error("bad characters after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::Error("URL has no host");
  auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
  };
  auto is_hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  if (authority[0] != '[') {
    // Names and IPv4 addresses: letters, digits, '-', '.', '_' (DNS names are ASCII).
    for (char c : out.host) {
      if (!is_name_char(c)) return Status::Error("bad character in URL host");
    }
  } else {
    // IPv6: hex digits, ':' and '.' (an embedded IPv4 address), then an optional "%zone".
    const std::size_t zone = out.host.find('%');
    const std::string_view address = std::string_view(out.host).substr(0, zone);
    if (address.find(':') == std::string_view::npos) return Status::Error("bad IPv6 address in URL");
    for (char c : address) {
      if (!is_hex(c) && c != ':' && c != '.') return Status::Error("bad IPv6 address in URL");
    }
    if (zone != std::string::npos) {
      const std::string_view name = std::string_view(out.host).substr(zone + 1);
      if (name.empty()) return Status::Error("bad IPv6 zone in URL");
      for (char c : name) {
        if (!is_name_char(c)) return Status::Error("bad IPv6 zone in URL");
      }
    }
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return Status::Error("bad port in URL");
    }
    out.port = port;
  }
  for (char c : out.path_and_query) {
    if (static_cast<unsigned char>(c) <= ' ') return Status::Error("bad character in URL path");
  }
  return out;
}

FetchOutcome FetchUrl(const FetchRequest& request,
                      const std::function<bool(std::string_view)>& on_chunk) {
  FetchOutcome outcome;
  auto fail = [&](FetchError e, std::string message) {
    outcome.error = e;
    outcome.status = Status::Error(std::move(message));
    return outcome;
  };
  auto url = ParseUrl(request.url);
  if (!url.ok()) return fail(FetchError::kBadUrl, url.status().message());

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + request.timeout;
  try {
    const std::string base = url->scheme + "://" + url->HostPort();
    // A pooled connection is only ever reused for the same target and TLS settings.
    const std::string pool_key =
        base + "\x1f" + request.tls.ca_file + "\x1f" + request.tls.cert_file + "\x1f" +
        request.tls.key_file + (request.tls.insecure_skip_verify ? "\x1fi" : "") +
        (request.connect_policy ? "\x1fpolicy:" + request.connect_policy->key : "");
    // A new connection goes to an address of the name (under a policy, an allowed one), the
    // next one after a refused connect; resolved only when a new connection is needed, since
    // a pooled one was made to an address the same policy allowed.
    std::vector<std::string> allowed;
    std::size_t tried = 0;  // allowed[tried - 1] is the address of the latest connection
    auto new_client = [&]() {
      auto client = MakeCappedClient(url->scheme, url->host, url->port, request.tls.cert_file,
                                     request.tls.key_file);
      httplib::ClientImpl& http = client->http();
      if (tried < allowed.size()) http.set_hostname_addr_map({{url->host, allowed[tried++]}});
      http.set_keep_alive(request.pool != nullptr);
      http.set_follow_location(false);
      http.set_decompress(true);
      if (url->scheme == "https") {
        if (!request.tls.ca_file.empty()) http.set_ca_cert_path(request.tls.ca_file.c_str());
        http.enable_server_certificate_verification(!request.tls.insecure_skip_verify);
      }
      return client;
    };
    std::unique_ptr<CappedClient> client;
    if (request.pool) client = request.pool->Take(pool_key, NowUnixMs());
    // A connection the target closed while it idled is not reused: cpp-httplib would reopen
    // it to the address pinned back then; a new client looks the name up again.
    if (client && !client->ConnectionAlive()) client.reset();
    const bool reused = client != nullptr;
    FetchError pin_error = FetchError::kNone;
    std::string pin_message;
    bool resolved = false;
    auto pin = [&]() {
      if (resolved) return true;
      auto addresses =
          AllowedAddresses(url->host, request.connect_policy.get(), deadline, &pin_error);
      if (!addresses.ok()) {
        pin_message = addresses.status().message();
        return false;
      }
      allowed = std::move(addresses).value();
      resolved = true;
      return true;
    };
    if (!client) {
      if (!pin()) return fail(pin_error, pin_message);
      client = new_client();
    }
    httplib::Headers headers;
    for (const auto& [k, v] : request.headers) headers.emplace(k, v);

    bool too_large = false, timed_out = false, consumer_stopped = false;
    int status = 0;
    std::string content_type;
    std::string content_length;
    ReadBudget* budget = nullptr;  // the current request's
    auto on_response = [&](const httplib::Response& r) {
      budget->headers_done = true;
      status = r.status;
      content_type = r.get_header_value("Content-Type");
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        const std::string location = r.get_header_value("Location");
        const bool plain =
            location.size() <= kMaxTargetBytes &&
            std::none_of(location.begin(), location.end(), [](char c) {
              return static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f;
            });
        if (plain) outcome.response.location = location;
      }
      // On the wire: compared with bytes counted after decompression only when there is none.
      if (!r.has_header("Content-Encoding")) content_length = r.get_header_value("Content-Length");
      return true;
    };
    auto on_data = [&](const char* data, size_t len) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out = true;
        return false;
      }
      outcome.response.bytes += len;
      if (outcome.response.bytes > request.max_bytes) {
        too_large = true;
        return false;
      }
      if (status < 200 || status >= 300) {
        if (outcome.response.error_body.size() < 256) {
          outcome.response.error_body.append(data, std::min<size_t>(len, 256));
        }
        return true;
      }
      if (!on_chunk(std::string_view(data, len))) {
        consumer_stopped = true;
        return false;
      }
      return true;
    };
    auto get = [&](CappedClient* capped) {
      httplib::ClientImpl* c = &capped->http();
      // Timeouts are what is left of the deadline (a reused client keeps older settings).
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 1000) left = std::chrono::microseconds(1000);
      const time_t sec = left.count() / 1000000;
      const time_t usec = left.count() % 1000000;
      c->set_connection_timeout(sec, usec);
      c->set_read_timeout(sec, usec);
      c->set_write_timeout(sec, usec);
      budget = &capped->budget();
      *budget = ReadBudget{};
      budget->max_header_bytes = kMaxResponseHeaderBytes;
      budget->max_wire_bytes = MaxResponseWireBytes(request.max_bytes);
      budget->max_line_bytes = kMaxResponseLineBytes;
      // The timeouts above bound each read and write; this bounds the request.
      auto watch = DeadlineWatchdog::Instance().Start(c, deadline);
      return c->Get(url->path_and_query, headers, on_response, on_data);
    };
    auto result = get(client.get());
    if (!result && reused && status == 0 && outcome.response.bytes == 0 &&
        budget->spent == ReadBudget::Spent::kNo && std::chrono::steady_clock::now() < deadline) {
      // The target closed the idle connection just as it was reused: once more, fresh.
      if (!pin()) return fail(pin_error, pin_message);
      client = new_client();
      result = get(client.get());
    }
    while (!result && result.error() == httplib::Error::Connection && tried < allowed.size() &&
           std::chrono::steady_clock::now() < deadline) {
      client = new_client();  // the name's next allowed address
      result = get(client.get());
    }
    outcome.response.status = status;
    outcome.response.content_type = content_type;
    outcome.response.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (budget->spent == ReadBudget::Spent::kHeaders) {
      return fail(FetchError::kTooLarge, "response headers longer than " +
                                             std::to_string(kMaxResponseHeaderBytes) + " bytes");
    }
    if (budget->spent == ReadBudget::Spent::kLine) {
      return fail(FetchError::kTooLarge,
                  "a response line (header, chunk size or trailer) longer than " +
                      std::to_string(kMaxResponseLineBytes) + " bytes");
    }
    if (too_large || budget->spent == ReadBudget::Spent::kWire) {
      return fail(FetchError::kTooLarge,
                  "response larger than " + std::to_string(request.max_bytes) + " bytes" +
                      (too_large ? "" : " (counting its framing on the wire)"));
    }
    if (timed_out) return fail(FetchError::kTimeout, "deadline exceeded while reading the body");
    if (consumer_stopped) return fail(FetchError::kCanceled, "body rejected by the decoder");
    if (!result && std::chrono::steady_clock::now() >= deadline) {
      // Whatever the error says, the deadline came first (or the watchdog cut the request).
      return fail(FetchError::kTimeout,
                  "timed out after " + std::to_string(request.timeout.count()) + " ms");
    }
    if (!result) {
      auto err = result.error();
      switch (err) {
        case httplib::Error::Connection:
        {
          std::string addresses;  // those of the name that were tried, under a policy
          for (std::size_t i = 0; i < tried && i < kMaxAddressesInError; ++i) {
            addresses += (i ? ", " : "") + allowed[i];
          }
          return fail(FetchError::kConnect, "cannot connect to " + url->HostPort() +
                                                (addresses.empty() ? "" : " (" + addresses + ")"));
        }
        case httplib::Error::Read:
        case httplib::Error::Write:
          if (std::chrono::steady_clock::now() >= deadline - std::chrono::milliseconds(50)) {
            return fail(FetchError::kTimeout, "timed out after " +
                                                  std::to_string(request.timeout.count()) + " ms");
          }
          if (status != 0) {
            return fail(FetchError::kOther,
                        "the target closed the connection after " +
                            std::to_string(outcome.response.bytes) + " bytes of the body" +
                            (content_length.empty() ? "" : " (of " + content_length + ")"));
          }
          return fail(FetchError::kOther, "connection error: " + httplib::to_string(err));
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLLoadingCerts:
        case httplib::Error::SSLServerVerification:
          return fail(FetchError::kTls, "TLS error: " + httplib::to_string(err));
        default:
          return fail(FetchError::kOther, "request failed: " + httplib::to_string(err));
      }
    }
    if (status < 200 || status >= 300) {
      std::string body = outcome.response.error_body.substr(0, 120);
      for (char& c : body) {
        if (static_cast<unsigned char>(c) < ' ') c = ' ';
      }
      if (!outcome.response.location.empty()) {
        return fail(FetchError::kHttpStatus,
                    "HTTP " + std::to_string(status) + ": redirected to " +
                        outcome.response.location + " (not followed: probe that URL instead)");
      }
      return fail(FetchError::kHttpStatus,
                  "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body));
    }
    // The whole body was read: the connection can serve the target's next fetch, unless the
    // target closed it (Connection: close, HTTP/1.0).
    if (request.pool && client->ConnectionAlive()) {
      request.pool->Give(pool_key, std::move(client), NowUnixMs());
    }
  } catch (const std::exception& e) {
    return fail(FetchError::kOther, std::string("HTTP client error: ") + e.what());
  }
  return outcome;
}

}  // namespace gx
