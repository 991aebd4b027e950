#include "expose/probe_metrics.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "aggregate/aggregator.h"
#include "common/utf8.h"
#include "decode/profile_decoder.h"
#include "normalize/stack_identity.h"
#include "report/json_report.h"
#include "report/text_report.h"
#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {
namespace {

std::shared_ptr<const Snapshot> Snap(const std::vector<std::pair<std::string, int>>& stacks,
                                     const std::map<std::string, std::string>& labels = {}) {
  test::ProtoBuilder b;
  for (const auto& [fn, n] : stacks) {
    b.Sample(n, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {fn}}, labels);
  }
  return std::make_shared<const Snapshot>(test::Analyzed(b.Gzipped()));
}

// A growth base with the counts of `snapshot`, as HistoryStore::GrowthBase gives one.
std::shared_ptr<const StackCounts> CountsOf(const Snapshot& snapshot) {
  std::vector<std::pair<uint64_t, int64_t>> counts;
  for (const StackSummary& s : snapshot.stacks) counts.emplace_back(IdToHash(s.id), s.count);
  std::sort(counts.begin(), counts.end());
  return std::make_shared<const StackCounts>(StackCounts::FromSorted(std::move(counts)));
}

ProbeResult MakeResult(std::shared_ptr<const Snapshot> now) {
  ProbeResult r;
  r.success = true;
  r.snapshot = std::move(now);
  FetchRecord f;
  f.profile = "goroutine";
  f.performed = true;
  r.fetches.push_back(f);
  return r;
}

std::map<std::string, double> StackSeries(const std::vector<prometheus::MetricFamily>& fams) {
  std::map<std::string, double> out;
  for (const auto& f : fams) {
    if (f.name != "goroutine_stack_goroutines") continue;
    for (const auto& m : f.metric) {
      std::string fn;
      bool other = false;
      for (const auto& l : m.label) {
        if (l.name == "function") fn = l.value;
        if (l.name == "stack_id" && l.value == "other") other = true;
      }
      if (other) fn = "other";
      out[fn] += m.gauge.value;
    }
  }
  return out;
}

// The values of family `family` summed by the value of its label `label` ("" when absent).
std::map<std::string, double> SumByLabel(const std::vector<prometheus::MetricFamily>& fams,
                                         const std::string& family, const std::string& label) {
  std::map<std::string, double> out;
  for (const auto& f : fams) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::string value;
      for (const auto& l : m.label) {
        if (l.name == label) value = l.value;
      }
      out[value] += m.gauge.value;
    }
  }
  return out;
}

