#include "decode/debug1_parser.h"

#include <doctest/doctest.h>

#include "../test_util.h"

namespace gx {

TEST_CASE("debug=1 records with tab runs, labels and address-only frames") {
  const std::string text =
      "goroutine profile: total 9\n"
      "6 @ 0x48c30a 0x419bce 0x4196f2 0x6bdfdc 0x493241\n"
      "# labels: {\"job\":\"nightly \\\"batch\\\" 1\", \"a\":\"b\"}\n"
      "#\t0x6bdfdb\tmain.leakLabeled.func1.1+0x1b\t\t\tleaky/main.go:205\n"
      "#\t0x6bab6f\tgolang.org/x/sync/errgroup.(*Group).Go.func1+0x4f\tx/errgroup.go:75\n"
      "\n"
      "3 @ 0x1 0x2\n"
      "#\t0x1234\n"
      "\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{11}, text.size()}) {
    test::CollectingSink sink;
    DecodeInfo info;
    Debug1Parser parser(&sink, &info, Limits());
    for (std::size_t i = 0; i < text.size(); i += chunk) parser.Feed(std::string_view(text).substr(i, chunk));
    parser.Finish();
    REQUIRE(sink.records.size() == 2);
    CHECK(info.stated_total == 9);
    CHECK(info.unknown_lines == 0);
    CHECK(info.warnings.empty());
    const RawRecord& r = sink.records[0];
    CHECK(r.count == 6);
    REQUIRE(r.frames.size() == 2);
    CHECK(r.frames[0].function == "main.leakLabeled.func1.1");
    CHECK(r.frames[0].file == "leaky/main.go");
    CHECK(r.frames[0].line == 205);
    CHECK(r.labels == LabelSet{{"a", "b"}, {"job", "nightly \"batch\" 1"}});
    CHECK(sink.records[1].frames[0].function == "?");
  }
}

TEST_CASE("debug=1 goroutineleak header sets the kind and marks records leaked") {
  test::CollectingSink sink;
  DecodeInfo info;
  Debug1Parser parser(&sink, &info, Limits());
  parser.Feed("goroutineleak profile: total 2\n2 @ 0x1\n#\t0x1\tmain.f+0x1\tm.go:3\n\n");
  parser.Finish();
  CHECK(info.kind == ProfileKind::kGoroutineLeak);
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].leaked);
}

TEST_CASE("debug=1 counts that disagree with the header are reported") {
  test::CollectingSink sink;
  DecodeInfo info;
  Debug1Parser parser(&sink, &info, Limits());
  parser.Feed("goroutine profile: total 5\n2 @ 0x1\n#\t0x1\tmain.f+0x1\tm.go:3\n\nbogus\n");
  parser.Finish();
  CHECK(info.unknown_lines == 1);
  CHECK(info.warnings.size() >= 2);
}

}  // namespace gx
