#include "decode/debug2_parser.h"

#include <doctest/doctest.h>

#include <random>

#include "../test_util.h"

namespace gx {
namespace {

struct Parsed {
  std::vector<RawRecord> records;
  DecodeInfo info;
};

// Feeds `text` in chunks of `chunk` bytes (0 = all at once).
Parsed Parse(std::string_view text, std::size_t chunk = 0, Limits limits = Limits()) {
  test::CollectingSink sink;
  Parsed out;
  Debug2Parser parser(&sink, &out.info, limits);
  if (chunk == 0) chunk = text.size() ? text.size() : 1;
  for (std::size_t i = 0; i < text.size(); i += chunk) {
    parser.Feed(text.substr(i, chunk));
    out.info.decoded_bytes += std::min(chunk, text.size() - i);
  }
  parser.Finish();
  out.records = std::move(sink.records);
  return out;
}

}  // namespace

TEST_CASE("goroutine headers of every Go version parse") {
  struct Case {
    const char* line;
    int64_t id;
    const char* state;
    int64_t minutes;
    bool leaked;
    bool locked;
    LabelSet labels;
  };
  const Case cases[] = {
      {"goroutine 143 [running]:", 143, "running", -1, false, false, {}},
      {"goroutine 46 [syscall, 1 minutes]:", 46, "syscall", 1, false, false, {}},
      {"goroutine 47 [chan receive, 12 minutes, locked to thread]:", 47, "chan receive", 12,
       false, true, {}},
      {"goroutine 23 [chan receive (leaked)]:", 23, "chan receive", -1, true, false, {}},
      {"goroutine 24 [chan receive (nil chan) (leaked)]:", 24, "chan receive (nil chan)", -1,
       true, false, {}},
      {"goroutine 8 [select (no cases)]:", 8, "select (no cases)", -1, false, false, {}},
      {R"(goroutine 9 [chan receive, 1 minutes labels:{"route": "/enrich", "tenant": "x"}]:)", 9,
       "chan receive", 1, false, false, {{"route", "/enrich"}, {"tenant", "x"}}},
      {"goroutine 43 [chan receive, 1 minutes] {route: /enrich, tenant: x}:", 43,
       "chan receive", 1, false, false, {{"route", "/enrich"}, {"tenant", "x"}}},
      {R"(goroutine 41 [chan receive, 1 minutes] {job: "nightly \"batch\" 1"}:)", 41,
       "chan receive", 1, false, false, {{"job", "nightly \"batch\" 1"}}},
      {R"(goroutine 42 [select] {k: "a]b:{c"}:)", 42, "select", -1, false, false,
       {{"k", "a]b:{c"}}},
      {"goroutine 1 gp=0xc000002380 m=0 mp=0x5b1e40 [running]:", 1, "running", -1, false,
       false, {}},
      {"goroutine 5 [sync.WaitGroup.Wait (durable), synctest bubble 3]:", 5,
       "sync.WaitGroup.Wait", -1, false, false, {}},
      {"goroutine 6 [some future reason (scan), 3 minutes]:", 6, "some future reason", 3, false,
       false, {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    RawRecord r;
    REQUIRE(ParseGoroutineHeader(c.line, Limits(), &r));
    CHECK(r.goroutine_id == c.id);
    CHECK(r.state == c.state);
    CHECK(r.wait_minutes == c.minutes);
    CHECK(r.leaked == c.leaked);
    CHECK(r.locked_to_thread == c.locked);
    CHECK(r.labels == c.labels);
  }
}

TEST_CASE("malformed goroutine headers are rejected") {
  for (const char* bad : {"goroutine x [running]:", "goroutine 1 running:", "goroutine 1 [running",
                          "goroutine 1 [running]", "goroutine 1 [running]: extra",
                          R"(goroutine 1 [select] {k: "unterminated}:)", "goroutine  [x]:"}) {
    CAPTURE(bad);
    RawRecord r;
    CHECK_FALSE(ParseGoroutineHeader(bad, Limits(), &r));
  }
}

