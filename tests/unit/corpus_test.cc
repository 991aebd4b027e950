// Runs the decoders over every capture of the shared corpus (when present) and checks the
// counts that the files themselves state: "total N" and record counts in debug=1, the number
// of "goroutine N [" blocks in debug=2, and meta.json's totals for debug=0.
#include <doctest/doctest.h>
#include <zlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "aggregate/aggregator.h"
#include "decode/profile_decoder.h"
#include "pipeline/capture.h"
#include "test_util.h"

namespace gx {
namespace {

namespace fs = std::filesystem;

std::string Gunzip(const std::string& gz) {
  z_stream zs{};
  inflateInit2(&zs, 16 + MAX_WBITS);
  std::string out;
  char buf[1 << 16];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = gz.size();
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return out;
}

struct CorpusFile {
  fs::path path;
  std::string tn;       // "t1"
  std::string profile;  // "goroutine" / "goroutineleak"
  int debug;            // 0, 1, 2
};

std::vector<CorpusFile> CorpusCaptures() {
  std::vector<CorpusFile> out;
  fs::path dir = test::CorpusDir();
  if (!fs::exists(dir)) return out;
  std::regex name(R"((t\d)\.(goroutine|goroutineleak)\.debug([012])\.(pb\.gz|txt|txt\.gz))");
  for (const auto& sub : fs::directory_iterator(dir)) {
    if (!sub.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(sub.path())) {
      std::smatch m;
      std::string fname = f.path().filename().string();
      if (!std::regex_match(fname, m, name)) continue;
      out.push_back({f.path(), m[1], m[2], std::stoi(m[3])});
    }
  }
  std::sort(out.begin(), out.end(), [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
  return out;
}

Snapshot Analyze(const fs::path& path, test::CollectingSink* raw = nullptr) {
  Classifier classifier;
  CaptureOptions options;
  auto capture = CaptureSource(path.string(), classifier, options);
  REQUIRE_MESSAGE(capture.ok(), capture.status().message());
  return capture->snapshot;
}

// Lines of the form "goroutine <digits> [" (a debug=2 record header).
int64_t CountHeaders(std::string_view text) {
  int64_t n = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (line.rfind("goroutine ", 0) == 0) {
      std::size_t i = 10;
      while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
      if (i > 10 && line.substr(i, 2) == " [") ++n;
    }
    at = end + 1;
  }
  return n;
}

int64_t SumStacks(const Snapshot& s) {
  int64_t n = s.self_excluded + s.overflow_goroutines;
  for (const auto& st : s.stacks) n += st.count;
  return n;
}

}  // namespace

TEST_CASE("corpus: every capture decodes completely and matches its stated counts") {
  auto captures = CorpusCaptures();
  if (captures.empty()) {
    MESSAGE("shared corpus not present at " << test::CorpusDir() << "; skipping");
    return;
  }
  CHECK(captures.size() >= 70);
  for (const CorpusFile& c : captures) {
    CAPTURE(c.path.string());
    Snapshot snap = Analyze(c.path);
    CHECK(snap.info.unknown_lines == 0);
    CHECK_FALSE(snap.info.truncated);
    CHECK(snap.info.format == (c.debug == 0   ? ProfileFormat::kProto
                               : c.debug == 1 ? ProfileFormat::kDebug1
                                              : ProfileFormat::kDebug2));
    CHECK(SumStacks(snap) == snap.total);

    nlohmann::json meta = nlohmann::json::parse(test::ReadFile(c.path.parent_path() / "meta.json"));
    const auto& m = meta["captures"][c.tn][c.profile];
    if (c.debug == 0) {
      CHECK(snap.total == m["debug0_total"].get<int64_t>());
      CHECK(snap.info.records == m["debug0_samples"].get<int64_t>());
    }
    std::string text;
    if (c.debug > 0) {
      text = test::ReadFile(c.path);
      if (c.path.extension() == ".gz") text = Gunzip(text);
    }
    if (c.debug == 1) {
      // The header total and the per-record counts, read with a separate grammar.
      std::smatch h;
      std::string first = text.substr(0, text.find('\n'));
      REQUIRE(std::regex_match(first, h, std::regex(R"((\S+) profile: total (\d+))")));
      CHECK(snap.total == std::stoll(h[2]));
      CHECK(snap.total == m["debug1_total"].get<int64_t>());
      std::multiset<int64_t> file_counts, decoded_counts;
      std::regex rec(R"(^(\d+) @( 0x[0-9a-f]+)+$)", std::regex::multiline);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), rec); it != std::sregex_iterator(); ++it) {
        file_counts.insert(std::stoll((*it)[1]));
      }
      test::CollectingSink sink;
      auto info = DecodeProfile(text, &sink, Limits());
      REQUIRE(info.ok());
      for (const auto& r : sink.records) decoded_counts.insert(r.count);
      CHECK(file_counts == decoded_counts);
      if (c.profile == "goroutineleak") {
        for (const auto& s : snap.stacks) CHECK(s.leaked == s.count);
      }
    }
    if (c.debug == 2) {
      int64_t blocks = CountHeaders(text);
      CHECK(snap.total == blocks);
      CHECK(snap.total == m["debug2_goroutines"].get<int64_t>());
      int64_t leaked_markers = 0;
      for (std::size_t at = text.find(" (leaked)"); at != std::string::npos;
           at = text.find(" (leaked)", at + 1)) {
        ++leaked_markers;
      }
      int64_t leaked = 0;
      for (const auto& s : snap.stacks) leaked += s.leaked;
      CHECK(leaked == leaked_markers);
    }
  }
}

