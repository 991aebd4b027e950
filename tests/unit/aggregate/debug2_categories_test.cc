#include "aggregate/debug2_categories.h"

#include <doctest/doctest.h>

#include "../proto_builder.h"
#include "../test_util.h"
#include "aggregate/aggregator.h"
#include "classify/rules.h"

namespace gx {
namespace {

// 7 goroutines blocked in a receive that a Go <= 1.20 debug=0 profile (no start lines) shows as
// chan_receive, and 3 in a send; the debug=2 dump of the same moment tells the receive is on a
// nil channel, and names the creators.
Snapshot Debug0(const Classifier& c) {
  test::ProtoBuilder b;
  b.Sample(7, {{"runtime.gopark"}, {"runtime.chanrecv", 12}, {"runtime.chanrecv1"}, {"main.wait"}});
  b.Sample(3, {{"runtime.gopark"}, {"runtime.chansend", 200}, {"runtime.chansend1"}, {"main.push"}});
  auto s = AnalyzeBody(b.Gzipped(), c, Limits(), "debug0");
  REQUIRE(s.ok());
  return std::move(s.value());
}

Snapshot Debug2(const Classifier& c) {
  std::string dump;
  for (int i = 0; i < 7; ++i) {
    dump += "goroutine " + std::to_string(10 + i) +
            " [chan receive (nil chan)]:\nmain.wait()\n\tm.go:5 +0x1\ncreated by main.serve in "
            "goroutine 1\n\tm.go:9 +0x1\n\n";
  }
  for (int i = 0; i < 3; ++i) {
    dump += "goroutine " + std::to_string(20 + i) +
            " [chan send]:\nmain.push()\n\tm.go:7 +0x1\ncreated by main.batch in goroutine 1\n"
            "\tm.go:11 +0x1\n\n";
  }
  auto s = AnalyzeBody(dump, c, Limits(), "debug2");
  REQUIRE(s.ok());
  return std::move(s.value());
}

const StackSummary& ByFunction(const Snapshot& s, std::string_view function) {
  for (const StackSummary& st : s.stacks) {
    if (st.function() == function) return st;
  }
  FAIL("no stack of " << function);
  return s.stacks.front();
}

int64_t In(const Snapshot& s, Category c) { return s.by_category[static_cast<int>(c)]; }

}  // namespace

TEST_CASE("debug=2 categories: nil channels and creator rules carry over to debug=0 by stack id") {
  auto rules = ParseRulesDocument(
      "ignore:\n  - name: batch-workers\n    created_by: '^main\\.batch$'\n", "rules.yaml");
  REQUIRE(rules.ok());
  Classifier c(rules.value());
  Snapshot d0 = Debug0(c);
  REQUIRE(ByFunction(d0, "main.wait").category == Category::kChanReceive);
  REQUIRE(ByFunction(d0, "main.push").category == Category::kChanSend);

  Debug2Categories learned = Debug2Categories::From(Debug2(c), c);
  CHECK(learned.size() == 2);
  auto patched = learned.ApplyTo(d0);
  REQUIRE(patched);
  CHECK(ByFunction(*patched, "main.wait").category == Category::kNilChan);
  CHECK(ByFunction(*patched, "main.push").category == Category::kIgnored);
  CHECK(ByFunction(*patched, "main.push").rule == "batch-workers");
  CHECK(In(*patched, Category::kNilChan) == 7);
  CHECK(In(*patched, Category::kIgnored) == 3);
  CHECK(In(*patched, Category::kChanReceive) == 0);
  CHECK(In(*patched, Category::kChanSend) == 0);
  CHECK(patched->total == d0.total);
  CHECK(patched->notes.back().find("2 stacks take their category from the last debug=2") == 0);
  // The original is left as it was (results are shared read-only).
  CHECK(ByFunction(d0, "main.wait").category == Category::kChanReceive);

  // Applied again to a result that already has those categories: nothing to change.
  CHECK(learned.ApplyTo(*patched) == nullptr);
}

TEST_CASE("debug=2 categories: built-in rules that debug=0 decides as well are not carried") {
  Classifier c;  // no user rules: only the nil channel is debug=2's to tell
  Debug2Categories learned = Debug2Categories::From(Debug2(c), c);
  CHECK(learned.size() == 1);
  Snapshot d0 = Debug0(c);
  auto patched = learned.ApplyTo(d0);
  REQUIRE(patched);
  CHECK(ByFunction(*patched, "main.push").category == Category::kChanSend);
  CHECK(In(*patched, Category::kChanSend) == 3);
  CHECK(Debug2Categories().ApplyTo(d0) == nullptr);
}

TEST_CASE("a user rule on created_by is named in a note on captures without creators") {
  auto rules = ParseRulesDocument(
      "rules:\n  - name: batch\n    category: chan_send\n    created_by: '^main\\.batch$'\n",
      "rules.yaml");
  REQUIRE(rules.ok());
  Classifier c(rules.value());
  Snapshot d0 = Debug0(c);
  CHECK(test::HasNote(d0.notes, "(batch) decide only with debug=2"));
  CHECK_FALSE(test::HasNote(Debug2(c).notes, "decide only with debug=2"));
}

}  // namespace gx

