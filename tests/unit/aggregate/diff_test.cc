#include "aggregate/diff.h"

#include <doctest/doctest.h>

#include "aggregate/aggregator.h"
#include "classify/rules.h"
#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {

TEST_CASE("diff ranks by growth and matches stacks across formats") {
  Classifier classifier;
  test::ProtoBuilder before;
  before.Sample(5, {{"runtime.gopark"}, {"runtime.chansend"}, {"runtime.chansend1"}, {"main.push"}});
  before.Sample(7, {{"runtime.gopark"}, {"time.Sleep"}, {"main.tick"}});
  before.Sample(3, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.gone"}});
  // The same program later, read through debug=1 (runtime frames hidden).
  std::string after =
      "goroutine profile: total 45\n"
      "40 @ 0x1\n#\t0x1\tmain.push+0x1\tm.go:1\n\n"
      "5 @ 0x2\n#\t0x2\ttime.Sleep+0x1\tt.go:1\n#\t0x3\tmain.tick+0x1\tm.go:2\n\n";
  auto a = AnalyzeBody(before.Gzipped(), classifier, Limits(), "before");
  auto b = AnalyzeBody(after, classifier, Limits(), "after");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  SnapshotDiff d = DiffSnapshots(a.value(), b.value());
  REQUIRE(d.rows.size() == 3);
  CHECK(d.rows[0].stack.function() == "main.push");
  CHECK(d.rows[0].delta() == 35);
  // debug=1 cannot see the chan send; the older debug=0 capture can.
  CHECK(d.rows[0].stack.category == Category::kChanSend);
  CHECK(d.rows[1].stack.function() == "main.tick");
  CHECK(d.rows[1].delta() == -2);
  CHECK(d.rows[2].stack.function() == "main.gone");
  CHECK(d.rows[2].after == 0);
  CHECK(d.total_before == 15);
  CHECK(d.total_after == 45);
  CHECK(d.notes.size() >= 2);
  // The category table counts both sides by the same categories: the 40 chan sends of the
  // debug=1 side are no "unknown" growth and no chan_send drop.
  const int send = static_cast<int>(Category::kChanSend);
  const int unknown = static_cast<int>(Category::kUnknown);
  CHECK(d.category_before[send] == 5);
  CHECK(d.category_after[send] == 40);
  CHECK(d.category_after[unknown] == 0);
}

TEST_CASE("an older debug=2 capture lends its categories to a newer debug=0 one") {
  // A creator rule decides only on debug=2 (debug=0 has no creators); Go 1.19's debug=0 has
  // no start lines, so nil channels read as chan_receive there.
  auto rules = ParseRulesDocument("rules:\n  - name: pool\n    category: wait_group\n"
                                  "    created_by: '^main\\.startPool$'\n", "r.yaml");
  REQUIRE(rules.ok());
  Classifier classifier(rules.value());
  std::string dump;
  for (int i = 0; i < 4; ++i) {
    dump += "goroutine " + std::to_string(10 + i) + " [chan send]:\nmain.pooled()\n\tm.go:9 +0x1\n"
            "created by main.startPool in goroutine 1\n\tm.go:3 +0x2\n\n";
  }
  test::ProtoBuilder later;
  later.Sample(9, {{"runtime.gopark"}, {"runtime.chansend"}, {"runtime.chansend1"}, {"main.pooled"}});
  auto a = AnalyzeBody(dump, classifier, Limits(), "before");
  auto b = AnalyzeBody(later.Gzipped(), classifier, Limits(), "after");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->stacks[0].category == Category::kWaitGroup);
  REQUIRE(b->stacks[0].category == Category::kChanSend);
  SnapshotDiff d = DiffSnapshots(a.value(), b.value());
  REQUIRE(d.rows.size() == 1);
  CHECK(d.rows[0].stack.category == Category::kWaitGroup);
  CHECK(d.rows[0].stack.created_by == "main.startPool");
  const int wg = static_cast<int>(Category::kWaitGroup);
  CHECK(d.category_before[wg] == 4);
  CHECK(d.category_after[wg] == 9);
  CHECK(d.category_after[static_cast<int>(Category::kChanSend)] == 0);
  CHECK(test::HasNote(d.notes, "1 stacks take their category from the older capture"));
  // The other way round the debug=2 side is the newer one: its category stands.
  SnapshotDiff back = DiffSnapshots(b.value(), a.value());
  CHECK(back.rows[0].stack.category == Category::kWaitGroup);
}

