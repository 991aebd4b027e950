#include "fetch/capped_client.h"

#include <httplib.h>
#include <poll.h>

#include <functional>

namespace gx {

namespace {

class HttpClient final : public httplib::ClientImpl, public CappedClient {
 public:
  HttpClient(const std::string& host, int port) : httplib::ClientImpl(host, port) {}
  httplib::ClientImpl& http() override { return *this; }

 private:
  SocketTimeouts Timeouts() const {
    return {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_, write_timeout_usec_};
  }
  bool process_socket(const Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override {
    BudgetedStream stream(socket.sock, nullptr, Timeouts(), &budget());
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
  SocketTimeouts Timeouts() const {
    return {read_timeout_sec_, read_timeout_usec_, write_timeout_sec_, write_timeout_usec_};
  }
  bool process_socket(const Socket& socket,
                      std::function<bool(httplib::Stream&)> callback) override {
    if (!socket.ssl) return false;
    BudgetedStream stream(socket.sock, socket.ssl, Timeouts(), &budget());
    return callback(stream);
  }
};

}  // namespace

bool CappedClient::ConnectionAlive() {
  const socket_t fd = http().socket();
  if (fd == INVALID_SOCKET) return false;
  // Nothing to read means idle and open. Readable while idle: closed, an error, or bytes
  // nobody asked for (a TLS alert, say).
  return PollOne(fd, POLLIN, 0) == 0;
}

std::unique_ptr<CappedClient> MakeCappedClient(const std::string& scheme, const std::string& host,
                                               int port, const std::string& cert_file,
                                               const std::string& key_file) {
  if (scheme == "https") return std::make_unique<HttpsClient>(host, port, cert_file, key_file);
  return std::make_unique<HttpClient>(host, port);
}

}  // namespace gx
