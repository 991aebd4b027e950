#include "fetch/http_fetch.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/limits.h"

namespace gx {
namespace {

// A loopback HTTP server on a free port for the duration of a test.
class LoopbackServer {
 public:
  // keep_alive_s: how long the server keeps an idle connection open.
  explicit LoopbackServer(time_t keep_alive_s = 5) {
    server_.set_keep_alive_timeout(keep_alive_s);
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    // The client's port: the same on two fetches means one connection served both.
    server_.Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_.Get("/close", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Connection", "close");
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1 << 20, 'x'), "text/plain");
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("Unknown profile\n", "text/plain");
    });
    server_.Get("/trickle", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 400) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        sink.write("abcd", 4);
        return true;
      });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A port nobody listens on: a socket bound to a free loopback port, then closed.
int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

FetchOutcome Get(const std::string& url, std::chrono::milliseconds timeout, std::size_t max_bytes,
                 std::string* body, ConnectionPool* pool = nullptr) {
  FetchRequest request;
  request.pool = pool;
  request.url = url;
  request.timeout = timeout;
  request.max_bytes = max_bytes;
  return FetchUrl(request, [&](std::string_view chunk) {
    body->append(chunk);
    return true;
  });
}

}  // namespace

TEST_CASE("ParseUrl accepts http(s) URLs and rejects the rest") {
  auto u = ParseUrl("http://127.0.0.1:6060/debug/pprof/goroutine?debug=0");
  REQUIRE(u.ok());
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 6060);
  CHECK(u->path_and_query == "/debug/pprof/goroutine?debug=0");
  auto v6 = ParseUrl("https://[::1]:8443");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->HostPort() == "[::1]:8443");
  CHECK(v6->path_and_query == "/");
  CHECK(ParseUrl("http://my-svc_1.ns.svc:8080").ok());
  CHECK(ParseUrl("http://[fe80::1%eth0]:6060").ok());
  CHECK(ParseUrl("http://[::ffff:127.0.0.1]:6060").ok());
  for (const char* bad : {"ftp://x/", "http://", "http://h:0/", "http://h:99999/", "h:80",
                          "http://u:p@h/", "http://h:80x/", "http://h/a b", "http://%%%garbage/",
                          "http://not%20a%20host/", "http://a,b:80/", "http://[::1%/",
                          "http://[localhost]/", "http://[%%]/", "http://[...]/", "http://[::1%]/",
                          "http://[fe80::1%a%b]/"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseUrl(bad).ok());
  }
}

TEST_CASE("ResolveRedirect makes a Location absolute against the URL that answered") {
  auto from = ParseUrl("https://[::1]:8443/debug/pprof/goroutine?debug=0");
  REQUIRE(from.ok());
  CHECK(ResolveRedirect(from.value(), "/pprof/goroutine?debug=0") ==
        "https://[::1]:8443/pprof/goroutine?debug=0");
  CHECK(ResolveRedirect(from.value(), "//other:6060/x") == "https://other:6060/x");
  CHECK(ResolveRedirect(from.value(), "http://h:1/y") == "http://h:1/y");
  CHECK(ResolveRedirect(from.value(), "goroutine?debug=1").empty());
  CHECK(ResolveRedirect(from.value(), "ftp://h/").empty());
  CHECK(ResolveRedirect(from.value(), "").empty());
}

TEST_CASE("fetch over loopback: body, status errors, byte cap, deadline, refused") {
  LoopbackServer server;
  std::string body;
  auto ok = Get(server.Url("/ok"), std::chrono::seconds(5), 1000, &body);
  CHECK(ok.status.ok());
  CHECK(body == "hello");
  CHECK(ok.response.status == 200);

  body.clear();
  auto missing = Get(server.Url("/missing"), std::chrono::seconds(5), 1000, &body);
  CHECK(missing.error == FetchError::kHttpStatus);
  CHECK(missing.status.message().find("404") != std::string::npos);
  CHECK(body.empty());

  body.clear();
  auto big = Get(server.Url("/big"), std::chrono::seconds(5), 64 * 1024, &body);
  CHECK(big.error == FetchError::kTooLarge);
  CHECK(body.size() <= 64 * 1024);

  body.clear();
  auto slow = Get(server.Url("/trickle"), std::chrono::milliseconds(300), 1000, &body);
  CHECK(slow.error == FetchError::kTimeout);
  CHECK(slow.response.seconds < 5.0);  // the trickle alone would take 10 s

  const int closed_port = ClosedLoopbackPort();
  body.clear();
  auto refused = Get("http://127.0.0.1:" + std::to_string(closed_port) + "/", std::chrono::seconds(2),
                     1000, &body);
  CHECK(refused.error == FetchError::kConnect);
}

