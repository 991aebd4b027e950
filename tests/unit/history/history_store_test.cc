#include "history/history_store.h"

#include <doctest/doctest.h>

#include "aggregate/aggregator.h"
#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {
namespace {

// A successful probe result of `target` holding the profile b describes.
std::shared_ptr<const ProbeResult> ResultOf(const test::ProtoBuilder& b, int64_t time_ms,
                                            const std::string& target) {
  Classifier c;
  auto s = AnalyzeBody(b.Gzipped(), c, Limits(), "t");
  REQUIRE(s.ok());
  s.value().captured_unix_ms = time_ms;
  auto r = std::make_shared<ProbeResult>();
  r->target = target;
  r->module = "default";
  r->time_ms = time_ms;
  r->success = true;
  r->snapshot = std::make_shared<const Snapshot>(std::move(s.value()));
  return r;
}

std::shared_ptr<const ProbeResult> Probe(int64_t time_ms, int queue) {
  test::ProtoBuilder b;
  b.Sample(queue, {{"runtime.gopark"}, {"runtime.chansend"}, {"runtime.chansend1"}, {"main.enqueue"}});
  b.Sample(3, {{"runtime.gopark"}, {"time.Sleep"}, {"main.tick"}});
  return ResultOf(b, time_ms, "127.0.0.1:1");
}

// A probe whose stacks are main.s<first> .. main.s<first+n-1>, stack i with i+1 goroutines.
std::shared_ptr<const ProbeResult> ProbeOfStacks(int64_t time_ms, int first, int n) {
  test::ProtoBuilder b;
  for (int i = first; i < first + n; ++i) {
    b.Sample(i + 1, {{"runtime.gopark"}, {"time.Sleep"}, {"main.s" + std::to_string(i)}});
  }
  return ResultOf(b, time_ms, "127.0.0.1:2");
}

}  // namespace