TEST_CASE("debug=2 records: frames, inlining, creators, elision and ancestors") {
  const std::string dump =
      "goroutine 22 [chan send, 3 minutes]:\n"
      "main.leakChanSend.func1()\n"
      "\t/src/leaky/main.go:59 +0x1e\n"
      "main.helper(...)\n"
      "\t/src/leaky/main.go:12\n"
      "created by main.leakChanSend in goroutine 1\n"
      "\t/src/leaky/main.go:59 +0x67\n"
      "\n"
      "goroutine 30 [select]:\n"
      "main.deep(0x1?)\n"
      "\tmain.go:5 +0x10\n"
      "...50 frames elided...\n"
      "main.deep(0x33)\n"
      "\tmain.go:5 +0x10\n"
      "created by main.start\n"
      "\tmain.go:9 +0x20\n"
      "[originating from goroutine 1]:\n"
      "main.main(...)\n"
      "\tmain.go:20 +0x30\n"
      "\n"
      "goroutine 31 [sleep]:\n"
      "time.Sleep(0x3b9aca00)\n"
      "\truntime/time.go:195 +0x135\n"
      "...additional frames elided...\n";
  for (std::size_t chunk : {0, 1, 7, 64}) {
    CAPTURE(chunk);
    Parsed p = Parse(dump, chunk);
    REQUIRE(p.records.size() == 3);
    CHECK(p.info.unknown_lines == 0);
    CHECK(p.info.ancestor_blocks == 1);
    const RawRecord& a = p.records[0];
    CHECK(a.goroutine_id == 22);
    REQUIRE(a.frames.size() == 2);
    CHECK(a.frames[0].function == "main.leakChanSend.func1");
    CHECK(a.frames[0].file == "/src/leaky/main.go");
    CHECK(a.frames[0].line == 59);
    CHECK(a.frames[1].inlined);
    CHECK(a.created_by == "main.leakChanSend");
    CHECK(a.creator_goroutine_id == 1);
    CHECK(a.created_at == "/src/leaky/main.go:59");
    const RawRecord& b = p.records[1];
    CHECK(b.frames_elided);
    CHECK(b.frames.size() == 2);  // ancestor frames are not this goroutine's
    CHECK(b.created_by == "main.start");
    CHECK(b.creator_goroutine_id == -1);  // Go <= 1.20 form
    CHECK(p.records[2].frames_elided);
    CHECK_FALSE(p.info.truncated);
  }
}

TEST_CASE("a dump cut mid-line (64 MiB cap) drops the cut record and says so") {
  std::string dump =
      "goroutine 1 [chan receive]:\nmain.a()\n\tmain.go:1 +0x1\n\n"
      "goroutine 2 [chan receive]:\nmain.b()\n\tmain.go:2 +0x1\n\n"
      "goroutine 3 [chan receive]:\nmain.c()\n\t/very/long/pa";
  Parsed p = Parse(dump, 5);
  CHECK(p.records.size() == 2);
  CHECK(p.info.truncated);
  CHECK_FALSE(p.info.warnings.empty());
}

TEST_CASE("unknown lines are counted, never silently dropped") {
  std::string dump =
      "garbage before\n"
      "goroutine 1 [chan receive]:\nmain.a()\n\tmain.go:1 +0x1\nnot a frame line\n\n";
  Parsed p = Parse(dump);
  CHECK(p.records.size() == 1);
  CHECK(p.info.unknown_lines == 2);
}

TEST_CASE("overlong lines are skipped with bounded memory") {
  Limits limits;
  limits.max_line_bytes = 100;
  std::string dump = "goroutine 1 [select]:\nmain.a(" + std::string(5000, 'x') +
                     ")\n\tmain.go:1 +0x1\n\ngoroutine 2 [select]:\nmain.b()\n\tmain.go:2\n";
  Parsed p = Parse(dump, 33, limits);
  CHECK(p.records.size() == 2);
  CHECK(p.info.unknown_lines >= 1);
}

TEST_CASE("a goroutine header over the line cap loses its goroutine, and the dump says so") {
  // Go 1.27 prints pprof labels in the header; a service's labels can make it long.
  Limits limits;
  limits.max_line_bytes = 100;
  const std::string dump = "goroutine 1 [select]:\nmain.a()\n\tmain.go:1 +0x1\n\n"
                           "goroutine 2 [select] {route: \"" + std::string(500, 'r') +
                           "\"}:\nmain.b()\n\tmain.go:2 +0x1\n\n"
                           "goroutine 3 [select]:\nmain.c()\n\tmain.go:3 +0x1\n";
  for (std::size_t chunk : {std::size_t{0}, std::size_t{7}}) {
    CAPTURE(chunk);
    Parsed p = Parse(dump, chunk, limits);
    CHECK(p.records.size() == 2);
    CHECK(p.info.truncated);
    bool said = false;
    for (const std::string& w : p.info.warnings) {
      said = said || w.find("debug=2: 1 goroutine headers longer than 100 bytes were skipped") == 0;
    }
    CHECK(said);
  }
  // An overlong frame line loses no goroutine: the counts stay whole.
  Parsed frame = Parse("goroutine 1 [select]:\nmain.a(" + std::string(500, 'x') +
                           ")\n\tmain.go:1 +0x1\n",
                       0, limits);
  CHECK(frame.records.size() == 1);
  CHECK_FALSE(frame.info.truncated);
}

TEST_CASE("random bytes never crash the debug=2 parser") {
  std::mt19937 rng(42);
  const std::string alphabet = "goroutine [](){}:,\"\\\t\n 0123456789abcmnx.+/";
  for (int round = 0; round < 300; ++round) {
    std::string s = "goroutine 1 [";
    std::size_t n = rng() % 400;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    Parsed p = Parse(s, 1 + rng() % 17);
    CHECK(p.records.size() <= s.size());
  }
}

}  // namespace gx
