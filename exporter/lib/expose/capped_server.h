// cpp-httplib servers (HTTP and HTTPS) that read every request through a BudgetedStream, so
// that a client decides neither how much memory a request takes nor how long it holds a
// worker: headers, lines and bodies are capped (common/limits.h, kMaxRequest*), a request
// must arrive whole within a deadline and its response be taken within another, and a TLS
// handshake must end within a third (CappedServerOptions; common/limits.h by default). Past a
// cap, cpp-httplib answers 400 (or drops the connection if the request line never ended).
// Routing, handlers and everything else are cpp-httplib's. The library's way to supply a
// stream is to override its per-connection loop, which is done here (keep-alive included).
// Thread-safe as httplib::Server is: connections are served by its worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/limits.h"

namespace httplib {
class Server;
}

namespace gx {

struct CappedServerOptions {
  std::chrono::milliseconds request_read_timeout = kRequestReadTimeout;
  std::chrono::milliseconds response_write_timeout = kResponseWriteTimeout;
  std::chrono::milliseconds tls_handshake_timeout = kTlsHandshakeTimeout;
  // Told why a request was cut short: "too_large" or "timeout" (a bounded set, for a
  // metric). Called on the worker thread; may be empty.
  std::function<void(const char* reason)> on_cut;
};

// A plain HTTP server.
std::unique_ptr<httplib::Server> MakeCappedServer(CappedServerOptions options = {});

// An httplib::SSLServer (its ssl_context() as usual) with the certificate, key and, when not
// empty, the CA file client certificates must chain to. is_valid() says whether they loaded.
std::unique_ptr<httplib::Server> MakeCappedTlsServer(const std::string& cert_file,
                                                     const std::string& key_file,
                                                     const std::string& client_ca_file,
                                                     CappedServerOptions options = {});

}  // namespace gx