TEST_CASE("history keeps details of vanished stacks and renumbers stacks as they churn") {
  HistoryLimits limits;
  limits.max_points = 5;
  limits.max_age = std::chrono::milliseconds(4500);  // the last five points, not thinned ones
  HistoryStore store(limits);
  const int64_t t0 = 1'700'000'000'000;
  // Every probe shifts the window of 40 stacks by 30: after a few probes stack numbers pass
  // the compaction threshold (256) and are renumbered, while old points still decode.
  for (int k = 0; k < 20; ++k) store.Record(ProbeOfStacks(t0 + k * 1000, 30 * k, 40));
  CHECK(store.total_points() == 5);
  // The oldest point kept is k=15 (stacks 450..489), the newest k=19 (570..609).
  auto diff = store.Diff("127.0.0.1:2", "default", t0 + 15'000, 0);
  REQUIRE(diff.ok());
  int64_t before = 0, after = 0;
  std::size_t gone_with_details = 0;
  for (const DiffRow& row : diff->rows) {
    before += row.before;
    after += row.after;
    if (row.after == 0 && !row.stack.function().empty()) ++gone_with_details;
  }
  int64_t expected_before = 0, expected_after = 0;
  for (int i = 450; i < 490; ++i) expected_before += i + 1;
  for (int i = 570; i < 610; ++i) expected_after += i + 1;
  CHECK(before == expected_before);
  CHECK(after == expected_after);
  CHECK(diff->rows.size() == 80);  // nothing in common between the two points
  CHECK(gone_with_details == 40);  // vanished stacks still name their function
  const DiffRow& top = diff->rows.front();
  CHECK(top.stack.function() == "main.s609");
  CHECK(top.delta() == 610);
}

TEST_CASE("history diff compares points by time and keeps stack details") {
  HistoryStore store{HistoryLimits()};
  const int64_t t0 = 1'700'000'000'000;
  store.Record(Probe(t0, 5));
  store.Record(Probe(t0 + 600'000, 20));
  store.Record(Probe(t0 + 1'200'000, 80));
  auto diff = store.Diff("127.0.0.1:1", "default", t0 + 1, 0);  // from the first point
  REQUIRE(diff.ok());
  REQUIRE(!diff->rows.empty());
  CHECK(diff->rows[0].stack.function() == "main.enqueue");
  CHECK(diff->rows[0].delta() == 75);
  CHECK(diff->rows[0].stack.category == Category::kChanSend);
  CHECK(diff->interval_seconds == doctest::Approx(1200));
  auto recent = store.Diff("127.0.0.1:1", "default", t0 + 700'000, 0);
  REQUIRE(recent.ok());
  CHECK(recent->rows[0].delta() == 60);
  CHECK_FALSE(store.Diff("nope", "default", 0, 0).ok());
}

TEST_CASE("history diff says when it starts later than asked or the last probe failed") {
  HistoryStore store{HistoryLimits()};
  const int64_t t0 = 1'700'000'000'000;
  store.Record(Probe(t0, 5));
  store.Record(Probe(t0 + 60'000, 20));
  auto fresh = store.Diff("127.0.0.1:1", "default", t0, 0);
  REQUIRE(fresh.ok());
  CHECK_FALSE(test::HasNote(fresh->notes, "the history of this target starts"));
  CHECK_FALSE(test::HasNote(fresh->notes, "the last probe failed"));
  auto early = store.Diff("127.0.0.1:1", "default", t0 - 3'600'000, 0);
  REQUIRE(early.ok());
  CHECK(test::HasNote(early->notes, "the history of this target starts 3600 s after the time asked for"));
  // The target dies: the diff still compares the last good points, and says so.
  auto failed = std::make_shared<ProbeResult>();
  failed->target = "127.0.0.1:1";
  failed->module = "default";
  failed->time_ms = t0 + 90'000;
  failed->error = "cannot connect to 127.0.0.1:1";
  store.Record(failed);
  auto stale = store.Diff("127.0.0.1:1", "default", t0, 0);
  REQUIRE(stale.ok());
  CHECK(stale->rows[0].delta() == 15);
  CHECK(test::HasNote(stale->notes, "the last probe failed (cannot connect to 127.0.0.1:1): 'now' is "
                                "the last successful probe, 30 s before it"));
  auto view = store.Target("127.0.0.1:1", "default");
  REQUIRE(view.has_value());
  CHECK_FALSE(view->latest->success);
  REQUIRE(view->last_good);
  CHECK(view->last_good->time_ms == t0 + 60'000);
  CHECK(store.ModulesOf("127.0.0.1:1") == std::vector<std::string>{"default"});
  CHECK(store.ModulesOf("127.0.0.1:9").empty());
}

TEST_CASE("history past max_points thins older points to span max_age") {
  HistoryLimits limits;
  limits.max_points = 60;  // the default
  limits.max_age = std::chrono::hours(2);
  HistoryStore store(limits);
  const int64_t t0 = 1'700'000'000'000;
  // Three hours of probes every 15 s: 720 points offered, 60 kept.
  const int64_t step = 15'000;
  const int probes = 720;
  for (int i = 0; i < probes; ++i) store.Record(Probe(t0 + i * step, i + 1));
  CHECK(store.total_points() == 60);
  const int64_t now = t0 + (probes - 1) * step;
  auto view = store.Target("127.0.0.1:1", "default");
  REQUIRE(view.has_value());
  CHECK(view->points == 60);
  // The oldest point kept is near max_age, not 60 probes (15 minutes) back...
  CHECK(now - view->oldest_point_ms > 90 * 60'000);
  CHECK(now - view->oldest_point_ms <= 2 * 3'600'000);
  // ...and the diffs the runbook asks for start at the last point at or before the time
  // asked for, a little further back at most.
  for (int64_t ago : {15 * 60'000, 60 * 60'000}) {
    auto diff = store.Diff("127.0.0.1:1", "default", now - ago, 0);
    REQUIRE(diff.ok());
    CHECK(diff->interval_seconds * 1000 >= ago);
    CHECK(diff->interval_seconds * 1000 <= ago * 1.2);
  }
  // The newest points stay dense: the last probe against the one before.
  auto last = store.Diff("127.0.0.1:1", "default", now - step, 0);
  REQUIRE(last.ok());
  CHECK(last->interval_seconds == doctest::Approx(15));
}

TEST_CASE("a full catalog of vanished stacks keeps those that vanished last") {
  HistoryLimits limits;
  limits.max_points = 10;
  limits.max_age = std::chrono::hours(2);
  limits.max_catalog_stacks = 40;
  HistoryStore store(limits);
  const int64_t t0 = 1'700'000'000'000;
  // Every minute the 10 stacks of the last probe vanish and 10 new ones come: thinned points
  // keep old stacks counted, so the catalog fills long before they age out.
  const int probes = 60;
  for (int k = 0; k < probes; ++k) store.Record(ProbeOfStacks(t0 + k * 60'000, 10 * k, 10));
  const int64_t now = t0 + (probes - 1) * 60'000;
  // The stacks that vanished at the last probe still name their function in a short diff.
  auto diff = store.Diff("127.0.0.1:2", "default", now - 60'000, 0);
  REQUIRE(diff.ok());
  std::size_t gone = 0, gone_with_details = 0;
  for (const DiffRow& row : diff->rows) {
    if (row.after != 0) continue;
    ++gone;
    if (!row.stack.function().empty()) ++gone_with_details;
  }
  CHECK(gone == 10);
  CHECK(gone_with_details == 10);
}

TEST_CASE("lowering max_snapshots thins a long history in one pass") {
  HistoryLimits limits;
  limits.max_points = 2000;
  HistoryStore store(limits);
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 2000; ++i) store.Record(Probe(t0 + i * 3'000, i + 1));
  CHECK(store.total_points() == 2000);
  limits.max_points = 30;
  store.SetLimits(limits);
  const int64_t now = t0 + 2000 * 3'000;
  store.Record(Probe(now, 1));
  CHECK(store.total_points() == 30);
  auto view = store.Target("127.0.0.1:1", "default");
  REQUIRE(view.has_value());
  CHECK(view->oldest_point_ms == t0);  // the oldest point is kept
  auto last = store.Diff("127.0.0.1:1", "default", now - 1, 0);
  REQUIRE(last.ok());
  CHECK(last->interval_seconds <= 30);  // the newest stay dense
  // and the rest are spread between: a diff over the last hour starts within 20 minutes of it.
  auto hour = store.Diff("127.0.0.1:1", "default", now - 3'600'000, 0);
  REQUIRE(hour.ok());
  CHECK(hour->interval_seconds >= 3600);
  CHECK(hour->interval_seconds <= 4800);
}

TEST_CASE("growth is ranked against the point ten minutes back, the oldest until then") {
  HistoryStore store{HistoryLimits()};
  const int64_t t0 = 1'700'000'000'000, min = 60'000;
  CHECK_FALSE(store.GrowthBase("127.0.0.1:1", "default", t0));
  // One goroutine more every minute in main.enqueue: a slow leak, flat between two scrapes.
  for (int64_t m = 0; m <= 30; ++m) {
    for (int64_t s = 0; s < 60'000; s += 15'000) store.Record(Probe(t0 + m * min + s, 10 + m));
  }
  const StackSummary* enqueue = nullptr;
  auto view = store.Target("127.0.0.1:1", "default");
  REQUIRE(view.has_value());
  for (const StackSummary& st : view->latest->snapshot->stacks) {
    if (st.function() == "main.enqueue") enqueue = &st;
  }
  REQUIRE(enqueue);
  CHECK(enqueue->count == 40);
  const int64_t now = t0 + 30 * min + 45'000;
  auto base = store.GrowthBase("127.0.0.1:1", "default", now);
  REQUIRE(base);
  // The latest point at least ten minutes old: minute 20 (or a thinned neighbour before it).
  const int64_t then = base->Find(enqueue->id);
  CHECK(then <= 30);
  CHECK(then >= 28);
  // During the first ten minutes, the oldest point: the first probe.
  HistoryStore fresh{HistoryLimits()};
  fresh.Record(Probe(t0, 5));
  fresh.Record(Probe(t0 + 15'000, 6));
  auto first = fresh.GrowthBase("127.0.0.1:1", "default", t0 + 15'000);
  REQUIRE(first);
  CHECK(first->Find(enqueue->id) == 5);
}

TEST_CASE("history is bounded in points, age and targets") {
  HistoryLimits limits;
  limits.max_points = 3;
  limits.max_age = std::chrono::minutes(30);
  limits.max_targets = 2;
  HistoryStore store(limits);
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 10; ++i) store.Record(Probe(t0 + i * 60'000, i + 1));
  CHECK(store.total_points() == 3);
  store.Record(Probe(t0 + 3'600'000, 1));  // an hour later: older points age out
  CHECK(store.total_points() == 1);
  for (const char* t : {"a:1", "b:1", "c:1"}) {
    auto r = std::make_shared<ProbeResult>(*Probe(t0 + 3'700'000, 1));
    r->target = t;
    store.Record(r);
  }
  CHECK(store.Targets().size() == 2);
}

}  // namespace gx
