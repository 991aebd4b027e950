#include "probe/prober.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "../proto_builder.h"
#include "classify/rules.h"

namespace gx {
namespace {

// A fake Go target serving a goroutine profile; counts requests per debug level.
class FakeTarget {
 public:
  explicit FakeTarget(int goroutines, int delay_ms = 0) {
    test::ProtoBuilder b;
    b.Sample(goroutines, {{"runtime.gopark"}, {"runtime.chansend"}, {"runtime.chansend1"}, {"main.push"}});
    proto_ = b.Gzipped();
    server_.Get("/debug/pprof/goroutine", [this, goroutines, delay_ms](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      if (req.get_param_value("debug") == "2") {
        ++debug2_;
        if (debug2_status_ != 200) {
          res.status = debug2_status_;
          return;
        }
        std::string dump;
        for (int i = 0; i < goroutines; ++i) {
          dump += "goroutine " + std::to_string(i + 1) + " [chan send, 3 minutes]:\nmain.push()\n\tm.go:1 +0x1\n"
                  "created by main.start in goroutine 1\n\tm.go:2 +0x1\n\n";
        }
        res.set_content(dump, "text/plain");
        return;
      }
      ++debug0_;
      res.set_content(proto_, "application/octet-stream");
    });
    server_.Get("/debug/pprof/goroutineleak", [this](const httplib::Request&, httplib::Response& res) {
      ++leak_;
      res.status = 404;
      res.set_content("Unknown profile\n", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeTarget() {
    server_.stop();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> debug0_{0}, debug2_{0}, leak_{0};
  std::atomic<int> debug2_status_{200};  // what debug=2 requests are answered with

 private:
  std::string proto_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

Module TestModule() {
  Module m;
  m.name = "test";
  m.timeout = std::chrono::seconds(5);
  return m;
}

// A module without goroutineleak whose debug=2 dumps may be taken (or reused) again after
// 300 ms: the tests of what happens between and after dumps.
Module QuickDumpModule() {
  Module m = TestModule();
  m.goroutineleak.enabled = false;
  m.debug2.min_interval = std::chrono::milliseconds(300);
  return m;
}

// `m` with one ignore rule on the creator, and its classifier (as a config load builds them).
void IgnoreCreatedBy(const std::string& pattern, Module* m) {
  auto rules = ParseRulesDocument(
      "ignore:\n  - name: started-by-start\n    created_by: '" + pattern + "'\n", "rules.yaml");
  REQUIRE(rules.ok());
  m->rules = rules.value();
  m->classifier = std::make_shared<const Classifier>(m->rules);
}

const FetchRecord* Find(const ProbeResult& r, const std::string& profile, int debug) {
  for (const FetchRecord& f : r.fetches) {
    if (f.profile == profile && f.debug == debug) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a probe fetches debug=0, then debug=2 under the cap, and remembers a 404") {
  FakeTarget target(50);
  Prober prober{Limits()};
  Module m = TestModule();
  auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(r->success);
  CHECK(r->snapshot->total == 50);
  REQUIRE(r->debug2);
  CHECK(r->debug2->stacks[0].created_by == "main.start");
  CHECK(Find(*r, "goroutineleak", 0)->skipped == SkipReason::kUnsupported);
  CHECK(target.debug2_ == 1);
  CHECK(target.leak_ == 1);

  // Second probe: debug=2 is reused (min interval), the 404 is not asked again.
  auto r2 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(Find(*r2, "goroutine", 2)->skipped == SkipReason::kMinInterval);
  CHECK(Find(*r2, "goroutineleak", 0)->skipped == SkipReason::kUnsupported);
  CHECK(r2->debug2 == r->debug2);
  CHECK(target.debug2_ == 1);
  CHECK(target.leak_ == 1);
  CHECK(target.debug0_ == 2);
}

TEST_CASE("targets over the cap never get an expensive fetch") {
  FakeTarget target(3000);
  Prober prober{Limits()};
  Module m = TestModule();
  m.goroutineleak.max_goroutines = 1000;
  auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(r->success);
  CHECK(Find(*r, "goroutine", 2)->skipped == SkipReason::kOverCap);
  CHECK(Find(*r, "goroutineleak", 0)->skipped == SkipReason::kOverCap);
  CHECK(target.debug2_ == 0);
  CHECK(target.leak_ == 0);
}

TEST_CASE("concurrent probes of one target share one fetch") {
  FakeTarget target(10, 300);
  Prober prober{Limits()};
  Module m = TestModule();
  m.debug2.enabled = false;
  m.goroutineleak.enabled = false;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, shared{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
      if (r->success) ++ok;
      if (r->shared || r->cached) ++shared;  // cached: started after the fetch ended
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
  CHECK(shared == 3);
  CHECK(target.debug0_ == 1);
}

TEST_CASE("a failed expensive fetch waits min_interval like a successful one") {
  // The target paid for the dump whether or not it arrived (timeout, too large, 5xx).
  FakeTarget target(50);
  target.debug2_status_ = 500;
  Prober prober{Limits()};
  Module m = TestModule();
  m.goroutineleak.enabled = false;
  auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(r->success);
  CHECK(Find(*r, "goroutine", 2)->failed);
  auto r2 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(Find(*r2, "goroutine", 2)->skipped == SkipReason::kMinInterval);
  CHECK(target.debug2_ == 1);
  CHECK(target.debug0_ == 2);
}

TEST_CASE("a kept expensive result is reused for two min_intervals at most") {
  FakeTarget target(50);
  Prober prober{Limits()};
  Module m = QuickDumpModule();
  auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(r->debug2);
  // The target grows past the cap: no more dumps; the last one is reused while recent...
  m.debug2.max_goroutines = 10;
  auto r2 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(Find(*r2, "goroutine", 2)->skipped == SkipReason::kOverCap);
  CHECK(r2->debug2 == r->debug2);
  // ...and dropped once older than 2 x min_interval, instead of being exported as current.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto r3 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(Find(*r3, "goroutine", 2)->skipped == SkipReason::kOverCap);
  CHECK(r3->debug2 == nullptr);
  CHECK(Find(*r3, "goroutine", 2)->data_time_ms == -1);
  CHECK(target.debug2_ == 1);
}

TEST_CASE("a creator rule decided on the debug=2 dump applies to debug=0 results until the next") {
  FakeTarget target(50);
  Prober prober{Limits()};
  Module m = QuickDumpModule();
  IgnoreCreatedBy("^main\\.start$", &m);
  auto r = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(r->success);
  REQUIRE(r->debug2);
  REQUIRE(r->snapshot->stacks.size() == 1);
  CHECK(r->debug2->stacks[0].category == Category::kIgnored);
  CHECK(r->snapshot->stacks[0].category == Category::kIgnored);
  CHECK(r->snapshot->stacks[0].rule == "started-by-start");
  CHECK(r->snapshot->by_category[static_cast<int>(Category::kIgnored)] == 50);
  CHECK(r->snapshot->by_category[static_cast<int>(Category::kChanSend)] == 0);
  // Long after the dump stopped being reused (the target is over the cap now), the stack keeps
  // the category the dump gave it rather than flipping back to chan_send.
  m.debug2.max_goroutines = 10;
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto r2 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(r2->debug2 == nullptr);
  CHECK(r2->snapshot->stacks[0].category == Category::kIgnored);
  // A reload with the same rules builds a new classifier: the categories stay.
  m.classifier = std::make_shared<const Classifier>(m.rules);
  auto r3 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(r3->snapshot->stacks[0].category == Category::kIgnored);
  // Other rules: what the old ones said is dropped.
  IgnoreCreatedBy("^main\\.other$", &m);
  auto r4 = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK(r4->snapshot->stacks[0].category == Category::kChanSend);
  CHECK(target.debug2_ == 1);
}

TEST_CASE("one address spelled several ways is one tracked target") {
  FakeTarget target(5);
  Prober prober{Limits()};
  Module m = TestModule();
  const std::string port = target.address().substr(target.address().rfind(':') + 1);
  for (const std::string& spelling : {"127.0.0.1:" + port, "127.0.0.1:0" + port,
                                      "http://127.0.0.1:" + port}) {
    CAPTURE(spelling);
    CHECK(prober.Probe(spelling, m, std::chrono::seconds(5))->success);
  }
  CHECK(prober.tracked_targets() == 1);
  CHECK(target.debug2_ == 1);  // the later spellings found the dump of the first
}

TEST_CASE("a target that is not a Go profile fails the probe and still shows its bytes") {
  const std::string page = "<html><body>" + std::string(3000, 'x') + "</body></html>\n";
  httplib::Server server;
  server.Get("/debug/pprof/goroutine", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(page, "text/html");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Prober prober{Limits()};
  auto r = prober.Probe("127.0.0.1:" + std::to_string(port), TestModule(), std::chrono::seconds(5));
  server.stop();
  thread.join();
  CHECK_FALSE(r->success);
  CHECK(r->error.find("not a goroutine profile") != std::string::npos);
  const FetchRecord* cheap = Find(*r, "goroutine", 0);
  REQUIRE(cheap);
  CHECK(cheap->failed);
  CHECK(cheap->bytes == page.size());
}

TEST_CASE("targets are host:port or scheme://host:port only") {
  Module m = TestModule();
  auto a = ResolveTarget("127.0.0.1:6060", m);
  REQUIRE(a.ok());
  CHECK(a->base_url == "http://127.0.0.1:6060");
  CHECK(a->host == "127.0.0.1");
  auto b = ResolveTarget("https://[::1]:8443", m);
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  for (const char* bad : {"", "127.0.0.1:6060/debug/pprof", "ftp://x:1", "h:99999", "http://u:p@h:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(ResolveTarget(bad, m).ok());
  }
}

TEST_CASE("a min_interval result is not served under other label_keys") {
  FakeTarget target(10);
  Prober prober{Limits()};
  Module m = TestModule();
  m.goroutineleak.enabled = false;
  m.debug2.max_goroutines = 0;  // debug=0 only
  m.min_interval = std::chrono::minutes(1);
  auto first = prober.Probe(target.address(), m, std::chrono::seconds(5));
  REQUIRE(first->success);
  CHECK(prober.Probe(target.address(), m, std::chrono::seconds(5))->cached);
  CHECK(target.debug0_ == 1);
  // A reload adds a label key: the snapshot kept for the old keys is not served for it.
  m.label_keys = {"tenant"};
  auto after_reload = prober.Probe(target.address(), m, std::chrono::seconds(5));
  CHECK_FALSE(after_reload->cached);
  CHECK(target.debug0_ == 2);
  CHECK(prober.Probe(target.address(), m, std::chrono::seconds(5))->cached);
}

}  // namespace gx
