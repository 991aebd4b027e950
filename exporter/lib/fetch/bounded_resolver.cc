#include "fetch/bounded_resolver.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/limits.h"

namespace gx {
namespace {

std::atomic<int> pending_lookups{0};    // running, waited for or not
std::atomic<int> abandoned_lookups{0};  // running, a caller gone

// What the lookup's thread and its callers share; whichever is last frees it.
struct LookupState {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;                                             // GUARDED_BY(mu)
  bool abandoned = false;                                        // GUARDED_BY(mu)
  Result<std::vector<std::string>> answer = Status::Error("");  // GUARDED_BY(mu)
};

// Lookups in flight by share key, for callers asking the same question meanwhile.
std::mutex shared_mu;
std::unordered_map<std::string, std::weak_ptr<LookupState>>& SharedLookups() {
  static auto* lookups = new std::unordered_map<std::string, std::weak_ptr<LookupState>>();
  return *lookups;  // GUARDED_BY(shared_mu); never destroyed: threads may outlive main
}

// Waits for `state` until the deadline.
BoundedLookup Await(LookupState* state, std::chrono::steady_clock::time_point deadline) {
  BoundedLookup out;
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    if (!state->abandoned) {  // under mu: the thread decrements only what was counted
      state->abandoned = true;
      abandoned_lookups.fetch_add(1);
    }
    out.timed_out = true;
    out.addresses = Status::Error("no answer before the deadline");
    return out;
  }
  out.addresses = state->answer;
  return out;
}

}  // namespace

int PendingDnsLookups() { return pending_lookups.load(); }
int AbandonedDnsLookups() { return abandoned_lookups.load(); }

BoundedLookup ResolveBefore(const std::string& host, const ResolveFunction& resolve,
                            std::chrono::steady_clock::time_point deadline,
                            const std::string& share_key) {
  BoundedLookup out;
  if (std::chrono::steady_clock::now() >= deadline) {
    out.timed_out = true;
    out.addresses = Status::Error("no answer before the deadline");
    return out;
  }
  std::shared_ptr<LookupState> state;
  std::unique_lock<std::mutex> shared_lock(shared_mu, std::defer_lock);
  if (!share_key.empty()) {
    // The same question asked again while it is being answered (a name that does not
    // answer, probed every interval): wait for that lookup instead of starting another.
    shared_lock.lock();
    auto it = SharedLookups().find(share_key);
    if (it != SharedLookups().end()) {
      if (auto running = it->second.lock()) {
        shared_lock.unlock();
        return Await(running.get(), deadline);
      }
    }
  }
  // Lookups someone waits for are bounded by the threads that wait (probe and watch workers);
  // those whose callers gave up are not, so they are what the cap counts.
  if (abandoned_lookups.load() >= static_cast<int>(kMaxPendingDnsLookups)) {
    out.addresses = Status::Error("too many DNS lookups left unanswered (" +
                                  std::to_string(kMaxPendingDnsLookups) +
                                  "): the resolver is not answering");
    return out;
  }
  pending_lookups.fetch_add(1);
  state = std::make_shared<LookupState>();
  if (shared_lock.owns_lock()) {
    SharedLookups()[share_key] = state;
    shared_lock.unlock();
  }
  try {
    std::thread([state, host = std::string(host), resolve = ResolveFunction(resolve),
                 share_key = std::string(share_key)]() mutable {
      Result<std::vector<std::string>> answer = Status::Error("resolver failed");
      try {
        answer = resolve(host);
      } catch (const std::exception& e) {
        answer = Status::Error(std::string("resolver failed: ") + e.what());
      }
      if (!share_key.empty()) {
        // Later callers start a new lookup: this answer is not cached.
        std::lock_guard<std::mutex> lock(shared_mu);
        auto it = SharedLookups().find(share_key);
        if (it != SharedLookups().end() && it->second.lock() == state) SharedLookups().erase(it);
      }
      bool abandoned;
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->answer = std::move(answer);
        state->done = true;
        abandoned = state->abandoned;
      }
      state->done_cv.notify_all();
      if (abandoned) abandoned_lookups.fetch_sub(1);
      // What the thread holds is released before it counts as finished.
      state.reset();
      resolve = nullptr;
      std::string().swap(host);
      std::string().swap(share_key);
      pending_lookups.fetch_sub(1);
    }).detach();
  } catch (const std::exception& e) {  // std::system_error: no thread to be had
    if (!share_key.empty()) {
      std::lock_guard<std::mutex> lock(shared_mu);
      SharedLookups().erase(share_key);
    }
    pending_lookups.fetch_sub(1);
    out.addresses = Status::Error(std::string("cannot start a DNS lookup: ") + e.what());
    return out;
  }
  return Await(state.get(), deadline);
}

}  // namespace gx
