// Serves the TLS certificate and key files as they are now, not as they were at start:
// cert-manager and similar rotate them in place, and a server that loaded them once would
// keep presenting the old certificate until it expires. Hooked into the server's SSL_CTX as
// its certificate callback: each handshake checks the files' identity (stat) and reloads
// them when they changed; files that do not load (a rotation half written) keep the last
// good pair in use. Thread-safe.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

namespace gx {

class TlsReloader {
 public:
  TlsReloader(std::string cert_file, std::string key_file);
  ~TlsReloader();
  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  // Loads the files now; false (with the reason in *error) when they do not form a pair.
  bool Load(std::string* error);
  // Makes `ctx` ask this object for its certificate at every handshake; must outlive it.
  void Install(SSL_CTX* ctx);
  // Handshakes since start that found new files and loaded them (for tests and logs).
  int reloads() const;

 private:
  struct KeyPair;
  struct FileIds {
    dev_t dev[2] = {0, 0};
    ino_t ino[2] = {0, 0};
    time_t mtime[2] = {0, 0};
    long mtime_ns[2] = {0, 0};
    off_t size[2] = {0, 0};
    bool operator==(const FileIds& o) const;
  };
  static int OnHandshake(SSL* ssl, void* self);
  bool StatFiles(FileIds* ids) const;
  std::shared_ptr<const KeyPair> Current();

  const std::string cert_file_;
  const std::string key_file_;
  std::mutex reload_mu_;  // held by the one handshake reloading the files
  mutable std::mutex mu_;
  std::shared_ptr<const KeyPair> current_;  // GUARDED_BY(mu_)
  FileIds loaded_ids_;                      // GUARDED_BY(mu_): the files current_ came from
  FileIds failed_ids_;                      // GUARDED_BY(mu_): files that did not load
  int reloads_ = 0;                         // GUARDED_BY(mu_)
};

}  // namespace gx