TEST_CASE("corpus: a leak gets the same id, count and category in debug=0 and debug=2") {
  fs::path dir = test::CorpusDir();
  if (!fs::exists(dir)) return;
  for (const char* v : {"go1.19", "go1.21", "go1.22", "go1.23", "go1.24", "go1.25", "go1.26",
                        "go1.26-leakexp", "go1.27"}) {
    CAPTURE(v);
    Snapshot d0 = Analyze(dir / v / "t2.goroutine.debug0.pb.gz");
    Snapshot d1 = Analyze(dir / v / "t2.goroutine.debug1.txt");
    Snapshot d2 = Analyze(dir / v / "t2.goroutine.debug2.txt");
    int matched = 0;
    for (const StackSummary& s : d0.stacks) {
      // The leaks of the 6 rounds. Benign stacks (the request's own background reader) and
      // singletons are transient: each format was a separate fetch.
      if (s.count < 6 || IsBenign(s.category)) continue;
      CAPTURE(s.function());
      const StackSummary* in2 = d2.FindStack(s.id);
      const StackSummary* in1 = d1.FindStack(s.id);
      REQUIRE(in2 != nullptr);
      REQUIRE(in1 != nullptr);
      CHECK(in2->count == s.count);
      CHECK(in1->count == s.count);
      // Go 1.19 has no start lines, so debug=0 cannot tell nil channels apart.
      if (!(std::string(v) == "go1.19" && in2->category == Category::kNilChan)) {
        CHECK(CategoryName(in2->category) == CategoryName(s.category));
      }
      // debug=1 hides the primitive: it says unknown or agrees, never disagrees.
      CHECK((in1->category == Category::kUnknown || in1->category == s.category));
      ++matched;
    }
    CHECK(matched >= 25);
  }
}

TEST_CASE("corpus: stack ids are the same across Go 1.19 to 1.27") {
  fs::path dir = test::CorpusDir();
  if (!fs::exists(dir)) return;
  auto leak_ids = [&](const char* v) {
    std::map<std::string, int64_t> ids;
    for (const auto& s : Analyze(dir / v / "t2.goroutine.debug0.pb.gz").stacks) {
      if (s.count >= 6 && !IsBenign(s.category)) ids[s.id] = s.count;
    }
    return ids;
  };
  auto base = leak_ids("go1.27");
  for (const char* v : {"go1.19", "go1.21", "go1.22", "go1.23", "go1.24", "go1.25", "go1.26"}) {
    CAPTURE(v);
    CHECK(leak_ids(v) == base);
  }
}

TEST_CASE("corpus: mass captures, the delta profile and a synthetic 64 MiB cut") {
  fs::path dir = test::CorpusDir();
  if (!fs::exists(dir)) return;
  Snapshot mass = Analyze(dir / "mass-go1.27-100k" / "t1.goroutine.debug2.txt.gz");
  CHECK(mass.total == 100004);
  Snapshot delta = Analyze(dir / "prometheus-2.42" / "t2.goroutine.delta-seconds2.pb.gz");
  CHECK(delta.info.delta_profile);

  // Cut the 100k dump at 20 MiB in the middle of a line, as the runtime's cap does.
  std::string text = Gunzip(test::ReadFile(dir / "mass-go1.19-100k" / "t1.goroutine.debug2.txt.gz"));
  std::size_t cut = 20u << 20;
  while (text[cut] == '\n') ++cut;
  Classifier classifier;
  auto snap = AnalyzeBody(std::string_view(text).substr(0, cut), classifier, Limits(), "cut");
  REQUIRE(snap.ok());
  CHECK(snap->info.truncated);
  int64_t complete_blocks = CountHeaders(std::string_view(text).substr(0, cut)) - 1;
  CHECK(snap->total == complete_blocks);
}

}  // namespace gx

namespace gx {

TEST_CASE("corpus: Go 1.19 debug=0 says channel waits may be on nil channels") {
  // Go <= 1.20 writes no function start lines, which tell nil-channel waits apart (§1, §5.2).
  fs::path dir = test::CorpusDir();
  if (!fs::exists(dir)) return;
  auto noted = [](const Snapshot& s) { return test::HasNote(s.notes, "no function start lines"); };
  CHECK(noted(Analyze(dir / "go1.19" / "t1.goroutine.debug0.pb.gz")));
  CHECK_FALSE(noted(Analyze(dir / "go1.21" / "t1.goroutine.debug0.pb.gz")));
  CHECK_FALSE(noted(Analyze(dir / "go1.19" / "t1.goroutine.debug2.txt")));
}

}  // namespace gx
