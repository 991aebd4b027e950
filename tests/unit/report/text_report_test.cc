#include "report/text_report.h"

#include <doctest/doctest.h>

#include "aggregate/diff.h"
#include "report/json_report.h"
#include "../proto_builder.h"
#include "../test_util.h"

namespace gx {
namespace {

// `sends` goroutines blocked sending, `idle` idle keep-alive connections, `sleeps` sleeping.
Snapshot Program(int sends, int idle, int sleeps) {
  test::ProtoBuilder b;
  if (sends) b.Sample(sends, {{"runtime.gopark"}, {"runtime.chansend"}, {"runtime.chansend1"}, {"main.push"}});
  if (idle) {
    b.Sample(idle, {{"runtime.gopark"}, {"runtime.netpollblock"}, {"internal/poll.runtime_pollWait"},
                    {"bufio.(*Reader).Peek"}, {"net/http.(*conn).serve"}});
  }
  if (sleeps) b.Sample(sleeps, {{"runtime.gopark"}, {"time.Sleep"}, {"main.poll"}});
  return test::Analyzed(b.Gzipped());
}

}  // namespace

TEST_CASE("diff text: hidden benign growth is counted, shrinking stacks are listed") {
  SnapshotDiff d = DiffSnapshots(Program(5, 2, 40), Program(25, 302, 4));
  TextReportOptions options;
  const std::string text = RenderDiffText(d, "old", "new", options);
  CAPTURE(text);
  CHECK(text.find("+20      5 -> 25    chan_send") != std::string::npos);
  CHECK(text.find("benign stacks grew too, by 300 goroutines (idle_server +300); --all lists them") !=
        std::string::npos);
  CHECK(text.find("SHRINKING OR GONE STACKS (largest drop first)\n    -36     40 -> 4     timer") !=
        std::string::npos);
  options.show_benign = true;
  const std::string all = RenderDiffText(d, "old", "new", options);
  CHECK(all.find("benign stacks grew too") == std::string::npos);
  CHECK(all.find("+300      2 -> 302   idle_server") != std::string::npos);
}

TEST_CASE("diff text: benign churn (one idle stack gone, another come) is not benign growth") {
  // A live target's own fetch: its request's background reader has one stack before it starts
  // and another once it runs, so the idle_server total stays 3 while stacks come and go.
  auto idle = [](int keepalive, int started, int starting) {
    test::ProtoBuilder b;
    b.Sample(4, {{"runtime.gopark"}, {"runtime.chansend"}, {"main.push"}});
    b.Sample(keepalive, {{"runtime.gopark"}, {"runtime.netpollblock"},
                         {"internal/poll.runtime_pollWait"}, {"bufio.(*Reader).Peek"},
                         {"net/http.(*conn).serve"}});
    if (started) b.Sample(started, {{"runtime.gopark"}, {"net/http.(*connReader).backgroundRead"}});
    if (starting) b.Sample(starting, {{"net/http.(*connReader).startBackgroundRead.gowrap2"}});
    return test::Analyzed(b.Gzipped());
  };
  const SnapshotDiff churn = DiffSnapshots(idle(2, 0, 1), idle(2, 1, 0));
  const std::string text = RenderDiffText(churn, "old", "new", TextReportOptions());
  CAPTURE(text);
  CHECK(text.find("benign stacks grew") == std::string::npos);
  // Net growth is still reported, by its net amount.
  const SnapshotDiff grew = DiffSnapshots(idle(2, 0, 1), idle(5, 1, 0));
  CHECK(RenderDiffText(grew, "old", "new", TextReportOptions())
            .find("benign stacks grew too, by 3 goroutines (idle_server +3)") != std::string::npos);
}

TEST_CASE("diff JSON: growing and shrinking stacks apart, unchanged ones only counted") {
  // chan_send 5 -> 25, idle_server (benign) 2 -> 302, timer 40 -> 4; and one stack that
  // does not change.
  test::ProtoBuilder before, after;
  for (test::ProtoBuilder* b : {&before, &after}) {
    b->Sample(3, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.loop"}});
  }
  SnapshotDiff d = DiffSnapshots(Program(5, 2, 40), Program(25, 302, 4));
  SnapshotDiff with_steady = DiffSnapshots(test::Analyzed(before.Gzipped()),
                                           test::Analyzed(after.Gzipped()));
  const nlohmann::json hidden = DiffToJson(d, 0, false, /*include_benign=*/false);
  REQUIRE(hidden["stacks"].size() == 1);
  CHECK(hidden["stacks"][0]["category"] == "chan_send");
  CHECK(hidden["stacks"][0]["delta"] == 20);
  REQUIRE(hidden["shrinking"].size() == 1);
  CHECK(hidden["shrinking"][0]["category"] == "timer");
  CHECK(hidden["shrinking"][0]["delta"] == -36);
  CHECK(hidden["growing_stacks"] == 1);
  CHECK(hidden["shrinking_stacks"] == 1);
  CHECK(hidden["benign_growth"] == 300);

  const nlohmann::json all = DiffToJson(d, 1, false);
  REQUIRE(all["stacks"].size() == 1);  // top_k = 1 of the two that grew
  CHECK(all["stacks"][0]["category"] == "idle_server");
  CHECK(all["growing_stacks"] == 2);
  CHECK(all["benign_growth"].is_null());

  const nlohmann::json steady = DiffToJson(with_steady, 0, false);
  CHECK(steady["stacks"].empty());
  CHECK(steady["shrinking"].empty());
  CHECK(steady["unchanged_stacks"] == 1);
}

TEST_CASE("snapshot text and JSON: a stack blocked in two categories says so") {
  std::string dump;
  for (int i = 0; i < 5; ++i) {
    dump += "goroutine " + std::to_string(10 + i) + (i < 3 ? " [chan send]" : " [chan receive]") +
            ":\nmain.stage()\n\tpool.go:" + (i < 3 ? "50" : "60") + " +0x1\n\n";
  }
  const Snapshot snap = test::Analyzed(dump);
  const std::string text = RenderSnapshotText(snap, TextReportOptions());
  CAPTURE(text);
  CHECK(text.find("also blocked elsewhere in these functions: 2 chan_receive") != std::string::npos);
  const nlohmann::json json = SnapshotToJson(snap, 0, false);
  CHECK(json["stacks"][0]["other_categories"] ==
        nlohmann::json::array({{{"category", "chan_receive"}, {"count", 2}}}));
}

TEST_CASE("snapshot text: strings from the target cannot break the layout or the terminal") {
  // A label value set from a request, and a function name of a hostile body: bytes that are
  // not UTF-8, a newline and an escape sequence (which would turn a terminal red).
  test::ProtoBuilder b;
  b.Sample(3, {{"runtime.gopark"}, {"runtime.chansend"}, {"main.push\x1b[31m"}},
           {{"tenant", "bad\xff\xfe" "a\n\x1b[31mX"}, {"route", "/a,b=c"}, {"plain", "caf\xC3\xA9"}});
  const std::string text = RenderSnapshotText(test::Analyzed(b.Gzipped()), TextReportOptions());
  CAPTURE(text);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("\xff") == std::string::npos);
  CHECK(text.find("main.push\\x1b[31m") != std::string::npos);
  CHECK(text.find("tenant=\"bad\\xff\\xfea\\n\\x1b[31mX\"") != std::string::npos);
  CHECK(text.find("route=\"/a,b=c\"") != std::string::npos);  // quoted: it holds , and =
  CHECK(text.find("plain=caf\xC3\xA9") != std::string::npos);  // valid UTF-8 as it is
}

TEST_CASE("snapshot text: a debug=1 dump cut short says its shares are of what was read") {
  // The header states 196 goroutines; the body, cut by `head -c`, holds 5 of them.
  const std::string cut =
      "goroutine profile: total 196\n"
      "3 @ 0x1\n#\t0x1\tmain.a+0x1\tm.go:1\n\n"
      "2 @ 0x2\n#\t0x2\tmain.b+0x1\tm.go:2\n";
  const std::string text = RenderSnapshotText(test::Analyzed(cut), TextReportOptions());
  CAPTURE(text);
  CHECK(text.find("196 goroutines") != std::string::npos);
  CHECK(text.find("the categories, shares and stacks below are of the 5 goroutines read") !=
        std::string::npos);
  // A whole capture does not say it.
  const std::string whole = RenderSnapshotText(Program(5, 2, 0), TextReportOptions());
  CHECK(whole.find("goroutines read") == std::string::npos);
}

TEST_CASE("snapshot text: GC-proven leaked stacks come first, with their total") {
  const std::string dump =
      "goroutine 1 [chan send]:\nmain.busy()\n\tm.go:1 +0x1\n\n"
      "goroutine 2 [chan send]:\nmain.busy()\n\tm.go:1 +0x1\n\n"
      "goroutine 3 [chan send]:\nmain.busy()\n\tm.go:1 +0x1\n\n"
      "goroutine 4 [select (leaked)]:\nmain.stuck()\n\tm.go:2 +0x1\n\n";
  const std::string text = RenderSnapshotText(test::Analyzed(dump), TextReportOptions());
  CAPTURE(text);
  CHECK(text.find("GC-PROVEN LEAKED: 1 goroutines in 1 stack (listed first below)") !=
        std::string::npos);
  REQUIRE(text.find("main.busy") != std::string::npos);
  CHECK(text.find("main.stuck") < text.find("main.busy"));
}

TEST_CASE("snapshot text: --frames folds deep recursion into one line per run") {
  test::ProtoBuilder b;
  std::vector<test::ProtoBuilder::F> frames = {{"runtime.gopark"}, {"runtime.chanrecv"},
                                               {"runtime.chanrecv1"}, {"main.visit", 7}};
  for (int i = 0; i < 40; ++i) frames.push_back({"main.walk", 12});
  frames.push_back({"main.walk", 20});  // the first call, from another line: its own frame
  frames.push_back({"main.retry", 5});   // two in a row are printed as they are
  frames.push_back({"main.retry", 5});
  frames.push_back({"main.main", 3});
  b.Sample(2, frames);
  TextReportOptions options;
  options.frames = true;
  const std::string text = RenderSnapshotText(test::Analyzed(b.Gzipped()), options);
  CAPTURE(text);
  CHECK(text.find(":12  (40 frames of recursion)\n") != std::string::npos);
  CHECK(text.find(":20\n") != std::string::npos);
  auto lines_with = [&](std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  };
  CHECK(lines_with("main.walk  ") == 2);
  CHECK(lines_with("main.retry  ") == 2);
}

}  // namespace gx