bool HaveTool(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("top-K by count plus top-K by growth; the rest folded into other") {
  auto before = Snap({{"main.a", 50}, {"main.b", 40}, {"main.c", 1}, {"main.d", 1}});
  auto now = Snap({{"main.a", 50}, {"main.b", 40}, {"main.c", 9}, {"main.d", 2}, {"main.e", 1}});
  ExposeOptions o;
  o.top_k = 2;
  o.top_k_growth = 1;
  o.growth_base = CountsOf(*before);
  auto series = StackSeries(ProbeMetricFamilies(MakeResult(now), o));
  CHECK(series["main.a"] == 50);
  CHECK(series["main.b"] == 40);
  CHECK(series["main.c"] == 9);  // grew by 8: the growth pick
  CHECK(series.count("main.d") == 0);
  CHECK(series["other"] == 3);    // d and e folded
}

TEST_CASE("series of stacks that vanish are gone from the next scrape") {
  ExposeOptions o;
  auto first = StackSeries(ProbeMetricFamilies(MakeResult(Snap({{"main.a", 5}, {"main.b", 5}})), o));
  auto second = StackSeries(ProbeMetricFamilies(MakeResult(Snap({{"main.a", 5}})), o));
  CHECK(first.count("main.b") == 1);
  CHECK(second.count("main.b") == 0);
}

TEST_CASE("label keys split series and distinct values are capped") {
  test::ProtoBuilder b;
  for (int i = 0; i < 30; ++i) {
    b.Sample(1 + i, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.handle"}},
             {{"tenant", "t" + std::to_string(i)}, {"route", "/x"}});
  }
  auto s = std::make_shared<const Snapshot>(test::Analyzed(b.Gzipped()));
  ExposeOptions o;
  o.label_keys = {"tenant"};
  o.max_label_values = 5;
  auto fams = ProbeMetricFamilies(MakeResult(s), o);
  const auto tenants = SumByLabel(fams, "goroutine_stack_goroutines", "tenant");
  CHECK(tenants.size() == 7);  // 5 kept, "other", and "" on the stack_id=other series
  CHECK(tenants.count("other") == 1);
  CHECK(tenants.count("t29") == 1);  // the most frequent survive
}

TEST_CASE("goroutines without the label keep their own empty value beyond the cap") {
  test::ProtoBuilder b;
  // The unlabeled goroutines are the most frequent value, yet the cap keeps 2 real values.
  b.Sample(100, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.handle"}});
  for (int i = 0; i < 4; ++i) {
    b.Sample(10 + i, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.handle"}},
             {{"route", "/r" + std::to_string(i)}});
  }
  auto s = std::make_shared<const Snapshot>(test::Analyzed(b.Gzipped()));
  ExposeOptions o;
  o.label_keys = {"route"};
  o.max_label_values = 2;
  auto fams = ProbeMetricFamilies(MakeResult(s), o);
  auto by_route = SumByLabel(fams, "goroutine_category_goroutines", "route");
  CHECK(by_route[""] == 100);
  CHECK(by_route["/r3"] == 13);
  CHECK(by_route["/r2"] == 12);
  CHECK(by_route["other"] == 21);  // /r0 and /r1
  CHECK(by_route.size() == 4);
}

TEST_CASE("label sets past what a snapshot keeps hold the label keys: split series stay exact") {
  // A service that labels every request: 200 distinct sets over 4 routes.
  test::ProtoBuilder b;
  for (int i = 0; i < 200; ++i) {
    b.Sample(1 + i % 3, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.handle"}},
             {{"route", "/r" + std::to_string(i % 4)},
              {"request", "req-" + std::string(60, 'x') + std::to_string(i)}});
  }
  const std::string body = b.Gzipped();
  auto analyze = [&](std::size_t keep_bytes, std::vector<std::string> keys) {
    Limits limits;
    limits.max_snapshot_label_bytes = keep_bytes;
    Classifier classifier;
    Aggregator aggregator(&classifier, limits);
    aggregator.KeepLabelKeys(std::move(keys));
    auto info = DecodeProfile(body, &aggregator, limits);
    REQUIRE(info.ok());
    return std::make_shared<const Snapshot>(aggregator.Finalize(info.value()));
  };
  const auto whole = analyze(Limits().max_snapshot_label_bytes, {"route"});
  const auto trimmed = analyze(2048, {"route"});
  REQUIRE(whole->stacks.size() == 1);
  CHECK(whole->stacks[0].labels.size() == 200);
  // A few sets whole (most goroutines first), the rest merged by route.
  const auto& kept = trimmed->stacks[0].labels;
  CHECK(kept.size() < 30);
  CHECK(std::count_if(kept.begin(), kept.end(),
                      [](const LabelCount& l) { return l.labels.size() == 2; }) > 3);
  CHECK(std::count_if(kept.begin(), kept.end(),
                      [](const LabelCount& l) { return l.labels.size() == 1; }) == 4);
  CHECK(test::HasNote(trimmed->notes, "keep only the labels split into series (route)"));
  ExposeOptions o;
  o.label_keys = {"route"};
  const auto split = [&](const std::shared_ptr<const Snapshot>& snap) {
    return SumByLabel(ProbeMetricFamilies(MakeResult(snap), o), "goroutine_category_goroutines",
                      "route");
  };
  CHECK(split(trimmed) == split(whole));
  CHECK(split(whole).at("/r1") > 0);
  // Reports say which sets lost labels.
  TextReportOptions text_options;
  const std::string text = RenderSnapshotText(*trimmed, text_options);
  CAPTURE(text);
  CHECK(text.find("route=/r") != std::string::npos);
  CHECK(text.find(",… (") != std::string::npos);
  const auto json = SnapshotToJson(*trimmed, 10, false, true);
  int trimmed_sets = 0;
  for (const auto& l : json["stacks"][0]["labels"]) trimmed_sets += l.value("trimmed", false);
  CHECK(trimmed_sets == 4);
  // Without label keys the rest keep no labels at all, merged into one set.
  const auto bare = analyze(2048, {});
  const auto& rest = bare->stacks[0].labels;
  CHECK(std::count_if(rest.begin(), rest.end(),
                      [](const LabelCount& l) { return l.labels.empty(); }) == 1);
  CHECK(test::HasNote(bare->notes, "keep none of their labels"));
  CHECK(RenderSnapshotText(*bare, TextReportOptions()).find("(labels not kept) (") !=
        std::string::npos);
  int64_t total = 0;
  for (const LabelCount& l : rest) total += l.count;
  CHECK(total == bare->stacks[0].count);
}

TEST_CASE("with label keys every category is still exported, at 0 when it has no goroutines") {
  test::ProtoBuilder b;
  b.Sample(7, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.handle"}}, {{"route", "/a"}});
  auto s = std::make_shared<const Snapshot>(test::Analyzed(b.Gzipped()));
  ExposeOptions o;
  o.label_keys = {"route"};
  auto fams = ProbeMetricFamilies(MakeResult(s), o);
  auto by_category = SumByLabel(fams, "goroutine_category_goroutines", "category");
  CHECK(by_category.size() == static_cast<std::size_t>(kCategoryCount));
  CHECK(by_category["select"] == 7);
  CHECK(by_category.count("mutex") == 1);
  CHECK(by_category["mutex"] == 0);
  auto by_route = SumByLabel(fams, "goroutine_category_goroutines", "route");
  CHECK(by_route["/a"] == 7);
  CHECK(by_route[""] == 0);  // the zero rows carry empty values
}

TEST_CASE("GC-leaked stacks: top-K by leaked goroutines, the rest in other") {
  ProbeResult r = MakeResult(Snap({{"main.a", 5}}));
  r.leak = Snap({{"main.x", 3}, {"main.y", 5}, {"main.z", 2}});  // goroutineleak?debug=0
  ExposeOptions o;
  o.top_k = 1;
  auto fams = ProbeMetricFamilies(r, o);
  auto by_function = SumByLabel(fams, "goroutine_gc_leaked_stack_goroutines", "function");
  CHECK(by_function == std::map<std::string, double>{{"main.y", 5}, {"", 5}});
  auto by_stack = SumByLabel(fams, "goroutine_gc_leaked_stack_goroutines", "stack_id");
  CHECK(by_stack["other"] == 5);
  CHECK(SumByLabel(fams, "goroutine_gc_leaked_goroutines", "")[""] == 10);
  o.top_k = 3;  // nothing folded: no other row
  by_stack = SumByLabel(ProbeMetricFamilies(r, o), "goroutine_gc_leaked_stack_goroutines", "stack_id");
  CHECK(by_stack.size() == 3);
  CHECK(by_stack.count("other") == 0);
}

TEST_CASE("label values are valid UTF-8 and bounded") {
  CHECK(SanitizeLabelValue("plain") == "plain");
  CHECK(SanitizeLabelValue("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(SanitizeLabelValue("bad\xFF") == "bad\xEF\xBF\xBD");
  // Sequences that have the shape of UTF-8 but that Prometheus' parser refuses (a pprof label
  // value taken from a request can hold any bytes): each byte becomes U+FFFD.
  CHECK(SanitizeLabelValue("big\xF5\x80\x80\x80x") ==
        "big\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");
  CHECK(SanitizeLabelValue("s\xED\xA0\x80") == "s\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(SanitizeLabelValue("o\xE0\x80\x80") == "o\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(IsValidUtf8(SanitizeLabelValue("\xF4\x90\x80\x80 \xF0\x8F\xBF\xBF")));
  CHECK(SanitizeLabelValue(std::string(1000, 'x'), 10).size() == 10);
  CHECK(SanitizeLabelName("my-key.1") == "my_key_1");
  CHECK(SanitizeLabelName("1abc") == "_abc");
  CHECK(LabelNameOfKey("route") == "route");
  CHECK(LabelNameOfKey("job") == "pprof_job");
  CHECK(LabelNameOfKey("instance") == "pprof_instance");
  CHECK(LabelNameOfKey("jobs") == "jobs");
}

TEST_CASE("pprof labels named job or instance are exposed as pprof_job and pprof_instance") {
  auto now = Snap({{"main.a", 5}}, {{"job", "nightly"}, {"instance", "w1"}});
  ExposeOptions o;
  o.label_keys = {"job", "instance"};
  std::string text = SerializeText(ProbeMetricFamilies(MakeResult(now), o));
  CHECK(text.find("pprof_job=\"nightly\"") != std::string::npos);
  CHECK(text.find("pprof_instance=\"w1\"") != std::string::npos);
  CHECK(text.find(",job=") == std::string::npos);
  CHECK(text.find("{job=") == std::string::npos);
}

TEST_CASE("rendered probe output passes promtool check metrics") {
  if (!HaveTool("promtool")) {
    MESSAGE("promtool not installed; run scripts/setup.sh");
    return;
  }
  // Values with bytes that have the shape of UTF-8 but are not (a code point past U+10FFFF,
  // a surrogate): one of them in the output fails the whole scrape.
  auto now = Snap({{"main.a", 5}, {"main.\"quoted\"\\path", 3}},
                  {{"route", "/a\"b\n"}, {"tenant", "big\xF5\x80\x80\x80x"}});
  ExposeOptions o;
  o.label_keys = {"route", "bad-key", "tenant"};
  o.target_labels = {{"target", "127.0.0.1:1"}, {"service", "s\xED\xA0\x80"}};
  std::string text = SerializeText(ProbeMetricFamilies(MakeResult(now), o));
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/gx-metrics-test.txt";
  std::ofstream(path) << text;
  CHECK(std::system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()) == 0);
  std::remove(path.c_str());
}

}  // namespace gx

namespace gx {

TEST_CASE("series carry only the exporter's label names, label keys and target labels") {
  // Config rejects label keys and target labels named like the exporter's own labels
  // (common/label_names.h); that check only holds while the list matches what is emitted.
  auto now = Snap({{"main.a", 5}, {"main.b", 3}}, {{"route", "/a"}});
  ProbeResult r = MakeResult(now);
  r.debug2 = now;
  r.leak = now;
  FetchRecord skipped;
  skipped.profile = "goroutineleak";
  skipped.skipped = SkipReason::kOverCap;
  r.fetches.push_back(skipped);
  FetchRecord failed;
  failed.profile = "goroutine";
  failed.debug = 2;
  failed.performed = true;
  failed.failed = true;
  failed.error_kind = FetchError::kTimeout;
  r.fetches.push_back(failed);
  ExposeOptions o;
  o.label_keys = {"route"};
  o.target_labels = {{"target", "127.0.0.1:1"}, {"team", "x"}};
  o.growth_base = CountsOf(*Snap({{"main.a", 1}}));
  int series = 0;
  for (const auto& family : ProbeMetricFamilies(r, o)) {
    for (const auto& m : family.metric) {
      ++series;
      std::set<std::string> names;
      for (const auto& l : m.label) {
        CAPTURE(family.name);
        CAPTURE(l.name);
        CHECK(names.insert(l.name).second);
        CHECK((IsExporterLabelName(l.name) || l.name == "route" || l.name == "target" ||
               l.name == "team"));
      }
    }
  }
  CHECK(series > 20);
}

}  // namespace gx

namespace gx {

TEST_CASE("the creator is an info series joined on stack_id, not a label of the stack series") {
  // It comes from the debug=2 fetch, minutes after a stack first shows in debug=0: as a label
  // it would start a new series of the stack and cut deriv() over it.
  auto now = Snap({{"main.a", 5}, {"main.b", 3}});
  const std::string dump =
      "goroutine 7 [chan receive, 3 minutes]:\nmain.a()\n\tm.go:1 +0x1\n"
      "created by main.start in goroutine 1\n\tm.go:2 +0x1\n\n";
  Classifier c;
  auto d2 = AnalyzeBody(dump, c, Limits(), "d2");
  REQUIRE(d2.ok());
  ProbeResult r = MakeResult(now);
  r.debug2 = std::make_shared<const Snapshot>(std::move(d2.value()));
  std::string a_id;
  for (const StackSummary& st : now->stacks) {
    if (st.function() == "main.a") a_id = st.id;
  }
  REQUIRE(r.debug2->FindStack(a_id));

  int creators = 0;
  for (const auto& family : ProbeMetricFamilies(r, ExposeOptions())) {
    for (const auto& m : family.metric) {
      if (family.name == "goroutine_stack_goroutines") {
        for (const auto& l : m.label) CHECK(l.name != "created_by");
      }
      if (family.name != "goroutine_stack_creator_info") continue;
      ++creators;
      CHECK(m.gauge.value == 1);
      REQUIRE(m.label.size() == 2);
      CHECK(m.label[0].name == "stack_id");
      CHECK(m.label[0].value == a_id);
      CHECK(m.label[1].name == "created_by");
      CHECK(m.label[1].value == "main.start");
    }
  }
  CHECK(creators == 1);  // main.b has no creator known: no series
}

}  // namespace gx

namespace gx {

TEST_CASE("goroutines marked leaked are left out of the wait ages, not counted as 0") {
  // After a goroutineleak fetch, debug=2 prints leaked goroutines with "(leaked)" and without
  // ", N minutes" (FORMATS.md §6): their wait is unknown, not short.
  const std::string dump =
      "goroutine 7 [chan send, 30 minutes]:\nmain.a()\n\tm.go:1 +0x1\n\n"
      "goroutine 8 [chan send (leaked)]:\nmain.a()\n\tm.go:1 +0x1\n\n"
      "goroutine 9 [chan send (leaked)]:\nmain.a()\n\tm.go:1 +0x1\n\n";
  Classifier c;
  auto d2 = AnalyzeBody(dump, c, Limits(), "d2");
  REQUIRE(d2.ok());
  ProbeResult r = MakeResult(Snap({{"main.a", 3}}));
  r.debug2 = std::make_shared<const Snapshot>(std::move(d2.value()));
  bool seen = false;
  for (const auto& family : ProbeMetricFamilies(r, ExposeOptions())) {
    if (family.name != "goroutine_wait_age_seconds") continue;
    for (const auto& m : family.metric) {
      REQUIRE(m.label.size() == 1);
      if (m.label[0].value != "chan_send") continue;
      seen = true;
      CHECK(m.histogram.sample_count == 1);
      CHECK(m.histogram.sample_sum == 30 * 60.0);
      CHECK(m.histogram.bucket.front().cumulative_count == 0);  // no 0-minute waits invented
    }
  }
  CHECK(seen);
}

}  // namespace gx

namespace gx {

TEST_CASE("a fetch whose data is partial says so; whole data reads 0") {
  auto partial_of = [](const ProbeResult& r) {
    std::map<std::string, double> out;
    for (const auto& family : ProbeMetricFamilies(r, ExposeOptions())) {
      if (family.name != "goroutine_fetch_partial") continue;
      for (const auto& m : family.metric) {
        std::string key;
        for (const auto& l : m.label) key += l.value + "/";
        out[key] = m.gauge.value;
      }
    }
    return out;
  };
  ProbeResult r = MakeResult(Snap({{"main.a", 1}}));
  CHECK(partial_of(r) == std::map<std::string, double>{{"goroutine/0/", 0}});

  Snapshot cut = *Snap({{"main.a", 1}});
  cut.info.truncated = true;  // a dump cut at Go's 64 MiB, a body without its end
  Snapshot folded = *Snap({{"main.b", 1}});
  folded.overflow_goroutines = 7;  // past the aggregator's bucket cap
  r.snapshot = std::make_shared<const Snapshot>(folded);
  r.debug2 = std::make_shared<const Snapshot>(cut);
  FetchRecord d2;
  d2.profile = "goroutine";
  d2.debug = 2;
  d2.skipped = SkipReason::kMinInterval;  // reused: its data is still in use
  r.fetches.push_back(d2);
  FetchRecord leak;
  leak.profile = "goroutineleak";
  leak.skipped = SkipReason::kOverCap;  // no data: no series
  r.fetches.push_back(leak);
  CHECK(partial_of(r) == std::map<std::string, double>{{"goroutine/0/", 1}, {"goroutine/2/", 1}});
}

TEST_CASE("data ages are taken at render time when it is given") {
  ProbeResult r = MakeResult(Snap({{"main.a", 1}}));
  r.time_ms = 1'000'000;
  r.fetches[0].data_time_ms = 990'000;
  auto age = [&](int64_t now_ms) {
    ExposeOptions o;
    o.now_ms = now_ms;
    for (const auto& family : ProbeMetricFamilies(r, o)) {
      if (family.name == "goroutine_fetch_age_seconds") return family.metric.at(0).gauge.value;
    }
    return -1.0;
  };
  CHECK(age(0) == 10);          // the probe's own start
  CHECK(age(1'060'000) == 70);  // scraped a minute later (cache, late watch poll)
}

}  // namespace gx
