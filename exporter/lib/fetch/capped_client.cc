#include "fetch/capped_client.h"

#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>

namespace gx {

bool ReadBudget::Charge(std::size_t n) {
  if (spent != Spent::kNo) return false;
  received += n;
  if (!headers_done && received > max_header_bytes) {
    spent = Spent::kHeaders;
  } else if (received > max_wire_bytes) {
    spent = Spent::kWire;
  }
  return spent == Spent::kNo;
}

namespace {

struct Timeouts {
  time_t read_sec, read_usec, write_sec, write_usec;
};

// Whether fd becomes ready for `events` within the timeout.
bool WaitFor(int fd, short events, time_t sec, time_t usec) {
  const long long ms = static_cast<long long>(sec) * 1000 + (usec + 999) / 1000;
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(ms, INT_MAX)));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

void NumericAddress(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// A connected socket (TLS when ssl is set) read through a 4 KiB buffer: cpp-httplib reads
// header lines a byte at a time. Every byte received is charged to the budget first.
class BudgetedStream final : public httplib::Stream {
 public:
  BudgetedStream(int sock, SSL* ssl, Timeouts timeouts, ReadBudget* budget)
      : sock_(sock), ssl_(ssl), t_(timeouts), budget_(budget) {
    // As cpp-httplib's own TLS stream: SSL_read returns after a record without data (a
    // TLS 1.3 session ticket) instead of blocking for the next, so reads keep their timeout.
    if (ssl_) SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
  }

  bool is_readable() const override {
    if (offset_ < size_ || (ssl_ && SSL_pending(ssl_) > 0)) return true;
    return WaitFor(sock_, POLLIN, t_.read_sec, t_.read_usec);
  }
  bool is_writable() const override {
    return WaitFor(sock_, POLLOUT, t_.write_sec, t_.write_usec);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (budget_->spent != ReadBudget::Spent::kNo) return -1;
    if (offset_ == size_) {
      offset_ = size_ = 0;
      const ssize_t n = ssl_ ? ReadTls() : ReadPlain();
      if (n <= 0) return n;
      if (!budget_->Charge(static_cast<std::size_t>(n))) return -1;
      size_ = static_cast<std::size_t>(n);
    }
    const std::size_t take = std::min(size, size_ - offset_);
    std::memcpy(ptr, buffer_ + offset_, take);
    offset_ += take;
    // cpp-httplib 0.11 reads lines (headers, chunk sizes, trailers) a byte at a time, and
    // contents in larger pieces: a long run of single bytes without a newline is a line
    // without end.
    if (size == 1 && *ptr != '\n') {
      if (++line_run_ > budget_->max_line_bytes) {
        budget_->spent = ReadBudget::Spent::kLine;
        return -1;
      }
    } else {
      line_run_ = 0;
    }
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!ssl_) {
      if (!is_writable()) return -1;
      ssize_t n;
      do {
        n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      return n;
    }
    const int len = static_cast<int>(std::min<size_t>(size, INT_MAX));
    for (;;) {
      if (!is_writable()) return -1;
      ERR_clear_error();
      const int n = SSL_write(ssl_, ptr, len);
      if (n > 0) return n;
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_WRITE) continue;
      if (err == SSL_ERROR_WANT_READ) {
        if (!WaitFor(sock_, POLLIN, t_.write_sec, t_.write_usec)) return -1;
        continue;
      }
      ERR_clear_error();
      return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    NumericAddress(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    NumericAddress(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t ReadPlain() {
    if (!WaitFor(sock_, POLLIN, t_.read_sec, t_.read_usec)) return -1;
    ssize_t n;
    do {
      n = ::recv(sock_, buffer_, sizeof buffer_, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  // Loops over records without data; each wait has the read timeout, and the deadline
  // watchdog's stop() ends any wait by shutting the socket down.
  ssize_t ReadTls() {
    for (;;) {
      if (SSL_pending(ssl_) == 0 && !WaitFor(sock_, POLLIN, t_.read_sec, t_.read_usec)) return -1;
      // SSL_get_error reads the thread's error queue: left over from an earlier call, an error
      // would turn the next WANT_READ into a failure.
      ERR_clear_error();
      const int n = SSL_read(ssl_, buffer_, static_cast<int>(sizeof buffer_));
      if (n > 0) return n;
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ) continue;
      // Only close_notify ends a TLS stream cleanly; an EOF without it (OpenSSL 3 reports
      // SSL_ERROR_SSL), or the watchdog's shutdown, may have cut the body.
      const bool clean = err == SSL_ERROR_ZERO_RETURN;
      ERR_clear_error();
      return clean ? 0 : -1;
    }
  }

  int sock_;
  SSL* ssl_;
  Timeouts t_;
  ReadBudget* budget_;
  char buffer_[4096];
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
  std::size_t line_run_ = 0;  // single-byte reads since the last newline
};

class HttpClient final : public httplib::ClientImpl, public CappedClient {
 public:
  HttpClient(const std::string& host, int port) : httplib::ClientImpl(host, port) {}
  httplib::ClientImpl& http() override { return *this; }

 private:
  bool process_socket(const Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override {
    BudgetedStream stream(socket.sock, nullptr,
                          {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                           write_timeout_usec_},
                          &budget());
    return callback(stream);
  }
};

class HttpsClient final : public httplib::SSLClient, public CappedClient {
 public:
  HttpsClient(const std::string& host, int port, const std::string& cert_file,
              const std::string& key_file)
      : httplib::SSLClient(host, port, cert_file, key_file) {}
  httplib::ClientImpl& http() override { return *this; }

 private:
  bool process_socket(const Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override {
    if (!socket.ssl) return false;
    BudgetedStream stream(socket.sock, socket.ssl,
                          {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                           write_timeout_usec_},
                          &budget());
    return callback(stream);
  }
};

}  // namespace

bool CappedClient::ConnectionAlive() {
  const socket_t fd = http().socket();
  if (fd == INVALID_SOCKET) return false;
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return true;  // nothing to read: idle and open
  // Readable while idle: closed (0), an error, or bytes nobody asked for (a TLS alert, say).
  return false;
}

std::unique_ptr<CappedClient> MakeCappedClient(const std::string& scheme, const std::string& host,
                                               int port, const std::string& cert_file,
                                               const std::string& key_file) {
  if (scheme == "https") return std::make_unique<HttpsClient>(host, port, cert_file, key_file);
  return std::make_unique<HttpClient>(host, port);
}

}  // namespace gx
