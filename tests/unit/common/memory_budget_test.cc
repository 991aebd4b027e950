#include "common/memory_budget.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "aggregate/aggregator.h"
#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {

TEST_CASE("memory budget: a free allowance per capture, the rest shared, given back at the end") {
  MemoryBudget budget(1000);
  {
    MemoryCharge a(&budget, 100);
    CHECK(a.Add(100));  // the allowance: nothing taken
    CHECK(budget.in_use() == 0);
    CHECK(a.Add(600));
    CHECK(budget.in_use() == 600);
    MemoryCharge b(&budget, 100);
    CHECK(b.Add(500));  // 400 beyond its allowance fit
    CHECK(budget.in_use() == 1000);
    CHECK_FALSE(b.Add(1));  // full: refused, nothing recorded
    CHECK(b.charged() == 500);
    CHECK(budget.refusals() == 1);
    CHECK(b.RefusalReason().find("--probe.memory-budget") != std::string::npos);
  }
  CHECK(budget.in_use() == 0);  // both captures ended
  MemoryCharge huge(&budget, 0);
  CHECK_FALSE(huge.Add(SIZE_MAX));  // no overflow on absurd sizes
  MemoryCharge unbounded;           // no budget (the CLI): only counts
  CHECK(unbounded.Add(SIZE_MAX / 2));
}

TEST_CASE("memory budget: captures on many threads never take more than the limit together") {
  MemoryBudget budget(64 * 1024);
  std::vector<std::thread> threads;
  std::atomic<bool> over{false};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        MemoryCharge charge(&budget, 1024);
        for (int i = 0; i < 20 && charge.Add(1024); ++i) {
          if (budget.in_use() > budget.limit()) over = true;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK_FALSE(over.load());
  CHECK(budget.in_use() == 0);
}

TEST_CASE("memory budget: a body past it fails with the reason, or keeps a partial result") {
  // 300 distinct stacks of 40 frames with long names: about 1.5 MB of protobuf.
  test::ProtoBuilder b;
  for (int s = 0; s < 300; ++s) {
    std::vector<test::ProtoBuilder::F> frames = {{"runtime.gopark"}, {"runtime.selectgo"}};
    for (int f = 0; f < 40; ++f) {
      frames.push_back({"main.step" + std::to_string(s) + "_" + std::to_string(f) +
                        std::string(100, 'x')});
    }
    b.Sample(2, frames);
  }
  const std::string body = b.Gzipped();
  Classifier classifier;
  {
    // The protobuf buffer itself does not fit: an error that says why.
    MemoryBudget budget(0);
    MemoryCharge charge(&budget, 64 * 1024);
    auto snap = AnalyzeBody(body, classifier, Limits(), "big", nullptr, &charge);
    REQUIRE_FALSE(snap.ok());
    CHECK(snap.status().message().find("memory budget") != std::string::npos);
  }
  {
    // Room for the buffer and tables but not for every stack and its frames: a partial result,
    // flagged. (The buffer and tables are given back once decoded, before the frames are.)
    MemoryCharge measure;
    REQUIRE(AnalyzeBody(body, classifier, Limits(), "big", nullptr, &measure).ok());
    CHECK(measure.charged() < measure.peak());
    MemoryBudget budget(measure.peak() * 3 / 4);
    MemoryCharge charge(&budget, 0);
    auto snap = AnalyzeBody(body, classifier, Limits(), "big", nullptr, &charge);
    REQUIRE(snap.ok());
    CHECK(snap->total == 600);
    std::size_t cut = 0;
    for (const StackSummary& s : snap->stacks) cut += s.frames_elided;
    CHECK(snap->overflow_goroutines + static_cast<int64_t>(cut) > 0);
    CHECK(test::HasNote(snap->notes, "stacks keep only their first application frame: the "
                                     "exporter's memory budget"));
    CHECK(budget.refusals() == 1);  // one capture, however many refusals within it
    CHECK(charge.peak() <= budget.limit());
  }
  CHECK(AnalyzeBody(body, classifier, Limits(), "big").value().stacks.size() == 300);
}

}  // namespace gx