namespace gx {

TEST_CASE("debug=2 facts: creators, states and waits join a debug=0 snapshot by stack id") {
  Classifier c;
  Snapshot d0 = Debug0(c);
  Snapshot d2 = Debug2(c);
  int joined = -1;
  Snapshot with = WithDebug2Facts(d0, d2, &joined);
  CHECK(joined == 2);
  const StackSummary& wait = ByFunction(with, "main.wait");
  CHECK(wait.created_by == "main.serve");
  CHECK(wait.state == "chan receive (nil chan)");
  CHECK(wait.count == 7);
  // Counts and categories stay the cheap profile's own; the input is not touched.
  CHECK(wait.category == ByFunction(d0, "main.wait").category);
  CHECK(with.total == d0.total);
  CHECK(ByFunction(d0, "main.wait").created_by.empty());
  CHECK(ByFunction(with, "main.push").created_by == "main.batch");

  // A stack the dump does not have keeps empty facts; a debug=2 snapshot is left as it is.
  Snapshot empty_dump = d2;
  empty_dump.stacks.clear();
  WithDebug2Facts(d0, empty_dump, &joined);
  CHECK(joined == 0);
  WithDebug2Facts(d2, d2, &joined);
  CHECK(joined == 0);
}

// One function blocked in a receive on a nil channel (7, line 5) and in a send (3, line 7):
// one stack. Only the receivers take the dump's nil_chan; the senders stay chan_send.
TEST_CASE("debug=2 categories move only a stack's own group, not its other categories") {
  Classifier c;
  test::ProtoBuilder b;
  b.Sample(7, {{"runtime.gopark"}, {"runtime.chanrecv", 12}, {"runtime.chanrecv1"}, {"main.stage"}});
  b.Sample(3, {{"runtime.gopark"}, {"runtime.chansend", 200}, {"runtime.chansend1"}, {"main.stage"}});
  auto d0 = AnalyzeBody(b.Gzipped(), c, Limits(), "debug0");
  REQUIRE(d0.ok());
  REQUIRE(d0->stacks.size() == 1);
  REQUIRE(d0->stacks[0].category == Category::kChanReceive);
  std::string dump;
  for (int i = 0; i < 10; ++i) {
    dump += "goroutine " + std::to_string(10 + i) +
            (i < 7 ? " [chan receive (nil chan)]:\nmain.stage()\n\tm.go:5 +0x1\n\n"
                   : " [chan send]:\nmain.stage()\n\tm.go:7 +0x1\n\n");
  }
  auto d2 = AnalyzeBody(dump, c, Limits(), "debug2");
  REQUIRE(d2.ok());
  auto patched = Debug2Categories::From(d2.value(), c).ApplyTo(d0.value());
  REQUIRE(patched);
  const StackSummary& s = patched->stacks[0];
  CHECK(s.category == Category::kNilChan);
  CHECK(s.other_categories == std::vector<std::pair<Category, int64_t>>{{Category::kChanSend, 3}});
  CHECK(In(*patched, Category::kNilChan) == 7);
  CHECK(In(*patched, Category::kChanSend) == 3);
  CHECK(In(*patched, Category::kChanReceive) == 0);
}

}  // namespace gx
