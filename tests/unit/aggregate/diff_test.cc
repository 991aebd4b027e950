#include "aggregate/diff.h"

#include <doctest/doctest.h>

#include "aggregate/aggregator.h"
#include "../proto_builder.h"

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
}

}  // namespace gx