TEST_CASE("pooled fetches reuse one connection per target and recover when it is closed") {
  LoopbackServer server;
  ConnectionPool pool;
  auto port_of = [&](const std::string& path, ConnectionPool* p) {
    std::string body;
    auto r = Get(server.Url(path), std::chrono::seconds(5), 1000, &body, p);
    REQUIRE(r.status.ok());
    return body;
  };
  // Without a pool every fetch has its own connection.
  CHECK(port_of("/port", nullptr) != port_of("/port", nullptr));
  CHECK(pool.idle() == 0);

  const std::string first = port_of("/port", &pool);
  CHECK(pool.idle() == 1);
  CHECK(port_of("/port", &pool) == first);
  CHECK(port_of("/port", &pool) == first);
  CHECK(pool.idle() == 1);

  // A failed fetch does not give its connection back; the next one opens a new one.
  std::string body;
  auto missing = Get(server.Url("/missing"), std::chrono::seconds(5), 1000, &body, &pool);
  CHECK(missing.error == FetchError::kHttpStatus);
  CHECK(pool.idle() == 0);
  const std::string second = port_of("/port", &pool);
  CHECK(second != first);

  // The target closes the connection after answering: the client object is kept, and the
  // next fetch connects again by itself.
  const std::string closing = port_of("/close", &pool);
  CHECK(closing == second);
  const std::string after_close = port_of("/port", &pool);
  CHECK(after_close != second);

}

TEST_CASE("a pooled connection the target dropped while idle is replaced") {
  LoopbackServer server(/*keep_alive_s=*/1);
  ConnectionPool pool;
  auto port_of = [&]() {
    std::string body;
    auto r = Get(server.Url("/port"), std::chrono::seconds(5), 1000, &body, &pool);
    REQUIRE(r.status.ok());
    return body;
  };
  const std::string before_idle = port_of();
  CHECK(port_of() == before_idle);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the server's 1 s
  CHECK(port_of() != before_idle);
  CHECK(pool.idle() == 1);
}

}  // namespace gx

namespace gx {

// A loopback server that answers one connection with `serve` (given the connected socket,
// after the request was read); for misbehaving targets cpp-httplib cannot play.
class RawServer {
 public:
  explicit RawServer(std::function<void(int)> serve) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, serve] {
      int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0) return;
      char buf[1024];
      (void)::recv(conn, buf, sizeof(buf), 0);
      serve(conn);
      ::close(conn);
    });
  }
  ~RawServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

bool Send(int fd, const std::string& s) { return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) > 0; }

TEST_CASE("a target that drips its headers is cut off at the deadline") {
  // Every read gets a byte before the read timeout, so only a whole-request deadline ends
  // this: without it the request would last as long as the drip (here up to 20 s).
  RawServer dripper([](int conn) {
    bool open = Send(conn, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; open && i < 200; ++i) {  // at most 20 s
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      open = Send(conn, "X");
    }
  });
  std::string body;
  auto start = std::chrono::steady_clock::now();
  auto r = Get(dripper.Url(), std::chrono::milliseconds(500), 1000, &body);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.error == FetchError::kTimeout);
  CHECK(seconds < 5.0);
}

// cpp-httplib keeps every header line: without the read budget, headers without end grew the
// exporter by hundreds of MB a second until the deadline. The sender stops when the fetch
// closes the connection, or after 64 MiB.
TEST_CASE("a target that sends headers without end is cut off at the header cap") {
  RawServer flooder([](int conn) {
    bool open = Send(conn, "HTTP/1.1 200 OK\r\n");
    std::string lines;
    for (int i = 0; i < 8192; ++i) lines += "X-A: b\r\n";
    for (int i = 0; open && i < 1024; ++i) open = Send(conn, lines);
  });
  std::string body;
  auto r = Get(flooder.Url(), std::chrono::seconds(30), 1000, &body);
  CHECK(r.error == FetchError::kTooLarge);
  CHECK(r.status.message() == "response headers longer than 65536 bytes");
}

