// Host name lookups that a caller waits for only until its deadline. glibc's getaddrinfo can
// be neither cancelled nor given a timeout, so a DNS server that does not answer would hold a
// probe for the resolver's own retries (resolv.conf: 5 s per try and server by default), far
// past the probe's deadline. Each lookup runs on a thread of its own; a caller whose deadline
// comes first gets an error, and the lookup finishes later on its thread, its answer dropped.
// At most kMaxPendingDnsLookups run on after their callers gave up; while that many do, new
// lookups fail at once, so a resolver that stopped answering costs a bounded number of
// threads. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace gx {

// Numeric addresses for a host name, in the order to try them, or why there are none.
using ResolveFunction = std::function<Result<std::vector<std::string>>(const std::string& host)>;

struct BoundedLookup {
  Result<std::vector<std::string>> addresses = Status::Error("not looked up");
  bool timed_out = false;  // the deadline came before the answer
};

// Calls resolve(host) on a thread of its own and waits for its answer until `deadline`.
// `resolve` is copied to that thread and may outlive the call. Callers that give the same
// non-empty share_key while a lookup for it runs wait for that one instead of starting
// another (for the system resolver: the host), so a name that does not answer holds one
// thread, not one per probe.
BoundedLookup ResolveBefore(const std::string& host, const ResolveFunction& resolve,
                            std::chrono::steady_clock::time_point deadline,
                            const std::string& share_key = "");

// Lookups started and not yet finished, including those whose callers gave up; and those
// alone (for tests).
int PendingDnsLookups();
int AbandonedDnsLookups();

}  // namespace gx
