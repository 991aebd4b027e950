#include "fetch/bounded_resolver.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/limits.h"

namespace gx {
namespace {

std::atomic<int> pending_lookups{0};    // running, waited for or not
std::atomic<int> abandoned_lookups{0};  // running, their caller gone

// What the lookup's thread and its caller share; whichever is last frees it.
struct LookupState {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;                                             // GUARDED_BY(mu)
  bool abandoned = false;                                        // GUARDED_BY(mu)
  Result<std::vector<std::string>> answer = Status::Error("");  // GUARDED_BY(mu)
};

}  // namespace

int PendingDnsLookups() { return pending_lookups.load(); }
int AbandonedDnsLookups() { return abandoned_lookups.load(); }

BoundedLookup ResolveBefore(const std::string& host, const ResolveFunction& resolve,
                            std::chrono::steady_clock::time_point deadline) {
  BoundedLookup out;
  if (std::chrono::steady_clock::now() >= deadline) {
    out.timed_out = true;
    out.addresses = Status::Error("no answer before the deadline");
    return out;
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
  auto state = std::make_shared<LookupState>();
  try {
    std::thread([state, host = std::string(host), resolve = ResolveFunction(resolve)]() mutable {
      Result<std::vector<std::string>> answer = Status::Error("resolver failed");
      try {
        answer = resolve(host);
      } catch (const std::exception& e) {
        answer = Status::Error(std::string("resolver failed: ") + e.what());
      }
      bool abandoned;
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->answer = std::move(answer);
        state->done = true;
        abandoned = state->abandoned;
      }
      state->done_cv.notify_one();
      if (abandoned) abandoned_lookups.fetch_sub(1);
      // What the thread holds is released before it counts as finished.
      state.reset();
      resolve = nullptr;
      std::string().swap(host);
      pending_lookups.fetch_sub(1);
    }).detach();
  } catch (const std::exception& e) {  // std::system_error: no thread to be had
    pending_lookups.fetch_sub(1);
    out.addresses = Status::Error(std::string("cannot start a DNS lookup: ") + e.what());
    return out;
  }
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    state->abandoned = true;  // under mu: the thread decrements only what was counted
    abandoned_lookups.fetch_add(1);
    out.timed_out = true;
    out.addresses = Status::Error("no answer before the deadline");
    return out;
  }
  out.addresses = std::move(state->answer);
  return out;
}

}  // namespace gx
