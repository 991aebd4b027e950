#include "aggregate/aggregator.h"

#include <doctest/doctest.h>

#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {

TEST_CASE("aggregation: per stack, per category, labels, self sample excluded") {
  test::ProtoBuilder b;
  b.Sample(1, {{"runtime.goroutineProfileWithLabels"}, {"runtime/pprof.writeRuntimeProfile"}});
  b.Sample(4, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {"main.f"}},
           {{"route", "/a"}});
  b.Sample(2, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {"main.f"}},
           {{"route", "/b"}});
  b.Sample(3, {{"runtime.gopark"}, {"time.Sleep"}, {"main.g"}});
  Classifier classifier;
  auto snap = AnalyzeBody(b.Gzipped(), classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  CHECK(snap->total == 10);
  CHECK(snap->self_excluded == 1);
  REQUIRE(snap->stacks.size() == 2);
  const StackSummary& top = snap->stacks[0];
  CHECK(top.count == 6);
  CHECK(top.category == Category::kChanReceive);
  CHECK(top.function() == "main.f");
  REQUIRE(top.labels.size() == 2);
  CHECK(top.labels[0].count == 4);
  CHECK(top.labels[0].labels == LabelSet{{"route", "/a"}});
  CHECK(snap->by_category[static_cast<int>(Category::kChanReceive)] == 6);
  CHECK(snap->by_category[static_cast<int>(Category::kTimer)] == 3);
}

TEST_CASE("generic stacks have one id and one name in debug=0 and debug=2") {
  // debug=0 names the instantiations' shapes, debug=2 prints "[...]"; two instantiations of
  // one generic worker are one stack in both.
  test::ProtoBuilder b;
  b.Sample(3, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv2"},
               {"main.(*Pool[go.shape.string]).worker"}});
  b.Sample(2, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv2"},
               {"main.(*Pool[go.shape.int]).worker"}});
  const Snapshot debug0 = test::Analyzed(b.Gzipped());
  const Snapshot debug2 = test::Analyzed(
      "goroutine 7 [chan receive]:\nmain.(*Pool[...]).worker(0xc000010000)\n\tx.go:1 +0x1\n"
      "created by main.NewPool[...] in goroutine 1\n\tx.go:9 +0x2\n\n");
  REQUIRE(debug0.stacks.size() == 1);
  REQUIRE(debug2.stacks.size() == 1);
  CHECK(debug0.stacks[0].count == 5);
  CHECK(debug0.stacks[0].id == debug2.stacks[0].id);
  CHECK(debug0.stacks[0].function() == "main.(*Pool[...]).worker");
  CHECK(debug0.stacks[0].category == Category::kChanReceive);
  CHECK(debug2.stacks[0].category == Category::kChanReceive);
}

TEST_CASE("debug=2 goroutines group by stack with wait ages and creators") {
  std::string dump;
  for (int i = 0; i < 50; ++i) {
    dump += "goroutine " + std::to_string(10 + i) + " [chan send, " + std::to_string(i % 5 + 1) +
            " minutes]:\nmain.producer()\n\tm.go:9 +0x1\ncreated by main.start in goroutine 1\n"
            "\tm.go:3 +0x2\n\n";
  }
  dump += "goroutine 99 [chan send (leaked)]:\nmain.producer()\n\tm.go:9 +0x1\n\n";
  Classifier classifier;
  auto snap = AnalyzeBody(dump, classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 1);
  const StackSummary& s = snap->stacks[0];
  CHECK(s.count == 51);
  CHECK(s.leaked == 1);
  CHECK(s.created_by == "main.start");
  CHECK(s.state == "chan send");
  CHECK(s.wait.max_minutes == 5);
  CHECK(s.wait.with_minutes == 50);
  // "N minutes" is a wait of N to N+1 minutes: none of 1 to 5 minutes is within 1 minute,
  // the 40 of 1 to 4 minutes are within 5 minutes, and all 50 within 15.
  CHECK(s.wait.le_bucket[0] == 0);
  CHECK(s.wait.le_bucket[1] == 40);
  CHECK(s.wait.le_bucket[2] == 50);
}

namespace {

// Appends n debug=2 goroutines of a pipeline stage, main.stage, blocked sending at
// pool.go:50 or receiving at pool.go:60, started by `creator`.
void AddStage(std::string* dump, int n, bool send, const char* creator) {
  for (int i = 0; i < n; ++i) {
    *dump += "goroutine " + std::to_string(dump->size()) +
             (send ? " [chan send]:\n" : " [chan receive]:\n") + "main.stage(...)\n\tpool.go:" +
             (send ? "50" : "60") + " +0x1\ncreated by " + creator +
             " in goroutine 1\n\tpool.go:3 +0x2\n\n";
  }
}

}  // namespace

