// Aborts HTTP requests that outlive their deadline. cpp-httplib 0.11 bounds each socket read
// and write, not a whole request: a target (or anything in between) that drips its headers or
// body a byte per read timeout could hold a probe thread many times longer than the probe's
// deadline. One thread for the whole process sleeps until the earliest deadline and calls
// httplib::ClientImpl::stop() on requests still running then, the library's way to shut a
// socket down from another thread; the request then fails at once. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

namespace httplib {
class ClientImpl;
}

namespace gx {

class DeadlineWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // Stops watching when destroyed; destroy it before the client. Move-only.
  class Watch {
   public:
    Watch(DeadlineWatchdog* owner, uint64_t id) : owner_(owner), id_(id) {}
    Watch(Watch&& other) noexcept : owner_(other.owner_), id_(other.id_) { other.owner_ = nullptr; }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch& operator=(Watch&&) = delete;
    ~Watch() {
      if (owner_) owner_->Forget(id_);
    }

   private:
    DeadlineWatchdog* owner_;
    uint64_t id_;
  };

  // The process-wide instance; its thread starts with the first watch and never ends.
  static DeadlineWatchdog& Instance();

  // Stops `client` at `deadline` unless the returned Watch is destroyed first.
  Watch Start(httplib::ClientImpl* client, Clock::time_point deadline);

 private:
  DeadlineWatchdog();
  void Loop();
  void Forget(uint64_t id);

  struct Entry {
    Clock::time_point deadline;
    httplib::ClientImpl* client;
    bool stopping = false;  // stop() runs on it now, without mu_ held
  };
  std::mutex mu_;
  std::condition_variable cv_;       // wakes the thread: an earlier deadline
  std::condition_variable stopped_;  // wakes Forget(): the stop() of its entry returned
  std::map<uint64_t, Entry> entries_;  // GUARDED_BY(mu_), by id
  uint64_t next_id_ = 1;               // GUARDED_BY(mu_)
  // When the thread wakes next: max() while it waits for the first entry, min() while awake.
  Clock::time_point wake_at_ = Clock::time_point::min();  // GUARDED_BY(mu_)
};

}  // namespace gx
