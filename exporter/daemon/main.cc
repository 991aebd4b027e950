// goroutine_exporter: Prometheus exporter for Go goroutine profiles. Probe mode
// (/probe?target=...) works with no config; a config file adds modules, an allowlist and
// watch mode. This file only wires flags, signals and the HTTP server together.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/allocator.h"
#include "common/duration.h"
#include "common/logger.h"
#include "config/config_values.h"
#include "daemon/app.h"
#include "daemon/http_server.h"
#include "daemon/tls_reloader.h"
#include "daemon/watcher.h"
#include "expose/capped_server.h"

#ifndef GX_VERSION
#define GX_VERSION "0.1.0"
#endif
#ifndef GX_REVISION
#define GX_REVISION "unknown"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;

// "host:port", ":port" or "[v6]:port"; an empty host means every address (see main).
bool SplitListenAddress(const std::string& address, std::string* host, int* port) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    std::size_t used = 0;
    *port = std::stoi(address.substr(colon + 1), &used);
    return used == address.size() - colon - 1 && *port >= 0 && *port <= 65535;
  } catch (...) {
    return false;
  }
}

// Hands freed memory back to the kernel every few seconds. Each probe builds a result and
// drops an older one; the freed space lies in pages between live data that glibc keeps (it
// returns only the top of a heap on its own), so RSS would settle near twice what is in use.
// malloc_trim releases every whole free page; it takes well under a millisecond here.
// Owns its thread; Stop() is thread-safe.
class FreedMemoryReleaser {
 public:
  explicit FreedMemoryReleaser(std::chrono::seconds period)
      : thread_([this, period] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, period, [this] { return stopping_; })) malloc_trim(0);
        }) {}
  ~FreedMemoryReleaser() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;     // last: starts once the members above exist
};

