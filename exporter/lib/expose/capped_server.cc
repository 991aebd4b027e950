#include "expose/capped_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>

#include "common/budgeted_stream.h"

namespace gx {
namespace {

using Clock = std::chrono::steady_clock;
using RequestFn = std::function<bool(httplib::Stream&, bool close_connection,
                                     bool& connection_closed)>;

// The server's keep-alive settings and timeouts, as the library's loop would use them.
struct ConnectionSettings {
  const std::atomic<socket_t>* listening;  // INVALID_SOCKET once the server stops
  std::size_t max_requests;                // per connection
  time_t keep_alive_sec;                   // wait for a next request
  SocketTimeouts timeouts;                 // each single wait
  const CappedServerOptions* options;
};

bool Poll(int sock, short events, int ms) { return PollOne(sock, events, ms) > 0; }

// Waits up to the keep-alive time for the connection to become readable (a request, or its
// end), in short steps so that a stopping server does not wait for idle connections. At least
// one step of 10 ms, as cpp-httplib's own loop, also with a keep-alive time of 0.
bool WaitForRequest(int sock, const ConnectionSettings& s) {
  const auto until = Clock::now() + std::chrono::seconds(s.keep_alive_sec);
  while (s.listening->load() != INVALID_SOCKET) {
    const long long left =
        std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    const long long step = std::clamp<long long>(left, 10, 100);
    if (Poll(sock, POLLIN, static_cast<int>(step))) return true;
    if (left <= step) return false;
  }
  return false;
}

ReadBudget RequestBudget() {
  ReadBudget budget;
  budget.headers_done = true;  // the server cannot tell where headers end: one cap for all
  budget.max_wire_bytes = kMaxRequestHeaderBytes + kMaxRequestBodyBytes;
  budget.max_header_bytes = budget.max_wire_bytes;
  budget.max_line_bytes = kMaxRequestLineBytes;
  return budget;
}

// The library's per-connection loop, reading through one BudgetedStream: up to
// max_requests requests, each with a fresh budget and deadlines.
bool ServeConnection(int sock, SSL* ssl, const ConnectionSettings& s, const RequestFn& serve) {
  const CappedServerOptions& options = *s.options;
  ReadBudget budget = RequestBudget();
  BudgetedStream stream(sock, ssl, s.timeouts, &budget);
  bool ok = false;
  for (std::size_t left = s.max_requests; left > 0; --left) {
    // A pipelined request already buffered needs no wait, but not after the server stopped.
    if (stream.HasBuffered() ? s.listening->load() == INVALID_SOCKET : !WaitForRequest(sock, s)) {
      break;
    }
    budget = RequestBudget();
    const auto read_by = DeadlineAfter(options.request_read_timeout);
    stream.Begin(&budget, read_by, options.response_write_timeout);
    bool closed = false;
    ok = serve(stream, left == 1, closed);
    // Past a cap or the deadline, cpp-httplib may still have answered 400; the connection
    // ends either way.
    const char* cut = budget.spent != ReadBudget::Spent::kNo ? "too_large"
                      : stream.read_timed_out()               ? "timeout"
                                                              : nullptr;
    if (cut && options.on_cut) options.on_cut(cut);
    if (!ok || closed || cut) break;
  }
  return ok;
}

void CloseSocket(int sock) {
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

class CappedServer final : public httplib::Server {
 public:
  explicit CappedServer(CappedServerOptions options) : options_(std::move(options)) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    const bool ok = ServeConnection(
        sock, nullptr,
        {&svr_sock_, keep_alive_max_count_, keep_alive_timeout_sec_,
         {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_, write_timeout_usec_},
         &options_},
        [this](httplib::Stream& strm, bool close, bool& closed) {
          return process_request(strm, close, closed, nullptr);
        });
    CloseSocket(sock);
    return ok;
  }

  CappedServerOptions options_;
};

// The TLS handshake on a non-blocking socket, ended by the timeout (*timed_out says so). The
// socket stays non-blocking: a blocking one would wait inside SSL_read for the rest of a
// record a client never sends.
SSL* AcceptTls(int sock, SSL_CTX* ctx, std::chrono::milliseconds timeout, bool* timed_out) {
  *timed_out = false;
  const int flags = ::fcntl(sock, F_GETFL, 0);
  if (flags < 0 || ::fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) return nullptr;
  SSL* ssl = SSL_new(ctx);
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, sock) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  const auto until = DeadlineAfter(timeout);
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_accept(ssl);
    if (rc == 1) return ssl;
    const int err = SSL_get_error(ssl, rc);
    const long long left =
        std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    const bool retry = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
    if (!retry || left <= 0 ||
        !Poll(sock, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
              static_cast<int>(std::min<long long>(left, INT_MAX)))) {
      *timed_out = retry;
      ERR_clear_error();
      SSL_free(ssl);
      return nullptr;
    }
  }
}

class CappedTlsServer final : public httplib::SSLServer {
 public:
  CappedTlsServer(const std::string& cert, const std::string& key, const std::string& client_ca,
                  CappedServerOptions options)
      : httplib::SSLServer(cert.c_str(), key.c_str(),
                           client_ca.empty() ? nullptr : client_ca.c_str()),
        options_(std::move(options)) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    bool ok = false;
    bool handshake_timed_out = false;
    SSL* ssl =
        AcceptTls(sock, ssl_context(), options_.tls_handshake_timeout, &handshake_timed_out);
    if (handshake_timed_out && options_.on_cut) options_.on_cut("timeout");
    if (ssl) {
      ok = ServeConnection(
          sock, ssl,
          {&svr_sock_, keep_alive_max_count_, keep_alive_timeout_sec_,
           {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_, write_timeout_usec_},
           &options_},
          [this, ssl](httplib::Stream& strm, bool close, bool& closed) {
            return process_request(strm, close, closed,
                                   [ssl](httplib::Request& req) { req.ssl = ssl; });
          });
      // close_notify after a clean end, as cpp-httplib does; best effort (non-blocking).
      if (ok) SSL_shutdown(ssl);
      ERR_clear_error();
      SSL_free(ssl);
    }
    CloseSocket(sock);
    return ok;
  }

  CappedServerOptions options_;
};

}  // namespace

std::unique_ptr<httplib::Server> MakeCappedServer(CappedServerOptions options) {
  return std::make_unique<CappedServer>(std::move(options));
}

std::unique_ptr<httplib::Server> MakeCappedTlsServer(const std::string& cert_file,
                                                     const std::string& key_file,
                                                     const std::string& client_ca_file,
                                                     CappedServerOptions options) {
  return std::make_unique<CappedTlsServer>(cert_file, key_file, client_ca_file,
                                           std::move(options));
}

}  // namespace gx
