#include "pipeline/capture.h"

#include <doctest/doctest.h>

namespace gx {

TEST_CASE("a target URL without a path means its goroutine profile") {
  CHECK(ProfileUrlFor("http://svc:6060") == "http://svc:6060/debug/pprof/goroutine?debug=0");
  CHECK(ProfileUrlFor("http://svc:6060/") == "http://svc:6060/debug/pprof/goroutine?debug=0");
  CHECK(ProfileUrlFor("https://[::1]:8443/") == "https://[::1]:8443/debug/pprof/goroutine?debug=0");
  // A path or a query is the user's choice.
  CHECK(ProfileUrlFor("http://svc:6060/debug/pprof/goroutine?debug=2") ==
        "http://svc:6060/debug/pprof/goroutine?debug=2");
  CHECK(ProfileUrlFor("http://svc:6060/custom") == "http://svc:6060/custom");
  CHECK(ProfileUrlFor("http://svc:6060/?debug=1") == "http://svc:6060/?debug=1");
}

}  // namespace gx