// Kubernetes takes a terminating pod out of its Service's endpoints only a moment after it
// sends SIGTERM: scrapes sent meanwhile would find the port closed. The exporter keeps
// answering (/-/ready says 503) for the delay; a second SIGTERM or SIGINT ends it at once.
void WaitOutShutdownDelay(std::chrono::milliseconds delay, const sigset_t& signals) {
  if (delay.count() <= 0) return;
  gx::Log().Info("not ready; stopping after the shutdown delay",
                 {{"delay_ms", std::to_string(delay.count())}});
  const auto until = std::chrono::steady_clock::now() + delay;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    timespec wait{static_cast<time_t>(left.count() / 1000000000),
                  static_cast<long>(left.count() % 1000000000)};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) return;  // asked again: now
    // SIGHUP (no reload while stopping), EINTR, or EAGAIN at the end: the loop decides.
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"goroutine_exporter: Prometheus exporter for Go goroutine profiles"};
  std::string listen = ":9867", config_file, web_config_file, log_level = "info",
              log_format = "logfmt", timeout_offset = "500ms", shutdown_delay = "0s",
              memory_budget = std::to_string(gx::kDefaultMemoryBudgetBytes >> 20) + "MiB";
  int max_requests = 16;
  bool config_check = false, version = false;
  cli.add_option("--web.listen-address", listen, "Address to listen on")->capture_default_str();
  cli.add_option("--web.config.file", web_config_file,
                 "Web config file (TLS and basic auth, exporter-toolkit format)");
  cli.add_option("--web.max-requests", max_requests, "HTTP worker threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_option("--config.file", config_file, "Configuration file (modules, allowlist, watch targets)");
  cli.add_flag("--config.check", config_check, "Validate the configuration files and exit");
  cli.add_option("--timeout-offset", timeout_offset,
                 "Subtracted from Prometheus' scrape timeout to get the probe deadline")
      ->capture_default_str();
  cli.add_option("--web.shutdown-delay", shutdown_delay,
                 "After SIGTERM, keep answering (not ready) this long before stopping")
      ->capture_default_str();
  cli.add_option("--probe.memory-budget", memory_budget,
                 "Memory the captures in progress may hold together, beyond " +
                     std::to_string(gx::kFreeCaptureBytes >> 20) +
                     " MiB each; a capture past it fails or is cut, and says so (keep it well "
                     "under the container's memory limit)")
      ->capture_default_str();
  cli.add_option("--log.level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  cli.add_option("--log.format", log_format, "logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  cli.add_flag("--version", version, "Print the version and exit");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (version) {
    std::cout << "goroutine_exporter " << GX_VERSION << " (" << GX_REVISION << ")\n";
    return kExitOk;
  }
  gx::ConfigureAllocator();
  gx::LogLevel level = gx::LogLevel::kInfo;
  gx::Logger::ParseLevel(log_level, &level);
  gx::Log().Configure(level, log_format == "json");
  auto offset = gx::ParseDuration(timeout_offset);
  if (!offset) {
    std::cerr << "goroutine_exporter: bad --timeout-offset\n";
    return kExitFailure;
  }
  auto delay = gx::ParseDuration(shutdown_delay);
  if (!delay || *delay > std::chrono::minutes(10)) {
    std::cerr << "goroutine_exporter: bad --web.shutdown-delay (0s to 10m)\n";
    return kExitFailure;
  }

  auto budget = gx::ParseByteSize(memory_budget);
  if (!budget || *budget < 0) {
    std::cerr << "goroutine_exporter: bad --probe.memory-budget (a size such as 256MiB)\n";
    return kExitFailure;
  }
  gx::AppFlags flags{config_file, web_config_file, *offset, static_cast<std::size_t>(*budget)};
  gx::App app(flags, GX_VERSION, GX_REVISION);
  gx::Status loaded = app.Reload();
  if (config_check) {
    if (!loaded.ok()) {
      std::cerr << "goroutine_exporter: " << loaded.message() << "\n";
      return kExitFailure;
    }
    std::cout << "config OK\n";
    return kExitOk;
  }
  if (!loaded.ok()) return kExitFailure;
  if (config_file.empty()) {
    gx::Log().Warn("no --config.file: /probe accepts any target; set probe.allowed_targets in a config file");
  }

  std::string host;
  int port = 0;
  if (!SplitListenAddress(listen, &host, &port)) {
    std::cerr << "goroutine_exporter: bad --web.listen-address '" << listen << "'\n";
    return kExitFailure;
  }

  // Signals go to one thread that waits for them; block them everywhere else first.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto web = app.web_config();
  std::unique_ptr<gx::TlsReloader> tls_reloader;  // outlives the server (declared first)
  std::unique_ptr<httplib::Server> server;
  // Requests are read through a byte budget and deadlines (expose/capped_server.h).
  gx::CappedServerOptions server_options;
  server_options.on_cut = [&app](const char* reason) { app.metrics().RequestCut(reason); };
  if (web->tls_enabled()) {
    server = gx::MakeCappedTlsServer(web->tls_cert_file, web->tls_key_file,
                                     web->tls_client_ca_file, server_options);
    if (!server->is_valid()) {
      gx::Log().Error("cannot load TLS certificate or key", {{"cert", web->tls_cert_file}});
      return kExitFailure;
    }
    // Rotated certificate files are served from the next handshake on.
    tls_reloader = std::make_unique<gx::TlsReloader>(web->tls_cert_file, web->tls_key_file);
    std::string tls_error;
    if (!tls_reloader->Load(&tls_error)) {
      gx::Log().Error("cannot load TLS certificate or key", {{"err", tls_error}});
      return kExitFailure;
    }
    tls_reloader->Install(static_cast<httplib::SSLServer*>(server.get())->ssl_context());
  } else {
    server = gx::MakeCappedServer(server_options);
  }
  gx::Watcher watcher(&app);
  gx::ServerOptions options;
  options.max_requests = max_requests;
  gx::InstallRoutes(server.get(), &app, &watcher, options);

  // cpp-httplib 0.11 listens with a backlog of 5, fixed inside the library: a burst of new
  // connections (Prometheus starting many /probe scrapes at once) overflows it, and each
  // dropped SYN is retried only after a second. The listening socket is the first one the
  // socket-options hook sees; once bound, it is given the system's maximum backlog.
  std::atomic<int> listen_fd{-1};
  server->set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    int none = -1;
    listen_fd.compare_exchange_strong(none, static_cast<int>(sock));
  });
  auto bind = [&](const std::string& h) {
    listen_fd = -1;
    return port == 0 ? server->bind_to_any_port(h) : (server->bind_to_port(h, port) ? port : -1);
  };
  int bound = -1;
  if (host.empty()) {
    // ":port": IPv4 and IPv6 (one dual-stack socket), so that single-stack IPv6 clusters
    // reach it too; IPv4 alone where the kernel has no IPv6.
    bound = bind("::");
    host = bound >= 0 ? "::" : "0.0.0.0";
    if (bound < 0) bound = bind(host);
  } else {
    bound = bind(host);
  }
  if (bound < 0) {
    gx::Log().Error("cannot listen", {{"address", listen}});
    return kExitFailure;
  }
  if (listen_fd >= 0 && ::listen(listen_fd, SOMAXCONN) != 0) {
    gx::Log().Warn("cannot raise the listen backlog", {{"error", std::strerror(errno)}});
  }
  watcher.Start();
  FreedMemoryReleaser releaser(std::chrono::seconds(5));
  std::thread http([&] { server->listen_after_bind(); });
  while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  app.set_ready(true);
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  gx::Log().Info("listening", {{"address", shown_host + ":" + std::to_string(bound)},
                               {"tls", web->tls_enabled() ? "true" : "false"},
                               {"version", GX_VERSION}});

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      app.Reload();
      continue;
    }
    gx::Log().Info("shutting down", {{"signal", std::to_string(sig)}});
    break;
  }
  app.set_ready(false);
  WaitOutShutdownDelay(*delay, signals);
  server->stop();
  http.join();
  watcher.Stop();
  releaser.Stop();
  gx::Log().Info("stopped");
  return kExitOk;
}
