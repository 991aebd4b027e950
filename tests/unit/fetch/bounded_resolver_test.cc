#include "fetch/bounded_resolver.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/limits.h"

namespace gx {
namespace {

using Clock = std::chrono::steady_clock;

// A resolver that does not answer until the test opens the gate: a DNS server that is down.
// The gate outlives the lookups' threads (each resolver copy holds it).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
};

ResolveFunction BlockedResolver(std::shared_ptr<Gate> gate) {
  return [gate](const std::string&) -> Result<std::vector<std::string>> {
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->cv.wait(lock, [&] { return gate->open; });
    return std::vector<std::string>{"127.0.0.1"};
  };
}

// Waits (bounded) for the lookups left running to finish once their gate is open.
void WaitForNoPendingLookups() {
  for (int i = 0; i < 5000 && PendingDnsLookups() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(PendingDnsLookups() == 0);
}

}  // namespace

TEST_CASE("a lookup that answers in time returns its answer") {
  auto answer = ResolveBefore(
      "db.test",
      [](const std::string& host) -> Result<std::vector<std::string>> {
        if (host != "db.test") return Status::Error("unknown");
        return std::vector<std::string>{"10.0.0.7", "fd00::7"};
      },
      Clock::now() + std::chrono::seconds(30));
  REQUIRE(answer.addresses.ok());
  CHECK(answer.addresses.value() == std::vector<std::string>{"10.0.0.7", "fd00::7"});
  CHECK_FALSE(answer.timed_out);

  auto unknown = ResolveBefore(
      "gone.test",
      [](const std::string&) -> Result<std::vector<std::string>> {
        return Status::Error("Name or service not known");
      },
      Clock::now() + std::chrono::seconds(30));
  CHECK_FALSE(unknown.addresses.ok());
  CHECK(unknown.addresses.status().message() == "Name or service not known");
  CHECK_FALSE(unknown.timed_out);

  auto throwing = ResolveBefore(
      "bad.test",
      [](const std::string&) -> Result<std::vector<std::string>> {
        throw std::runtime_error("boom");
      },
      Clock::now() + std::chrono::seconds(30));
  CHECK(throwing.addresses.status().message() == "resolver failed: boom");
  WaitForNoPendingLookups();
}

// The resolver stays blocked until after ResolveBefore returned: had the caller waited for the
// answer, this test would hang (ctest's timeout), not pass.
TEST_CASE("a caller stops waiting for a lookup at its deadline") {
  WaitForNoPendingLookups();
  auto gate = std::make_shared<Gate>();
  auto lookup = ResolveBefore("slow.test", BlockedResolver(gate),
                              Clock::now() + std::chrono::milliseconds(50));
  CHECK(lookup.timed_out);
  CHECK(lookup.addresses.status().message() == "no answer before the deadline");
  CHECK(AbandonedDnsLookups() == 1);  // still running on its own thread
  gate->Open();
  WaitForNoPendingLookups();
}

TEST_CASE("callers asking the same name meanwhile share one lookup") {
  WaitForNoPendingLookups();
  auto gate = std::make_shared<Gate>();
  for (int i = 0; i < 5; ++i) {
    auto lookup = ResolveBefore("dead.test", BlockedResolver(gate),
                                Clock::now() + std::chrono::milliseconds(1), "dead.test");
    CHECK(lookup.timed_out);
  }
  CHECK(PendingDnsLookups() == 1);  // one thread for the name, not one per caller
  CHECK(AbandonedDnsLookups() == 1);
  // Another name, or no share key, is a lookup of its own.
  (void)ResolveBefore("other.test", BlockedResolver(gate),
                      Clock::now() + std::chrono::milliseconds(1), "other.test");
  CHECK(PendingDnsLookups() == 2);
  gate->Open();
  // A caller that joins in time gets the shared answer.
  auto late = ResolveBefore("dead.test", BlockedResolver(gate),
                            Clock::now() + std::chrono::seconds(30), "dead.test");
  REQUIRE(late.addresses.ok());
  CHECK(late.addresses.value() == std::vector<std::string>{"127.0.0.1"});
  WaitForNoPendingLookups();
  CHECK(AbandonedDnsLookups() == 0);
}

TEST_CASE("a caller whose deadline has passed starts no lookup") {
  WaitForNoPendingLookups();  // earlier tests' threads may still be ending
  auto gate = std::make_shared<Gate>();
  auto lookup = ResolveBefore("slow.test", BlockedResolver(gate), Clock::now());
  CHECK(lookup.timed_out);
  CHECK(PendingDnsLookups() == 0);
}

TEST_CASE("lookups left unanswered beyond the cap make new ones fail at once") {
  WaitForNoPendingLookups();
  auto gate = std::make_shared<Gate>();
  for (std::size_t i = 0; i < kMaxPendingDnsLookups; ++i) {
    // A deadline 1 ms away: the caller gives up and leaves the lookup running.
    auto lookup = ResolveBefore("slow.test", BlockedResolver(gate),
                                Clock::now() + std::chrono::milliseconds(1));
    CHECK(lookup.timed_out);
  }
  CHECK(PendingDnsLookups() == static_cast<int>(kMaxPendingDnsLookups));
  CHECK(AbandonedDnsLookups() == static_cast<int>(kMaxPendingDnsLookups));
  auto refused = ResolveBefore("slow.test", BlockedResolver(gate),
                               Clock::now() + std::chrono::seconds(30));
  CHECK_FALSE(refused.timed_out);
  CHECK(refused.addresses.status().message() ==
        "too many DNS lookups left unanswered (" + std::to_string(kMaxPendingDnsLookups) +
            "): the resolver is not answering");
  CHECK(PendingDnsLookups() == static_cast<int>(kMaxPendingDnsLookups));  // none started
  gate->Open();
  WaitForNoPendingLookups();
  CHECK(AbandonedDnsLookups() == 0);
  // Once they finished, lookups run again.
  auto again = ResolveBefore(
      "db.test",
      [](const std::string&) -> Result<std::vector<std::string>> {
        return std::vector<std::string>{"10.0.0.7"};
      },
      Clock::now() + std::chrono::seconds(30));
  CHECK(again.addresses.ok());
}

}  // namespace gx