TEST_CASE("diff notes: cut captures, mixed profile kinds, captures given newest first") {
  Classifier classifier;
  const std::string dump =
      "goroutine 1 [chan send]:\nmain.push()\n\tm.go:1 +0x1\n\n"
      "goroutine 2 [chan send]:\nmain.push()\n\tm.go:1 +0x1\n\n"
      "goroutine 3 [chan send]:\nmain.push()\n\tm.go";  // cut in the middle of a frame
  auto full = AnalyzeBody(dump.substr(0, dump.rfind("goroutine 3")), classifier, Limits(), "a");
  auto cut = AnalyzeBody(dump, classifier, Limits(), "b");
  REQUIRE(full.ok());
  REQUIRE(cut.ok());
  REQUIRE(cut->info.truncated);
  SnapshotDiff d = DiffSnapshots(full.value(), cut.value());
  CHECK_FALSE(d.before_truncated);
  CHECK(d.after_truncated);
  auto has = [](const SnapshotDiff& diff, std::string_view text) {
    return test::HasNote(diff.notes, text);
  };
  CHECK(has(d, "after: the capture is truncated"));

  Snapshot older = full.value(), newer = full.value();
  older.captured_unix_ms = 1'000'000;
  newer.captured_unix_ms = 1'600'000;
  CHECK(has(DiffSnapshots(newer, older), "newer capture was given first (600 s apart)"));
  CHECK_FALSE(has(DiffSnapshots(older, newer), "given first"));
  Snapshot leak = newer;
  leak.info.kind = ProfileKind::kGoroutineLeak;
  CHECK(has(DiffSnapshots(older, leak), "comparing a goroutine profile with a goroutineleak"));
}

TEST_CASE("diff notes captures that share few stacks: two programs, not growth") {
  Classifier classifier;
  // Four application stacks per program, and the runtime's own goroutines, which every Go
  // program has and which therefore do not count as shared.
  auto program = [&](const std::string& package, int64_t n) {
    test::ProtoBuilder b;
    for (const char* f : {"serve", "poll", "flush", "drain"}) {
      const std::string fn = package + "." + f;
      b.Sample(n, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {fn.c_str()}});
    }
    b.Sample(1, {{"runtime.gopark"}, {"runtime.forcegchelper"}});
    b.Sample(1, {{"runtime.gopark"}, {"runtime.bgsweep"}});
    return test::Analyzed(b.Gzipped(), classifier);
  };
  const Snapshot orders = program("main", 2), billing = program("billing", 3);
  const char* kNote = "the captures share 0 of their 4 and 4 stacks";
  CHECK(test::HasNote(DiffSnapshots(orders, billing).notes, kNote));
  CHECK(test::HasNote(DiffSnapshots(billing, orders).notes, kNote));
  // One program whose leak grew: the older stacks are all still there.
  test::ProtoBuilder leaking;
  for (const char* f : {"serve", "poll", "flush", "drain"}) {
    const std::string fn = std::string("main.") + f;
    leaking.Sample(std::string(f) == "poll" ? 900 : 2,
                   {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {fn.c_str()}});
  }
  leaking.Sample(5, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.newLeak"}});
  CHECK_FALSE(test::HasNote(DiffSnapshots(orders, test::Analyzed(leaking.Gzipped(), classifier)).notes,
                            "the captures share"));
  // Real captures of one program under Go 1.22 and Go 1.26, in two formats: it still holds.
  const auto dir = test::SourceDir() / "tests/fixtures/captures";
  const Snapshot go122 = test::Analyzed(test::ReadFile(dir / "go1.22/t1.goroutine.debug0.pb.gz"));
  const Snapshot go126 = test::Analyzed(test::ReadFile(dir / "go1.26/t2.goroutine.debug2.txt"));
  REQUIRE(go122.stacks.size() > 10);
  CHECK_FALSE(test::HasNote(DiffSnapshots(go122, go126).notes, "the captures share"));
  // And against a program it has nothing in common with.
  CHECK(test::HasNote(DiffSnapshots(go122, billing).notes, "the captures share 0 of their"));
  // A busy service gone quiet: most of the older stacks are gone, but what is left was there
  // before, so the captures are of one program.
  test::ProtoBuilder quiet;
  for (const char* f : {"serve", "poll", "flush", "drain"}) {
    const std::string fn = std::string("main.") + f;
    quiet.Sample(1, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {fn.c_str()}});
  }
  test::ProtoBuilder busy = quiet;
  for (int i = 0; i < 20; ++i) {
    const std::string fn = "main.request" + std::to_string(i);
    busy.Sample(3, {{"runtime.gopark"}, {"runtime.selectgo"}, {fn.c_str()}});
  }
  CHECK_FALSE(test::HasNote(DiffSnapshots(test::Analyzed(busy.Gzipped(), classifier),
                                          test::Analyzed(quiet.Gzipped(), classifier))
                                .notes,
                            "the captures share"));
}

}  // namespace gx
