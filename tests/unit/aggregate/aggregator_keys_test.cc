// How the Aggregator groups records: the view and RawRecord entry points agree, decoders
// reuse a record the sink did not keep, and names holding newlines or control bytes group
// by their own bytes (and stacks by stable id).
#include <doctest/doctest.h>

#include "../test_util.h"
#include "aggregate/aggregator.h"
#include "decode/record_emitter.h"

namespace gx {
namespace {

RawRecord Record(std::vector<std::string> functions, std::string state = "", int64_t count = 1) {
  RawRecord r;
  r.count = count;
  r.frames = test::Frames({});
  for (const std::string& f : functions) {
    RawFrame frame;
    frame.function = f;
    frame.file = "m.go";
    frame.line = 7;
    r.frames.push_back(frame);
  }
  r.state = std::move(state);
  return r;
}

DecodeInfo Info() {
  DecodeInfo info;
  info.format = ProfileFormat::kDebug2;
  return info;
}

}  // namespace

TEST_CASE("aggregator: records group by functions, state, creator and labels") {
  Classifier c;
  Aggregator agg(&c, Limits());
  agg.OnRecord(Record({"main.a", "main.b"}, "select"));
  agg.OnRecord(Record({"main.a", "main.b"}, "select", 2));
  agg.OnRecord(Record({"main.a", "main.b"}, "chan receive"));
  agg.OnRecord(Record({"main.a"}, "select"));
  RawRecord labeled = Record({"main.a", "main.b"}, "select");
  labeled.labels = {{"k", "v"}};
  agg.OnRecord(std::move(labeled));
  Snapshot s = agg.Finalize(Info());
  REQUIRE(s.stacks.size() == 2);  // identity is the function names only
  CHECK(s.stacks[0].count == 5);
  CHECK(s.stacks[0].state == "select");  // 4 of 5 in the most frequent state
  REQUIRE(s.stacks[0].labels.size() == 2);
  CHECK(s.stacks[0].labels[0].count == 4);
  CHECK(s.stacks[0].frames().size() == 2);
  CHECK(s.stacks[0].frames()[1].file == "m.go");
}

TEST_CASE("aggregator: a name holding a newline is its own bucket, merged by stack id") {
  Classifier c;
  Aggregator agg(&c, Limits());
  // {"a\nb"} and {"a", "b"} are different records, so different buckets; the stable id is
  // the names each followed by '\n' (normalize/stack_identity.h), so they share a stack,
  // whose frames are those of its first bucket. A state with a control byte is just a state.
  agg.OnRecord(Record({"main.a", "main.b"}, "", 2));
  agg.OnRecord(Record({"main.a\nmain.b"}, "", 3));
  agg.OnRecord(Record({"main.a", "main.b"}, "", 4));
  agg.OnRecord(Record({"main.c"}, "x\x1e", 1));
  Snapshot s = agg.Finalize(Info());
  REQUIRE(s.stacks.size() == 2);
  CHECK(s.stacks[0].count == 9);
  CHECK(s.stacks[0].frames().size() == 2);  // the first bucket's: {"main.a", "main.b"}
  CHECK(s.stacks[1].state == "x\x1e");
}

TEST_CASE("record emitter: reuses the record a sink leaves, hands views to sinks that take them") {
  struct Keeper : RecordSink {
    void OnRecord(RawRecord&& r) override { kept.push_back(std::move(r)); }
    std::vector<RawRecord> kept;
  };
  struct Peeker : RecordSink {
    void OnRecord(RawRecord&& r) override { seen.push_back(r.frames.size() ? r.frames[0].function : ""); }
    std::vector<std::string> seen;
  };
  struct Viewer : RecordSink {
    void OnRecord(RawRecord&&) override { FAIL("views were offered"); }
    bool OnRecordView(const RecordView& v) override {
      frames += v.frames.size();
      return true;
    }
    std::size_t frames = 0;
  };
  FrameView f1{"main.a", "a.go", 1, 0, false, 0}, f2{"main.b", "b.go", 2, 0, true, 0};
  std::vector<FrameView> two = {f1, f2}, one = {f2};
  LabelSet labels = {{"k", "v"}};
  RecordView big;
  big.frames = two;
  big.labels = &labels;
  big.state = "select";
  RecordView small;
  small.frames = one;

  Keeper keeper;
  RecordEmitter to_keeper(&keeper);
  to_keeper.Emit(big);
  to_keeper.Emit(small);
  REQUIRE(keeper.kept.size() == 2);
  CHECK(keeper.kept[0].frames.size() == 2);
  CHECK(keeper.kept[0].labels == labels);
  CHECK(keeper.kept[0].state == "select");
  CHECK(keeper.kept[1].frames.size() == 1);
  CHECK(keeper.kept[1].frames[0].inlined);
  CHECK(keeper.kept[1].labels.empty());
  CHECK(keeper.kept[1].state.empty());

  Peeker peeker;
  RecordEmitter to_peeker(&peeker);
  for (const RecordView* v : {&big, &small, &big}) to_peeker.Emit(*v);
  CHECK(peeker.seen == std::vector<std::string>{"main.a", "main.b", "main.a"});

  Viewer viewer;
  RecordEmitter to_viewer(&viewer);
  to_viewer.Emit(big);
  CHECK(viewer.frames == 2);
}

}  // namespace gx
