#include "expose/capped_server.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gx {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kBigBody = 16u << 20;  // more than loopback's socket buffers hold

// A capped server on a free loopback port for the duration of a test, with the reasons it
// cut requests.
class ServerUnderTest {
 public:
  // Plain HTTP unless cert_dir holds cert.pem and key.pem.
  explicit ServerUnderTest(CappedServerOptions options, const std::string& cert_dir = "") {
    options.on_cut = [this](const char* reason) {
      std::lock_guard<std::mutex> lock(mu_);
      cuts_.emplace_back(reason);
    };
    server_ = cert_dir.empty() ? MakeCappedServer(options)
                               : MakeCappedTlsServer(cert_dir + "/cert.pem",
                                                     cert_dir + "/key.pem", "", options);
    REQUIRE(server_->is_valid());
    server_->set_read_timeout(10, 0);
    server_->set_write_timeout(30, 0);
    server_->Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    // The client's port: the same on two requests means one connection served both.
    server_->Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_->Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(kBigBody, 'x'), "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(1ms);
  }
  ~ServerUnderTest() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> cuts() {
    std::lock_guard<std::mutex> lock(mu_);
    return cuts_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> cuts_;
};

// A raw TCP connection to the server, with 10 s send and receive timeouts so that a test
// cannot hang; rcvbuf > 0 sets a small receive buffer (before connecting, as TCP wants).
int Connect(int port, int rcvbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

// Everything the server sends until it closes the connection (or 10 s pass without a byte).
std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// Whether the server closed the connection (EOF or reset) within `wait`, taking whatever it
// sent before (a response, a TLS session ticket).
bool ClosedWithin(int fd, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return true;
  }
}

// Sends `unit` again and again, up to `limit` bytes, until the server stops taking them.
std::size_t Flood(int fd, const std::string& unit, std::size_t limit) {
  std::size_t sent = 0;
  while (sent < limit) {
    const ssize_t n = ::send(fd, unit.data(), unit.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

// Three requests through an httplib client with keep-alive on: the server must answer each
// on one connection (the client port it reports stays the same).
void CheckKeptAlive(httplib::ClientImpl& client) {
  client.set_keep_alive(true);
  std::string first_port;
  for (int i = 0; i < 3; ++i) {
    auto res = client.Get("/port");
    REQUIRE(res);
    if (i == 0) first_port = res->body;
    CHECK(res->body == first_port);
  }
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("the capped server answers requests, kept alive and pipelined") {
  ServerUnderTest server({});
  const int fd = Connect(server.port());
  const std::string two =
      "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, two.data(), two.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(two.size()));
  const std::string answer = ReadAll(fd);
  ::close(fd);
  CHECK(Count(answer, "HTTP/1.1 200 OK") == 2);
  CHECK(Count(answer, "hello") == 2);
  CHECK(server.cuts().empty());

  httplib::ClientImpl client("127.0.0.1", server.port());
  CheckKeptAlive(client);
}

TEST_CASE("headers without end are cut at the request cap") {
  ServerUnderTest server({});
  const int fd = Connect(server.port());
  const std::string start = "GET /hello HTTP/1.1\r\nHost: t\r\n";
  REQUIRE(::send(fd, start.data(), start.size(), MSG_NOSIGNAL) > 0);
  // Unbounded, cpp-httplib would keep every line: 64 MiB of them held ~200 MB.
  const std::size_t sent = Flood(fd, "X-Flood: " + std::string(40, 'a') + "\r\n", 64u << 20);
  const std::string answer = ReadAll(fd);
  ::close(fd);
  CHECK(sent < (64u << 20));  // the server closed the connection early
  if (!answer.empty()) CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(server.cuts() == std::vector<std::string>{"too_large"});
}

TEST_CASE("a request line or a header line without end is cut at the line cap") {
  for (const std::string start : {"GET /", "GET / HTTP/1.1\r\nX-Long: "}) {
    CAPTURE(start);
    ServerUnderTest server({});
    const int fd = Connect(server.port());
    REQUIRE(::send(fd, start.data(), start.size(), MSG_NOSIGNAL) > 0);
    const std::size_t sent = Flood(fd, std::string(4096, 'a'), 64u << 20);
    ReadAll(fd);
    ::close(fd);
    CHECK(sent < (64u << 20));
    CHECK(server.cuts() == std::vector<std::string>{"too_large"});
  }
}

TEST_CASE("a request sent a byte at a time is cut at its deadline") {
  CappedServerOptions options;
  options.request_read_timeout = 300ms;
  ServerUnderTest server(options);
  const int fd = Connect(server.port());
  const std::string start = "GET /hello HTTP/1.1\r\n";
  REQUIRE(::send(fd, start.data(), start.size(), MSG_NOSIGNAL) > 0);
  // Each byte well within the server's 10 s wait for the next one; 5 s of them in all.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = ::send(fd, "x", 1, MSG_NOSIGNAL) != 1 || ClosedWithin(fd, 50ms);
  }
  ::close(fd);
  CHECK(closed);
  CHECK(server.cuts() == std::vector<std::string>{"timeout"});
}

TEST_CASE("a response the client does not take is given up at the write deadline") {
  CappedServerOptions options;
  options.response_write_timeout = 300ms;
  ServerUnderTest server(options);
  const int fd = Connect(server.port(), 64 << 10);
  const std::string get = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";
  REQUIRE(::send(fd, get.data(), get.size(), MSG_NOSIGNAL) > 0);
  std::this_thread::sleep_for(1500ms);  // not reading: the socket buffers fill up
  const std::string answer = ReadAll(fd);
  ::close(fd);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.size() < kBigBody);
}

namespace {

// A self-signed certificate and key for 127.0.0.1, written to a fresh directory.
class SelfSignedCert {
 public:
  SelfSignedCert() {
    dir_ = std::filesystem::temp_directory_path() /
           ("gx-capped-server-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    FILE* f = std::fopen((dir_ / "cert.pem").c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen((dir_ / "key.pem").c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~SelfSignedCert() { std::filesystem::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace

TEST_CASE("the capped TLS server answers requests on a kept-alive connection") {
  SelfSignedCert cert;
  ServerUnderTest server({}, cert.dir());
  httplib::SSLClient client("127.0.0.1", server.port());
  client.enable_server_certificate_verification(false);
  CheckKeptAlive(client);
  CHECK(server.cuts().empty());
}

TEST_CASE("the capped TLS server ends stalled handshakes and records") {
  SelfSignedCert cert;
  CappedServerOptions options;
  options.request_read_timeout = 1000ms;
  options.tls_handshake_timeout = 1000ms;
  ServerUnderTest server(options, cert.dir());

  SUBCASE("a client that never finishes its handshake is dropped") {
    const int fd = Connect(server.port());
    const std::string partial = "\x16\x03\x01\x02\x00";  // a ClientHello's record header only
    REQUIRE(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) > 0);
    CHECK(ClosedWithin(fd, 5000ms));
    ::close(fd);
    CHECK(server.cuts() == std::vector<std::string>{"timeout"});
  }

  SUBCASE("a TLS record that never arrives whole ends at the request deadline") {
    const int fd = Connect(server.port());
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    REQUIRE(SSL_connect(ssl) == 1);
    // The header of a 100-byte application-data record, and nothing more: with a blocking
    // socket the server would wait inside SSL_read for the rest.
    const std::string header = "\x17\x03\x03\x00\x64";
    REQUIRE(::send(fd, header.data(), header.size(), MSG_NOSIGNAL) > 0);
    CHECK(ClosedWithin(fd, 5000ms));
    CHECK(server.cuts() == std::vector<std::string>{"timeout"});
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
  }
}

}  // namespace gx
