// A connected socket (TLS when given an SSL) as a cpp-httplib Stream whose reads are charged
// to a byte budget and bounded in time, for the exporter's HTTP clients (fetch/
// capped_client.h) and its HTTP server (expose/capped_server.h). cpp-httplib 0.11 keeps
// every header line it reads, however many, grows a buffer for a line without end, and
// bounds only each single wait: so whoever is on the other side decides how much memory and
// time a request costs. Through this stream it is the budget and the deadlines instead.
// One stream per connection, used by one thread at a time; not thread-safe.
#pragma once

#include <openssl/ssl.h>

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <string>

namespace gx {

// What one request or response may read from its socket, and what it read. Reset for each.
struct ReadBudget {
  enum class Spent { kNo, kHeaders, kWire, kLine };
  std::size_t max_header_bytes = 0;  // before headers_done
  std::size_t max_wire_bytes = 0;    // in all
  std::size_t max_line_bytes = 0;    // of a line cpp-httplib reads as one
  std::size_t received = 0;
  bool headers_done = false;         // set by whoever sees the headers end
  Spent spent = Spent::kNo;

  // Counts n more bytes read; false once a cap is passed (and stays so).
  bool Charge(std::size_t n);
};

// Each single wait for the socket (cpp-httplib's read and write timeouts).
struct SocketTimeouts {
  time_t read_sec = 0, read_usec = 0, write_sec = 0, write_usec = 0;
};

// poll(2) on one descriptor for `events`, retried when a signal interrupts it: the number of
// ready descriptors (0 or 1), or -1 on an error.
int PollOne(int fd, short events, int timeout_ms);

// now + d on the steady clock, saturating at time_point::max() (no deadline).
std::chrono::steady_clock::time_point DeadlineAfter(std::chrono::milliseconds d);

class BudgetedStream final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  // The socket may be blocking or not; the stream waits with poll either way. ssl may be
  // null (plain HTTP). budget must outlive the stream's reads.
  BudgetedStream(int sock, SSL* ssl, SocketTimeouts timeouts, ReadBudget* budget);

  // Starts a request on a kept-alive connection: reads charge `budget` from now on, must end
  // by read_by, and writes must end within write_within of the first (zero: only each
  // single wait is bounded). Bytes already buffered are kept (a pipelined request).
  void Begin(ReadBudget* budget, Clock::time_point read_by,
             std::chrono::milliseconds write_within);

  // Whether bytes are buffered here or in the TLS layer, so a next request needs no wait.
  bool HasBuffered() const;
  // Whether a read failed because the read deadline had passed (since Begin).
  bool read_timed_out() const { return read_timed_out_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return sock_; }

 private:
  // Whether the socket becomes ready for events within one wait and before the deadline.
  bool Wait(short events, time_t sec, time_t usec, Clock::time_point deadline) const;
  bool WaitRead() const;
  bool WaitWrite() const;
  ssize_t ReadPlain();
  ssize_t ReadTls();

  int sock_;
  SSL* ssl_;
  SocketTimeouts t_;
  ReadBudget* budget_;
  Clock::time_point read_by_ = Clock::time_point::max();
  std::chrono::milliseconds write_within_{0};
  Clock::time_point write_by_ = Clock::time_point::max();  // set by the first write
  char buffer_[4096];
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
  std::size_t line_run_ = 0;  // single-byte reads since the last newline
  bool read_timed_out_ = false;
};

}  // namespace gx
