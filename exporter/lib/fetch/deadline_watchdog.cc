#include "fetch/deadline_watchdog.h"

#include <httplib.h>

#include <thread>
#include <utility>
#include <vector>

namespace gx {

DeadlineWatchdog& DeadlineWatchdog::Instance() {
  // Never destroyed: its thread may be waiting when the process exits.
  static DeadlineWatchdog* instance = new DeadlineWatchdog();
  return *instance;
}

DeadlineWatchdog::DeadlineWatchdog() {
  std::thread([this] { Loop(); }).detach();
}

DeadlineWatchdog::Watch DeadlineWatchdog::Start(httplib::ClientImpl* client,
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
  // A stop() in progress on this client must return before the client may be destroyed.
  std::unique_lock<std::mutex> lock(mu_);
  stopped_.wait(lock, [&] {
    auto it = entries_.find(id);
    return it == entries_.end() || !it->second.stopping;
  });
  entries_.erase(id);
}

void DeadlineWatchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::pair<uint64_t, httplib::ClientImpl*>> due;
  while (true) {
    // A few requests at a time are in flight (probe threads): a linear scan is enough.
    Clock::time_point earliest = Clock::time_point::max();
    const Clock::time_point now = Clock::now();
    due.clear();
    for (auto& [id, entry] : entries_) {
      if (entry.stopping) continue;
      if (entry.deadline <= now) {
        entry.stopping = true;
        due.emplace_back(id, entry.client);
      } else {
        earliest = std::min(earliest, entry.deadline);
      }
    }
    if (!due.empty()) {
      // stop() waits for the client's socket lock, which the request holds while it connects
      // and shakes hands: never with mu_ held, or every other fetch would wait too.
      lock.unlock();
      for (const auto& [id, client] : due) client->stop();
      lock.lock();
      for (const auto& [id, client] : due) entries_.erase(id);
      stopped_.notify_all();
      continue;
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
