// Idle keep-alive connections to targets, reused by the next fetch of the same target, so
// that a probe costs neither the target nor the exporter a TCP (or TLS) handshake: the way
// Prometheus keeps its scrape connections. Bounded: connections idle longer than
// kMaxConnectionIdle are closed instead of reused, and at most kMaxIdleConnections are kept
// (common/limits.h), the longest idle going first. A connection is used by one fetch at a
// time. Thread-safe (one mutex, never held during I/O).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gx {

class CappedClient;

class ConnectionPool {
 public:
  ConnectionPool();
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle client for `key` (scheme, host, port and TLS settings), or null.
  std::unique_ptr<CappedClient> Take(const std::string& key, int64_t now_ms);
  // Keeps a client whose last exchange ended cleanly, for the next Take of `key`.
  void Give(const std::string& key, std::unique_ptr<CappedClient> client, int64_t now_ms);
  std::size_t idle() const;

 private:
  struct Idle {
    std::string key;
    int64_t since_ms = 0;
    std::unique_ptr<CappedClient> client;
  };
  // Move connections out of the pool into *closing (closed once the lock is released).
  void DropOldest(std::list<Idle>* closing);                  // REQUIRES(mu_)
  void Expire(int64_t now_ms, std::list<Idle>* closing);      // REQUIRES(mu_)

  mutable std::mutex mu_;
  std::list<Idle> idle_;  // GUARDED_BY(mu_): oldest first
  std::unordered_multimap<std::string, std::list<Idle>::iterator> by_key_;  // GUARDED_BY(mu_)
};

}  // namespace gx