TEST_CASE("one function blocked at two lines is one stack that counts both categories") {
  // A pipeline stage: 20 goroutines receiving at line 60, seen first, and 30 sending at 50.
  std::string dump;
  AddStage(&dump, 20, false, "main.start");
  AddStage(&dump, 30, true, "main.start");
  Classifier classifier;
  auto snap = AnalyzeBody(dump, classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 1);
  const StackSummary& s = snap->stacks[0];
  CHECK(s.count == 50);
  // The largest group decides the category, and its frames give the location.
  CHECK(s.category == Category::kChanSend);
  CHECK(s.location() == "pool.go:50");
  REQUIRE(s.other_categories.size() == 1);
  CHECK(s.other_categories[0] == std::pair<Category, int64_t>{Category::kChanReceive, 20});
  // The category counts take each goroutine's own.
  CHECK(snap->by_category[static_cast<int>(Category::kChanSend)] == 30);
  CHECK(snap->by_category[static_cast<int>(Category::kChanReceive)] == 20);
}

TEST_CASE("the category with the most goroutines decides, not the largest bucket") {
  // 30 senders from one creator; 40 receivers from two creators (two buckets of 20).
  std::string dump;
  AddStage(&dump, 30, true, "main.start");
  AddStage(&dump, 20, false, "main.startA");
  AddStage(&dump, 20, false, "main.startB");
  Classifier classifier;
  auto snap = AnalyzeBody(dump, classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 1);
  const StackSummary& s = snap->stacks[0];
  CHECK(s.category == Category::kChanReceive);
  CHECK(s.location() == "pool.go:60");
  REQUIRE(s.other_categories.size() == 1);
  CHECK(s.other_categories[0] == std::pair<Category, int64_t>{Category::kChanSend, 30});
}

TEST_CASE("a stack started from several places names every creator, most goroutines first") {
  std::string dump;
  auto add = [&dump](int n, const std::string& creator) {
    for (int i = 0; i < n; ++i) {
      dump += "goroutine " + std::to_string(dump.size()) + " [chan send]:\nmain.worker()\n"
              "\tm.go:9 +0x1\ncreated by " + creator + " in goroutine 1\n\tm.go:3 +0x2\n\n";
    }
  };
  add(3, "main.handler");
  add(20, "main.main.func1");
  add(3, "main.admin");
  Classifier classifier;
  auto snap = AnalyzeBody(dump, classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 1);
  const StackSummary& s = snap->stacks[0];
  CHECK(s.created_by == "main.main.func1");
  REQUIRE(s.other_creators.size() == 2);
  CHECK(s.other_creators[0].name == "main.admin");  // ties by name
  CHECK(s.other_creators[0].count == 3);
  CHECK(s.other_creators[1].name == "main.handler");
}

TEST_CASE("the bucket cap bounds memory and the overflow is reported") {
  std::string dump;
  for (int i = 0; i < 100; ++i) {
    dump += "goroutine " + std::to_string(i + 1) + " [select]:\nmain.f" + std::to_string(i) +
            "()\n\tm.go:1 +0x1\n\n";
  }
  Limits limits;
  limits.max_buckets = 10;
  Classifier classifier;
  auto snap = AnalyzeBody(dump, classifier, limits, "mem");
  REQUIRE(snap.ok());
  CHECK(snap->stacks.size() == 10);
  CHECK(snap->overflow_goroutines == 90);
  CHECK(snap->total == 100);
  CHECK_FALSE(snap->notes.empty());
  // The frames of all buckets are capped too (deep stacks: few buckets, many frames).
  std::string deep;
  for (int i = 0; i < 10; ++i) {
    deep += "goroutine " + std::to_string(i + 1) + " [select]:\n";
    for (int f = 0; f < 4; ++f) {
      deep += "main.g" + std::to_string(i) + "_" + std::to_string(f) + "()\n\tm.go:1 +0x1\n";
    }
    deep += "\n";
  }
  Limits frames;
  frames.max_bucket_frames = 10;  // two stacks of 4 frames fit, the third does not
  auto capped = AnalyzeBody(deep, classifier, frames, "mem");
  REQUIRE(capped.ok());
  CHECK(capped->stacks.size() == 2);
  CHECK(capped->overflow_goroutines == 8);
  CHECK(test::HasNote(capped->notes, "8 goroutines beyond the caps of"));
}