// A chunk-size line without end: cpp-httplib grows a buffer for it; the body cap, counted
// on what the chunks carry, never sees it. With the exporter's real cap for text dumps
// (96 MiB), only the line cap stops it early.
TEST_CASE("a line without end in a chunked body is cut off at the line cap") {
  RawServer flooder([](int conn) {
    bool open = Send(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1");
    const std::string zeros(64 << 10, '0');
    for (int i = 0; open && i < 1024; ++i) open = Send(conn, zeros);
  });
  std::string body;
  auto r = Get(flooder.Url(), std::chrono::seconds(30), Limits().max_text_bytes, &body);
  CHECK(r.error == FetchError::kTooLarge);
  CHECK(r.status.message() ==
        "a response line (header, chunk size or trailer) longer than 16384 bytes");
  CHECK(body.empty());
}

// One-byte chunks: six bytes on the wire for each byte of body.
TEST_CASE("chunked framing beyond an eighth of the body cap is cut off at the wire cap") {
  RawServer chunker([](int conn) {
    bool open = Send(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string chunks;
    for (int i = 0; i < 4096; ++i) chunks += "1\r\nx\r\n";
    for (int i = 0; open && i < 1024; ++i) open = Send(conn, chunks);
  });
  std::string body;
  auto r = Get(chunker.Url(), std::chrono::seconds(30), 100000, &body);
  CHECK(r.error == FetchError::kTooLarge);
  CHECK(r.status.message() == "response larger than 100000 bytes (counting its framing on the wire)");
  CHECK(body.size() < 100000);
}

TEST_CASE("a body cut short says how much of it arrived") {
  RawServer cutter([](int conn) {
    Send(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  });
  std::string body;
  auto r = Get(cutter.Url(), std::chrono::seconds(5), 1000, &body);
  CHECK_FALSE(r.status.ok());
  CHECK(r.status.message() == "the target closed the connection after 10 bytes of the body (of 100)");
}

namespace {

// A policy that allows the addresses `allowed` returns true for, and records what it was asked.
std::shared_ptr<ConnectPolicy> RecordingPolicy(std::function<bool(const std::string&)> allowed,
                                               std::vector<std::string>* asked) {
  auto policy = std::make_shared<ConnectPolicy>();
  policy->name = "the test's ranges";
  policy->key = "test";
  policy->allows = [allowed = std::move(allowed), asked](const std::string& address) {
    asked->push_back(address);
    return allowed(address);
  };
  return policy;
}

FetchOutcome GetWith(std::shared_ptr<const ConnectPolicy> policy, const std::string& url,
                     std::string* body, ConnectionPool* pool = nullptr) {
  FetchRequest request;
  request.url = url;
  request.timeout = std::chrono::seconds(5);
  request.pool = pool;
  request.connect_policy = std::move(policy);
  return FetchUrl(request, [&](std::string_view chunk) {
    body->append(chunk);
    return true;
  });
}

}  // namespace

// "localhost" resolves through /etc/hosts here, so no DNS server is involved.
TEST_CASE("a connect policy resolves host names and connects only where it allows") {
  LoopbackServer server;
  std::vector<std::string> asked;
  auto loopback_only = RecordingPolicy(
      [](const std::string& a) { return a == "127.0.0.1"; }, &asked);
  std::string body;
  auto ok = GetWith(loopback_only, server.Url("/ok", "localhost"), &body);
  CHECK_MESSAGE(ok.status.ok(), ok.status.message());
  CHECK(body == "hello");
  CHECK(std::find(asked.begin(), asked.end(), "127.0.0.1") != asked.end());

  asked.clear();
  body.clear();
  auto nothing = RecordingPolicy([](const std::string&) { return false; }, &asked);
  auto refused = GetWith(nothing, server.Url("/ok", "localhost"), &body);
  CHECK(refused.error == FetchError::kAddressRefused);
  CHECK(std::string(FetchErrorReason(refused.error)) == "address_refused");
  CHECK(refused.status.message().find("host 'localhost' resolves to ") == 0);
  CHECK(refused.status.message().find("127.0.0.1") != std::string::npos);
  CHECK(refused.status.message().find("outside the test's ranges") != std::string::npos);
  CHECK_FALSE(asked.empty());
  CHECK(body.empty());

  // IP literals are connected to as written: the allowlist's cidrs decided on them already.
  asked.clear();
  auto literal = GetWith(nothing, server.Url("/ok"), &body);
  CHECK_MESSAGE(literal.status.ok(), literal.status.message());
  CHECK(asked.empty());

  // A closed port names the address the name was pinned to.
  asked.clear();
  const int closed_port = ClosedLoopbackPort();
  auto closed = GetWith(loopback_only,
                        "http://localhost:" + std::to_string(closed_port) + "/", &body);
  CHECK(closed.error == FetchError::kConnect);
  CHECK(closed.status.message() ==
        "cannot connect to localhost:" + std::to_string(closed_port) + " (127.0.0.1)");
}

TEST_CASE("a pooled connection is reused under its policy without another lookup") {
  LoopbackServer server;
  ConnectionPool pool;
  std::vector<std::string> asked;
  auto loopback_only = RecordingPolicy(
      [](const std::string& a) { return a == "127.0.0.1"; }, &asked);
  std::string first, second;
  REQUIRE(GetWith(loopback_only, server.Url("/port", "localhost"), &first, &pool).status.ok());
  const std::size_t lookups = asked.size();
  REQUIRE(GetWith(loopback_only, server.Url("/port", "localhost"), &second, &pool).status.ok());
  CHECK(second == first);  // one connection served both
  CHECK(asked.size() == lookups);

  // Under another policy (other ranges) that connection is not reused.
  std::vector<std::string> asked_other;
  auto other = RecordingPolicy([](const std::string&) { return true; }, &asked_other);
  other->key = "other";
  std::string third;
  REQUIRE(GetWith(other, server.Url("/port", "localhost"), &third, &pool).status.ok());
  CHECK(third != first);
  CHECK_FALSE(asked_other.empty());
}

// cpp-httplib reopens a closed connection by itself, to the address pinned when the client was
// made; a pooled client whose connection the target closed is dropped instead, so that the
// name is looked up again (the pod behind it may have moved).
TEST_CASE("a pooled connection the target closed is replaced, with a new lookup") {
  LoopbackServer server(/*keep_alive_s=*/1);
  ConnectionPool pool;
  int lookups = 0;
  std::vector<std::string> asked;
  auto policy = RecordingPolicy([](const std::string&) { return true; }, &asked);
  policy->resolve = [&lookups](const std::string&) -> Result<std::vector<std::string>> {
    ++lookups;
    return std::vector<std::string>{"127.0.0.1"};
  };
  std::string first, second, third;
  REQUIRE(GetWith(policy, server.Url("/port", "moving.test"), &first, &pool).status.ok());
  CHECK(lookups == 1);
  REQUIRE(GetWith(policy, server.Url("/port", "moving.test"), &second, &pool).status.ok());
  CHECK(lookups == 1);  // kept alive: no lookup
  CHECK(second == first);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the server's 1 s
  REQUIRE(GetWith(policy, server.Url("/port", "moving.test"), &third, &pool).status.ok());
  CHECK(lookups == 2);
  CHECK(third != first);

  // A response that closes its connection is not pooled.
  std::string closed;
  REQUIRE(GetWith(policy, server.Url("/close", "moving.test"), &closed, &pool).status.ok());
  CHECK(pool.idle() == 0);
}

// Names under the reserved .test top-level domain (RFC 6761) exist only in the answers the
// test's resolver gives: a fetch by such a name reaches the server only through the pinned
// address, never by a lookup of its own.
TEST_CASE("a pinned name is connected to at its allowed addresses in turn") {
  LoopbackServer server;  // on 127.0.0.1 only: nothing listens on ::1 at its port
  std::vector<std::string> asked;
  auto both = RecordingPolicy([](const std::string&) { return true; }, &asked);
  both->resolve = [](const std::string& host) -> Result<std::vector<std::string>> {
    if (host != "pinned.test") return Status::Error("Name or service not known");
    return std::vector<std::string>{"::1", "127.0.0.1"};
  };
  std::string body;
  auto ok = GetWith(both, server.Url("/ok", "pinned.test"), &body);
  CHECK_MESSAGE(ok.status.ok(), ok.status.message());
  CHECK(body == "hello");
  CHECK(asked == std::vector<std::string>{"::1", "127.0.0.1"});

  // Refused connections on every allowed address name them all.
  both->resolve = [](const std::string&) -> Result<std::vector<std::string>> {
    return std::vector<std::string>{"::1", "127.0.0.1", "10.1.2.3"};
  };
  asked.clear();
  auto refuse_ten = RecordingPolicy([](const std::string& a) { return a != "10.1.2.3"; }, &asked);
  refuse_ten->resolve = both->resolve;
  body.clear();
  auto closed = GetWith(refuse_ten, "http://pinned.test:1/", &body);
  CHECK(closed.error == FetchError::kConnect);
  CHECK(closed.status.message() == "cannot connect to pinned.test:1 (::1, 127.0.0.1)");

  // A name the resolver does not know is a DNS error, not a connect error.
  both->resolve = [](const std::string&) -> Result<std::vector<std::string>> {
    return Status::Error("Name or service not known");
  };
  auto missing = GetWith(both, server.Url("/ok", "missing.test"), &body);
  CHECK(missing.error == FetchError::kDns);
  CHECK(std::string(FetchErrorReason(missing.error)) == "dns");
  CHECK(missing.status.message() == "cannot resolve host 'missing.test': Name or service not known");

  // A zone id does not make an IP literal: it is resolved and judged, and the policy (like
  // the allowlist) cannot parse it.
  asked.clear();
  auto none = RecordingPolicy([](const std::string&) { return false; }, &asked);
  none->resolve = [](const std::string& host) -> Result<std::vector<std::string>> {
    return std::vector<std::string>{host};
  };
  auto zoned = GetWith(none, "http://[fe80::1%lo]:1/", &body);
  CHECK(zoned.error == FetchError::kAddressRefused);
  CHECK(asked == std::vector<std::string>{"fe80::1%lo"});
}

// Without a policy the exporter still resolves names itself (so that the deadline bounds the
// lookup), and tries the name's addresses in turn: "localhost" is ::1 first here, where
// nothing listens, then 127.0.0.1.
TEST_CASE("a host name without a policy is resolved and connected to") {
  LoopbackServer server;
  std::string body;
  auto ok = GetWith(nullptr, server.Url("/ok", "localhost"), &body);
  CHECK_MESSAGE(ok.status.ok(), ok.status.message());
  CHECK(body == "hello");
}

TEST_CASE("a name lookup that does not answer ends at the fetch's deadline") {
  LoopbackServer server;
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
  };
  auto gate = std::make_shared<Gate>();
  std::vector<std::string> asked;
  auto policy = RecordingPolicy([](const std::string&) { return true; }, &asked);
  policy->resolve = [gate](const std::string&) -> Result<std::vector<std::string>> {
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->cv.wait(lock, [&] { return gate->open; });
    return std::vector<std::string>{"127.0.0.1"};
  };
  FetchRequest request;
  request.url = server.Url("/ok", "slow.test");
  request.timeout = std::chrono::milliseconds(100);
  request.connect_policy = policy;
  // The resolver answers only once FetchUrl has returned: had it waited, this would hang.
  auto outcome = FetchUrl(request, [](std::string_view) { return true; });
  CHECK(outcome.error == FetchError::kTimeout);
  CHECK(outcome.status.message() == "cannot resolve host 'slow.test': no answer before the deadline");
  CHECK(asked.empty());
  {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->open = true;
  }
  gate->cv.notify_all();
  for (int i = 0; i < 5000 && PendingDnsLookups() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(PendingDnsLookups() == 0);
}

}  // namespace gx
