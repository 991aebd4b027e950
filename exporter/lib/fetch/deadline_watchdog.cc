#include "fetch/deadline_watchdog.h"

#include <httplib.h>

#include <thread>

namespace gx {

DeadlineWatchdog& DeadlineWatchdog::Instance() {
  // Never destroyed: its thread may be waiting when the process exits.
  static DeadlineWatchdog* instance = new DeadlineWatchdog();
  return *instance;
}

DeadlineWatchdog::DeadlineWatchdog() {
  std::thread([this] { Loop(); }).detach();
}

DeadlineWatchdog::Watch DeadlineWatchdog::Start(httplib::Client* client,
                                                Clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_id_++;
  entries_.emplace(id, Entry{deadline, client});
  // Wake the thread only when it sleeps past this deadline: most requests end well before
  // theirs, and a wake-up per probe would cost a context switch each.
  if (deadline < wake_at_) cv_.notify_one();
  return Watch(this, id);
}

void DeadlineWatchdog::Forget(uint64_t id) {
  // Waits for a stop() in progress on this client: it runs under mu_.
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(id);
}

void DeadlineWatchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // A few requests at a time are in flight (probe threads): a linear scan is enough.
    Clock::time_point earliest = Clock::time_point::max();
    const Clock::time_point now = Clock::now();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.deadline <= now) {
        it->second.client->stop();
        it = entries_.erase(it);
      } else {
        earliest = std::min(earliest, it->second.deadline);
        ++it;
      }
    }
    wake_at_ = earliest;
    if (earliest == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, earliest);
    }
    wake_at_ = Clock::time_point::min();  // awake: Start() need not notify
  }
}

}  // namespace gx
