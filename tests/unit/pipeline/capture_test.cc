#include "pipeline/capture.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "classify/classifier.h"

namespace gx {

TEST_CASE("a target URL without a path means its goroutine profile") {
  CHECK(ProfileUrlFor("http://svc:6060") == "http://svc:6060/debug/pprof/goroutine?debug=0");
  CHECK(ProfileUrlFor("http://svc:6060/") == "http://svc:6060/debug/pprof/goroutine?debug=0");
  CHECK(ProfileUrlFor("https://[::1]:8443/") == "https://[::1]:8443/debug/pprof/goroutine?debug=0");
  // A path or a query is the user's choice.
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/goroutine?debug=2") ==
        "http://svc:6060/debug/pprof/goroutine?debug=2");
  CHECK(ProfileUrlFor("http://svc:6060/custom") == "http://svc:6060/custom");
  // The pprof index page, as copied from a browser.
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/", 2) ==
        "http://svc:6060/debug/pprof/goroutine?debug=2");
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof") ==
        "http://svc:6060/debug/pprof/goroutine?debug=0");
  CHECK(ProfileUrlFor("http://svc:6060/?debug=1") == "http://svc:6060/?debug=1");
  CHECK(ProfileUrlFor("http://svc:6060", 2) == "http://svc:6060/debug/pprof/goroutine?debug=2");
  CHECK(ProfileUrlFor("http://svc:6060/x?debug=1", 2) == "http://svc:6060/x?debug=1");
  // The profile's page without a query, as `go tool pprof` takes it, gets the format asked for.
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/goroutine", 2) ==
        "http://svc:6060/debug/pprof/goroutine?debug=2");
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/goroutineleak") ==
        "http://svc:6060/debug/pprof/goroutineleak?debug=0");
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/goroutine?debug=1", 2) ==
        "http://svc:6060/debug/pprof/goroutine?debug=1");
}

TEST_CASE("the raw body is kept whole or not at all") {
  // A debug=2 dump of three 256 KiB read chunks (the last one short): over the cap, nothing
  // is kept (not the chunks that happened to fit, which would make a corrupt capture).
  std::string dump;
  for (int i = 0; dump.size() < 600 * 1024; ++i) {
    dump += "goroutine " + std::to_string(i + 1) + " [select]:\nmain.f()\n\t/m.go:1 +0x1\n\n";
  }
  char path[] = "/tmp/gx-capture-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path, std::ios::binary) << dump;
  Classifier classifier;
  CaptureOptions options;
  options.keep_raw_bytes = dump.size();
  auto whole = CaptureSource(path, classifier, options);
  REQUIRE(whole.ok());
  CHECK(whole->raw == dump);
  for (std::size_t cap : {dump.size() - 1, std::size_t{300} << 10}) {
    CAPTURE(cap);
    options.keep_raw_bytes = cap;
    auto none = CaptureSource(path, classifier, options);
    REQUIRE(none.ok());
    CHECK(none->raw.empty());
    CHECK(none->snapshot.stacks.size() == 1);  // the body is still analyzed
  }
  std::remove(path);
}

}  // namespace gx
