// Tests over the project's own fixture captures (tests/fixtures/captures, made by
// scripts/capture-fixtures.sh from tests/fixtures/leaky with two Go versions):
//  * every leak function is counted and classified as the fixture program says it is;
//  * debug=0 per-stack counts agree with `go tool pprof -traces` (the .pprof-traces.tsv
//    files, regenerated and diffed by tests/fixtures/pprof_traces_check.sh --check);
//  * reports match the golden files (GX_UPDATE_GOLDEN=1 rewrites them).
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "aggregate/aggregator.h"
#include "aggregate/diff.h"
#include "decode/profile_decoder.h"
#include "report/json_report.h"
#include "report/text_report.h"
#include "test_util.h"

namespace gx {
namespace {

namespace fs = std::filesystem;

fs::path FixtureDir() { return test::SourceDir() / "tests" / "fixtures" / "captures"; }

std::vector<std::string> FixtureVersions() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(FixtureDir())) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Snapshot Load(const std::string& version, const std::string& file) {
  Classifier classifier;
  std::string body = test::ReadFile(FixtureDir() / version / file);
  auto snap = AnalyzeBody(body, classifier, Limits(), version + "/" + file);
  REQUIRE_MESSAGE(snap.ok(), snap.status().message());
  return std::move(snap.value());
}

bool HasFunction(const StackSummary& s, const std::string& f) {
  for (const ShapeFrame& frame : s.frames()) {
    if (frame.function == f) return true;
  }
  return false;
}

// Categories debug=1 cannot see (the runtime frames that show them are hidden).
bool HiddenInDebug1(const std::string& category) {
  return category == "chan_send" || category == "chan_receive" || category == "nil_chan" ||
         category == "select" || category == "select_no_cases";
}

void CheckGolden(const fs::path& path, const std::string& actual) {
  if (std::getenv("GX_UPDATE_GOLDEN")) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  REQUIRE_MESSAGE(fs::exists(path), "missing golden file " << path.string()
                                        << " (run with GX_UPDATE_GOLDEN=1)");
  std::string expected = test::ReadFile(path);
  CHECK_MESSAGE(expected == actual, "golden mismatch: " << path.string()
                                        << " (GX_UPDATE_GOLDEN=1 rewrites it)");
}

}  // namespace

TEST_CASE("fixtures: every leak is counted and categorised as the fixture program states") {
  for (const std::string& v : FixtureVersions()) {
    nlohmann::json expected = nlohmann::json::parse(test::ReadFile(FixtureDir() / v / "expected.json"));
    nlohmann::json meta = nlohmann::json::parse(test::ReadFile(FixtureDir() / v / "meta.json"));
    for (const char* tn : {"t1", "t2"}) {
      int64_t rounds = meta["rounds"][tn].get<int64_t>();
      for (const char* file : {".goroutine.debug0.pb.gz", ".goroutine.debug1.txt",
                               ".goroutine.debug2.txt"}) {
        std::string name = std::string(tn) + file;
        CAPTURE(v);
        CAPTURE(name);
        Snapshot snap = Load(v, name);
        CHECK(snap.total == meta["expected_total"][tn].get<int64_t>());
        for (const auto& [function, e] : expected["functions"].items()) {
          int64_t per_round = e["per_round"].get<int64_t>();
          if (per_round == 0) continue;  // base goroutines of the process itself
          CAPTURE(function);
          std::string category = e["category"].get<std::string>();
          int64_t count = 0;
          for (const StackSummary& s : snap.stacks) {
            if (!HasFunction(s, function)) continue;
            count += s.count;
            std::string got(CategoryName(s.category));
            if (snap.info.format == ProfileFormat::kDebug1 && HiddenInDebug1(category)) {
              CHECK(got == "unknown");
            } else {
              CHECK(got == category);
            }
          }
          int64_t want = per_round * rounds;
          if (e["base"].get<int64_t>() > 0) {
            // The profile request's own connection reader comes and goes with timing.
            CHECK(count >= want);
          } else {
            CHECK(count == want);
          }
        }
      }
    }
  }
}

TEST_CASE("fixtures: debug=0 per-stack counts agree with go tool pprof -traces") {
  for (const std::string& v : FixtureVersions()) {
    for (const auto& e : fs::directory_iterator(FixtureDir() / v)) {
      std::string name = e.path().filename().string();
      if (name.size() < 6 || name.substr(name.size() - 6) != ".pb.gz") continue;
      CAPTURE(v);
      CAPTURE(name);
      fs::path tsv = e.path().string() + ".pprof-traces.tsv";
      REQUIRE(fs::exists(tsv));
      // count <TAB> leaf;...;root <TAB> k=v,k=v  (see tests/fixtures/pprof_traces_check.sh)
      std::map<std::string, int64_t> want;
      std::istringstream lines(test::ReadFile(tsv));
      for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::size_t t1 = line.find('\t');
        want[line.substr(t1 + 1)] += std::stoll(line.substr(0, t1));
      }
      test::CollectingSink sink;
      auto info = DecodeProfile(test::ReadFile(e.path()), &sink, Limits());
      REQUIRE(info.ok());
      std::map<std::string, int64_t> got;
      for (const RawRecord& r : sink.records) {
        if (r.frames.empty()) continue;  // pprof -traces skips samples without locations
        std::string key;
        for (std::size_t i = 0; i < r.frames.size(); ++i) key += (i ? ";" : "") + r.frames[i].function;
        key += "\t";
        for (std::size_t i = 0; i < r.labels.size(); ++i) {
          key += (i ? "," : "") + r.labels[i].first + "=" + r.labels[i].second;
        }
        got[key] += r.count;
      }
      CHECK(got == want);
    }
  }
}

TEST_CASE("fixtures: reports match the golden files") {
  fs::path golden = test::SourceDir() / "tests" / "fixtures" / "golden";
  TextReportOptions text_options;
  text_options.top_k = 1000;
  text_options.show_benign = true;
  for (const std::string& v : FixtureVersions()) {
    for (const char* format : {"debug0.pb.gz", "debug1.txt", "debug2.txt"}) {
      CAPTURE(v);
      CAPTURE(format);
      std::string ext = std::string(format).substr(0, 6);
      Snapshot t1 = Load(v, std::string("t1.goroutine.") + format);
      Snapshot t2 = Load(v, std::string("t2.goroutine.") + format);
      CheckGolden(golden / v / ("t2." + ext + ".analyze.txt"), RenderSnapshotText(t2, text_options));
      CheckGolden(golden / v / ("t2." + ext + ".analyze.json"),
                  SnapshotToJson(t2, 0, true).dump(1) + "\n");
      SnapshotDiff diff = DiffSnapshots(t1, t2);
      CheckGolden(golden / v / ("diff." + ext + ".txt"),
                  RenderDiffText(diff, t1.source, t2.source, text_options));
      CheckGolden(golden / v / ("diff." + ext + ".json"), DiffToJson(diff, 0, false).dump(1) + "\n");
      // The largest non-benign growth is one goroutine per round: 3 rounds were added.
      auto top = std::find_if(diff.rows.begin(), diff.rows.end(),
                              [](const DiffRow& r) { return !IsBenign(r.stack.category); });
      REQUIRE(top != diff.rows.end());
      CHECK(top->delta() == 3);
    }
  }
}

}  // namespace gx
