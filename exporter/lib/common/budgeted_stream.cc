#include "common/budgeted_stream.h"

#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

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

int PollOne(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::milliseconds d) {
  using Clock = std::chrono::steady_clock;
  const auto now = Clock::now();
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  return d >= room ? Clock::time_point::max() : now + d;
}

namespace {

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

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

BudgetedStream::BudgetedStream(int sock, SSL* ssl, SocketTimeouts timeouts, ReadBudget* budget)
    : sock_(sock), ssl_(ssl), t_(timeouts), budget_(budget) {
  // As cpp-httplib's own TLS stream: SSL_read returns after a record without data (a TLS 1.3
  // session ticket) instead of blocking for the next, so reads keep their timeout.
  if (ssl_) SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
}

void BudgetedStream::Begin(ReadBudget* budget, Clock::time_point read_by,
                           std::chrono::milliseconds write_within) {
  budget_ = budget;
  read_by_ = read_by;
  write_within_ = write_within;
  write_by_ = Clock::time_point::max();
  line_run_ = 0;
  read_timed_out_ = false;
}

bool BudgetedStream::HasBuffered() const {
  return offset_ < size_ || (ssl_ && SSL_pending(ssl_) > 0);
}

bool BudgetedStream::Wait(short events, time_t sec, time_t usec,
                          Clock::time_point deadline) const {
  long long ms = static_cast<long long>(sec) * 1000 + (usec + 999) / 1000;
  if (deadline != Clock::time_point::max()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    ms = std::min<long long>(ms, left.count());
  }
  return PollOne(sock_, events, static_cast<int>(std::min<long long>(ms, INT_MAX))) > 0;
}

bool BudgetedStream::WaitRead() const { return Wait(POLLIN, t_.read_sec, t_.read_usec, read_by_); }
bool BudgetedStream::WaitWrite() const {
  return Wait(POLLOUT, t_.write_sec, t_.write_usec, write_by_);
}

bool BudgetedStream::is_readable() const { return HasBuffered() || WaitRead(); }
bool BudgetedStream::is_writable() const { return WaitWrite(); }

ssize_t BudgetedStream::read(char* ptr, size_t size) {
  if (budget_->spent != ReadBudget::Spent::kNo) return -1;
  if (offset_ == size_) {
    offset_ = size_ = 0;
    const ssize_t n = ssl_ ? ReadTls() : ReadPlain();
    if (n < 0 && Clock::now() >= read_by_) read_timed_out_ = true;
    if (n <= 0) return n;
    if (!budget_->Charge(static_cast<std::size_t>(n))) return -1;
    size_ = static_cast<std::size_t>(n);
  }
  const std::size_t take = std::min(size, size_ - offset_);
  std::memcpy(ptr, buffer_ + offset_, take);
  offset_ += take;
  // cpp-httplib 0.11 reads lines (request and status lines, headers, chunk sizes, trailers) a
  // byte at a time, and contents in larger pieces: a long run of single bytes without a
  // newline is a line without end.
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

ssize_t BudgetedStream::write(const char* ptr, size_t size) {
  if (write_by_ == Clock::time_point::max() && write_within_.count() > 0) {
    write_by_ = DeadlineAfter(write_within_);
  }
  if (!ssl_) {
    for (;;) {
      if (!WaitWrite()) return -1;
      // MSG_DONTWAIT: a blocking socket would wait here, past the deadline, until a slow
      // reader made room for the whole buffer.
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0 || (errno != EINTR && !WouldBlock(errno))) return n;
    }
  }
  const int len = static_cast<int>(std::min<size_t>(size, INT_MAX));
  for (;;) {
    if (!WaitWrite()) return -1;
    ERR_clear_error();
    const int n = SSL_write(ssl_, ptr, len);
    if (n > 0) return n;
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE) continue;
    if (err == SSL_ERROR_WANT_READ) {
      if (!Wait(POLLIN, t_.write_sec, t_.write_usec, write_by_)) return -1;
      continue;
    }
    ERR_clear_error();
    return -1;
  }
}

void BudgetedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  NumericAddress(sock_, true, ip, port);
}
void BudgetedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  NumericAddress(sock_, false, ip, port);
}

ssize_t BudgetedStream::ReadPlain() {
  for (;;) {
    if (!WaitRead()) return -1;
    const ssize_t n = ::recv(sock_, buffer_, sizeof buffer_, MSG_DONTWAIT);
    if (n >= 0 || (errno != EINTR && !WouldBlock(errno))) return n;
  }
}

// Loops over records without data and, on a non-blocking socket, over records not yet whole;
// each wait has the read timeout and ends by the deadline. (A client's deadline watchdog
// ends any wait by shutting the socket down.)
ssize_t BudgetedStream::ReadTls() {
  for (;;) {
    if (SSL_pending(ssl_) == 0 && !WaitRead()) return -1;
    // SSL_get_error reads the thread's error queue: left over from an earlier call, an error
    // would turn the next WANT_READ into a failure.
    ERR_clear_error();
    const int n = SSL_read(ssl_, buffer_, static_cast<int>(sizeof buffer_));
    if (n > 0) return n;
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) continue;
    if (err == SSL_ERROR_WANT_WRITE) {
      if (!Wait(POLLOUT, t_.read_sec, t_.read_usec, read_by_)) return -1;
      continue;
    }
    // Only close_notify ends a TLS stream cleanly; an EOF without it (OpenSSL 3 reports
    // SSL_ERROR_SSL), or a shutdown from elsewhere, may have cut the content.
    const bool clean = err == SSL_ERROR_ZERO_RETURN;
    ERR_clear_error();
    return clean ? 0 : -1;
  }
}

}  // namespace gx
