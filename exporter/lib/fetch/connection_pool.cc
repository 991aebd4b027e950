#include "fetch/connection_pool.h"

#include "common/limits.h"
#include "fetch/capped_client.h"

namespace gx {

ConnectionPool::ConnectionPool() = default;
ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<CappedClient> ConnectionPool::Take(const std::string& key, int64_t now_ms) {
  std::unique_ptr<CappedClient> client;
  std::list<Idle> closing;  // destroyed (sockets closed) after the lock is released
  {
    std::lock_guard<std::mutex> lock(mu_);
    Expire(now_ms, &closing);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return nullptr;
    client = std::move(it->second->client);
    idle_.erase(it->second);
    by_key_.erase(it);
  }
  return client;
}

void ConnectionPool::Give(const std::string& key, std::unique_ptr<CappedClient> client,
                          int64_t now_ms) {
  std::list<Idle> closing;  // destroyed (sockets closed) after the lock is released
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(Idle{key, now_ms, std::move(client)});
    by_key_.emplace(key, std::prev(idle_.end()));
    Expire(now_ms, &closing);
    while (idle_.size() > kMaxIdleConnections) DropOldest(&closing);
  }
}

void ConnectionPool::DropOldest(std::list<Idle>* closing) {
  auto range = by_key_.equal_range(idle_.front().key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == idle_.begin()) {
      by_key_.erase(it);
      break;
    }
  }
  closing->splice(closing->end(), idle_, idle_.begin());
}

void ConnectionPool::Expire(int64_t now_ms, std::list<Idle>* closing) {
  while (!idle_.empty() && now_ms - idle_.front().since_ms > kMaxConnectionIdle.count()) {
    DropOldest(closing);
  }
}

std::size_t ConnectionPool::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

}  // namespace gx