TEST_CASE("past the label-text budget, goroutines count under their stack without labels") {
  // One stack, a distinct request id on every goroutine (pprof labels set per request).
  test::ProtoBuilder b;
  const std::vector<test::ProtoBuilder::F> frames = {
      {"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {"main.handle"}};
  for (int i = 0; i < 10; ++i) {
    b.Sample(3, frames, {{"request", "id-" + std::string(40, 'x') + std::to_string(i)}});
  }
  b.Sample(5, frames, {{"request", "id-" + std::string(40, 'x') + "0"}});  // a held set again
  Limits limits;
  // Room for four of the label sets (each: key, value and a pair's own size).
  limits.max_label_text_bytes = 4 * (7 + 44 + sizeof(std::pair<std::string, std::string>));
  auto snap = AnalyzeBody(b.Gzipped(), Classifier(), limits, "labels");
  REQUIRE(snap.ok());
  CHECK(snap->total == 35);
  CHECK(snap->overflow_goroutines == 0);
  REQUIRE(snap->stacks.size() == 1);
  const StackSummary& s = snap->stacks[0];
  CHECK(s.count == 35);
  CHECK(s.category == Category::kChanReceive);
  // Four label sets held (the first one with its later goroutines too), the rest unlabeled.
  REQUIRE(s.labels.size() == 5);
  CHECK(s.labels[0].labels.empty());
  CHECK(s.labels[0].count == 18);
  CHECK(s.labels[1].count == 8);
  CHECK(test::HasNote(snap->notes, "18 goroutines are counted without their labels"));
  // Within the default budget every set is kept.
  auto roomy = AnalyzeBody(b.Gzipped(), Classifier(), Limits(), "labels");
  REQUIRE(roomy.ok());
  CHECK(roomy->stacks[0].labels.size() == 10);
  CHECK_FALSE(test::HasNote(roomy->notes, "without their labels"));
}

TEST_CASE("a snapshot finds its stacks by id, indexed or not") {
  test::ProtoBuilder b;
  for (int i = 0; i < 50; ++i) b.Sample(i + 1, {{"runtime.gopark"}, {"main.f" + std::to_string(i)}});
  Classifier classifier;
  auto snap = AnalyzeBody(b.Gzipped(), classifier, Limits(), "mem");
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 50);
  for (const StackSummary& s : snap->stacks) {
    const StackSummary* found = snap->FindStack(s.id);
    REQUIRE(found != nullptr);
    CHECK(found == &s);
  }
  CHECK(snap->FindStack("") == nullptr);
  CHECK(snap->FindStack("0000000000000000") == nullptr);
  CHECK(snap->FindStack(snap->stacks[0].id + "0") == nullptr);

  // Hand-built summaries may carry ids that are no hash; equal ids: the first one wins.
  Snapshot hand;
  for (const char* id : {"custom", "0000000000000001", "other", "custom"}) {
    StackSummary& s = hand.stacks.emplace_back();
    s.id = id;
    s.count = static_cast<int64_t>(hand.stacks.size());
  }
  for (int indexed = 0; indexed < 2; ++indexed) {
    if (indexed) hand.IndexStacks();
    REQUIRE(hand.FindStack("custom") != nullptr);
    CHECK(hand.FindStack("custom")->count == 1);
    CHECK(hand.FindStack("other")->count == 3);
    CHECK(hand.FindStack("0000000000000001")->count == 2);
    CHECK(hand.FindStack("missing") == nullptr);
  }
}

}  // namespace gx

namespace gx {

TEST_CASE("aggregation: past the snapshot's frame-text budget, stacks keep one frame") {
  // Each stack: 3 frames, 14- to 16-byte names in the 4-byte file "x.go": 58 bytes of text.
  test::ProtoBuilder b;
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    b.Sample(10 - i, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.worker" + n + "loop"}});
  }
  Limits limits;
  limits.max_shape_text_bytes = 200;  // room for three stacks
  Classifier classifier;
  StackShapeCache shapes(100);
  auto snap = AnalyzeBody(b.Gzipped(), classifier, limits, "mem", &shapes);
  REQUIRE(snap.ok());
  REQUIRE(snap->stacks.size() == 6);
  // Most goroutines first: the first ones got their frames.
  CHECK(snap->stacks[0].frames().size() == 3);
  CHECK_FALSE(snap->stacks[0].frames_elided);
  const StackSummary& last = snap->stacks[5];
  CHECK(last.frames().empty());
  CHECK(last.frames_elided);
  CHECK(last.function() == "main.worker5loop");
  CHECK(last.location() == "x.go:1");
  CHECK(last.category == Category::kSelect);
  CHECK(last.count == 5);
  CHECK(test::HasNote(snap->notes, "keep only their first application frame"));
  // Brief shapes are not cached: with room, the same profile gets every frame.
  auto full = AnalyzeBody(b.Gzipped(), classifier, Limits(), "mem", &shapes);
  REQUIRE(full.ok());
  CHECK(full->stacks[5].frames().size() == 3);

  // Once the budget cannot hold even that one frame's name, the name is cut short (its id
  // still comes from the whole name).
  test::ProtoBuilder long_names;
  for (int i = 0; i < 40; ++i) {
    long_names.Sample(50 - i, {{"runtime.gopark"}, {"runtime.selectgo"},
                               {"main.handler" + std::to_string(i) + std::string(900, 'q')}});
  }
  limits.max_shape_text_bytes = 8 * 1024;
  auto cut = AnalyzeBody(long_names.Gzipped(), classifier, limits, "mem");
  REQUIRE(cut.ok());
  REQUIRE(cut->stacks.size() == 40);
  const StackSummary& cut_last = cut->stacks[39];
  CHECK(cut_last.frames_elided);
  CHECK(cut_last.function().size() < 100);
  CHECK(cut_last.function().rfind("main.handler39qq", 0) == 0);
  auto whole = AnalyzeBody(long_names.Gzipped(), classifier, Limits(), "mem");
  REQUIRE(whole.ok());
  CHECK(whole->stacks[39].function().size() > 900);
  CHECK(cut_last.id == whole->stacks[39].id);
}

}  // namespace gx
