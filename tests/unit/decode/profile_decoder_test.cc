#include "decode/profile_decoder.h"

#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "../proto_builder.h"
#include "common/limits.h"
#include "../test_util.h"

namespace gx {
namespace {

Result<DecodeInfo> Decode(const std::string& body, test::CollectingSink* sink,
                          std::size_t chunk = 0, Limits limits = Limits()) {
  ProfileDecoder decoder(sink, limits);
  if (chunk == 0) chunk = body.empty() ? 1 : body.size();
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    Status st = decoder.Feed(std::string_view(body).substr(i, chunk));
    if (!st.ok()) return st;
  }
  Status st = decoder.Finish();
  if (!st.ok()) return st;
  return decoder.info();
}

std::string Debug2Text() {
  return "goroutine 1 [running]:\nmain.main()\n\tm.go:1 +0x1\n\n"
         "goroutine 2 [chan receive]:\nmain.f()\n\tm.go:2 +0x1\n";
}

}  // namespace

TEST_CASE("format is detected from content: proto, gzip proto, text, gzip text") {
  test::ProtoBuilder b;
  b.Sample(5, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"main.f"}}, {{"route", "/x"}});
  struct Case {
    std::string name;
    std::string body;
    ProfileFormat format;
    bool compressed;
    std::size_t records;
  };
  const Case cases[] = {
      {"proto", b.Serialize(), ProfileFormat::kProto, false, 1},
      {"gzip proto", b.Gzipped(), ProfileFormat::kProto, true, 1},
      {"debug2", Debug2Text(), ProfileFormat::kDebug2, false, 2},
      {"gzip debug2", test::ProtoBuilder::Gzip(Debug2Text()), ProfileFormat::kDebug2, true, 2},
      {"debug1", "goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.f+0x1\tm.go:1\n",
       ProfileFormat::kDebug1, false, 1},
  };
  for (const Case& c : cases) {
    for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
      CAPTURE(c.name);
      CAPTURE(chunk);
      test::CollectingSink sink;
      auto info = Decode(c.body, &sink, chunk);
      REQUIRE_MESSAGE(info.ok(), info.status().message());
      CHECK(info->format == c.format);
      CHECK(info->compressed == c.compressed);
      CHECK(sink.records.size() == c.records);
    }
  }
}

TEST_CASE("concatenated gzip members are all read, wherever the chunks split them") {
  const std::string text1 = "goroutine 1 [running]:\nmain.main()\n\tm.go:1 +0x1\n\n";
  const std::string text2 = "goroutine 2 [chan receive]:\nmain.f()\n\tm.go:2 +0x1\n\n";
  // The first member is padded with a header comment (FCOMMENT) to end one byte before the
  // boundary at which the decoder stops buffering and streams: the second member's two magic
  // bytes then arrive in different chunks.
  std::string first = test::ProtoBuilder::Gzip(text1);
  first[3] = static_cast<char>(first[3] | 0x10);
  first.insert(10, std::string(kWholeGzipBytes - 1 - first.size() - 1, 'c') + '\0');
  REQUIRE(first.size() == kWholeGzipBytes - 1);
  const std::string body = first + test::ProtoBuilder::Gzip(text2);
  for (std::size_t chunk : {kWholeGzipBytes, std::size_t{4096}, std::size_t{0}}) {
    CAPTURE(chunk);
    test::CollectingSink sink;
    auto info = Decode(body, &sink, chunk);
    REQUIRE_MESSAGE(info.ok(), info.status().message());
    CHECK(sink.records.size() == 2);
    CHECK(info->warnings.empty());
  }
}

TEST_CASE("bytes after the end of the gzip data are ignored with a warning") {
  const std::string member = test::ProtoBuilder::Gzip(Debug2Text());
  for (const std::string& tail : {std::string("junk!"), std::string("\x1f\x00" "abc", 5),
                                  std::string("\x1f", 1)}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{0}}) {
      CAPTURE(tail.size());
      CAPTURE(chunk);
      test::CollectingSink sink;
      auto info = Decode(member + tail, &sink, chunk);
      REQUIRE(info.ok());
      CHECK(sink.records.size() == 2);
      REQUIRE(info->warnings.size() == 1);
      CHECK(info->warnings[0] == "gzip: " + std::to_string(tail.size()) +
                                     " bytes after the end of the compressed data ignored");
    }
  }
}

TEST_CASE("proto samples: inlined lines expand, labels are sorted, leak kind detected") {
  test::ProtoBuilder b("goroutineleak");
  b.Sample(3, {{"runtime.gopark"}, {"main.f", 10, 5}}, {{"z", "1"}, {"a", "2"}});
  test::CollectingSink sink;
  auto info = Decode(b.Gzipped(), &sink);
  REQUIRE(info.ok());
  CHECK(info->kind == ProfileKind::kGoroutineLeak);
  CHECK(info->stated_total == 3);
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].leaked);
  CHECK(sink.records[0].labels == LabelSet{{"a", "2"}, {"z", "1"}});
  CHECK(sink.records[0].frames[1].start_line == 5);
}

TEST_CASE("bad bodies give clear errors, never an empty OK") {
  struct Case {
    std::string name;
    std::string body;
    std::string error_part;
  };
  test::ProtoBuilder cpu("cpu");
  cpu.Sample(1, {{"main.f"}});
  std::string gz = test::ProtoBuilder().Sample(1, {{"main.f"}}).Gzipped();
  const Case cases[] = {
      {"empty", "", "empty body"},
      {"html", "<html><body>404 page not found</body></html>\n", "not a goroutine profile"},
      {"unknown profile", "Unknown profile\n", "not a goroutine profile"},
      {"cpu profile", cpu.Serialize(), "not a goroutine profile"},
      {"debug=1 of another profile", "threadcreate profile: total 3\n3 @ 0x1\n#\t0x1\tmain.a+0x1\n",
       "debug=1 profile of type 'threadcreate', not a goroutine profile"},
      {"cut gzip", gz.substr(0, gz.size() / 2), "cut"},
      {"corrupt gzip", std::string("\x1f\x8b\x08\x00garbagegarbage", 18), "gzip"},
      {"no records", "goroutine profile: total 0\n", "no goroutine records"},
      {"binary junk", std::string("\x5a\xff\xff\xff\xff\x01\x02", 7), "protobuf"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    test::CollectingSink sink;
    auto info = Decode(c.body, &sink);
    REQUIRE_FALSE(info.ok());
    CHECK_MESSAGE(info.status().message().find(c.error_part) != std::string::npos,
                  info.status().message());
  }
}

TEST_CASE("decompression is capped (gzip bomb)") {
  std::string big(8u << 20, '\0');
  big[0] = 0x5a;  // looks like a profile's first field
  std::string bomb = test::ProtoBuilder::Gzip(big);
  Limits limits;
  limits.max_proto_bytes = 1u << 20;
  test::CollectingSink sink;
  auto info = Decode(bomb, &sink, 4096, limits);
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().message().find("exceeds") != std::string::npos);
}

TEST_CASE("a gzip trailer that lies about the size is an error, however much it claims") {
  test::ProtoBuilder b;
  b.Sample(3, {{"runtime.gopark"}, {"main.f"}});
  const std::string good = b.Gzipped();
  test::CollectingSink ok_sink;
  REQUIRE(Decode(good, &ok_sink).ok());
  // ISIZE is the last 4 bytes, little-endian: claim one byte more, nothing, or 60 MiB.
  for (uint32_t claim : {0u, 1u, 60u << 20}) {
    std::string body = good;
    uint32_t size = 0;
    std::memcpy(&size, body.data() + body.size() - 4, 4);
    size = claim == 1 ? size + 1 : claim;
    std::memcpy(body.data() + body.size() - 4, &size, 4);
    test::CollectingSink sink;
    auto info = Decode(body, &sink);
    CAPTURE(claim);
    CHECK_FALSE(info.ok());
  }
}

TEST_CASE("what a small hostile debug=0 body makes the decoder build is capped") {
  SUBCASE("more samples, locations, functions and strings than the cap: refused") {
    test::ProtoBuilder b;
    for (int i = 0; i < 10; ++i) b.Sample(1, {{"main.f" + std::to_string(i)}});
    Limits limits;
    limits.max_profile_entries = 20;
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink, 0, limits);
    REQUIRE_FALSE(info.ok());
    CHECK(info.status().message().find("pprof profile too large: ") == 0);
    CHECK(sink.records.empty());
  }
  SUBCASE("inlined lines count toward the cap: a location's lines are nested, few bytes each") {
    test::ProtoBuilder b;
    b.Sample(1, {{"main.f"}});
    auto* loc = b.profile().mutable_location(0);
    for (int i = 0; i < 100; ++i) *loc->add_line() = loc->line(0);
    Limits limits;
    limits.max_profile_entries = 50;  // 1 sample, 1 location, 1 function, 5 strings: far under
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink, 0, limits);
    REQUIRE_FALSE(info.ok());
    CHECK(info.status().message().find("pprof profile too large: ") == 0);
    CHECK(sink.records.empty());
  }
  SUBCASE("frames expanded from all samples stop at the profile's frame cap, counted") {
    test::ProtoBuilder b;
    for (int i = 0; i < 5; ++i) {
      const std::string n = std::to_string(i);
      b.Sample(i + 1, {{"main.a" + n}, {"main.b" + n}, {"main.c" + n}, {"main.d" + n}});
    }
    Limits limits;
    limits.max_profile_frames = 10;  // the third sample passes it
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink, 0, limits);
    REQUIRE(info.ok());
    CHECK(sink.records.size() == 3);
    CHECK(info->truncated);
    CHECK(info->stated_total == 1 + 2 + 3 + 4 + 5);  // the rest is still counted
    REQUIRE(!info->warnings.empty());
    CHECK(info->warnings.front().find("2 samples (9 goroutines) past the cap of 10 frames") !=
          std::string::npos);
  }
  SUBCASE("locations without lines and long id lists stop at the frame cap") {
    test::ProtoBuilder b;
    b.Sample(1, {{"main.f"}});
    auto& p = b.profile();
    auto* bare = p.add_location();
    bare->set_id(100);  // no line: an address-only frame
    auto* s = p.add_sample();
    s->add_value(3);
    for (int i = 0; i < 5000; ++i) s->add_location_id(100);
    Limits limits;
    limits.max_frames_per_stack = 16;
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink, 0, limits);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 2);
    CHECK(sink.records[1].frames.size() == 16);
    CHECK(sink.records[1].frames_elided);
    CHECK(sink.records[1].count == 3);
  }
  SUBCASE("negative and absurd goroutine counts are clamped, with a warning") {
    test::ProtoBuilder b;
    b.Sample(1, {{"main.f"}});
    b.Sample(1, {{"main.g"}});
    auto& p = b.profile();
    p.mutable_sample(0)->set_value(0, -5);
    p.mutable_sample(1)->set_value(0, int64_t{1} << 62);
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 2);
    CHECK(sink.records[0].count == 0);
    CHECK(sink.records[1].count == kMaxRecordCount);
    CHECK(info->stated_total == kMaxRecordCount);
    REQUIRE(!info->warnings.empty());
    CHECK(info->warnings.back().find("2 samples with a negative or implausible") != std::string::npos);
  }
  SUBCASE("debug=1 counts too") {
    test::CollectingSink sink;
    auto info = Decode("goroutine profile: total 3\n9223372036854775807 @ 0x1\n#\t0x1\tmain.a+0x1\t/m.go:1\n\n", &sink);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].count == kMaxRecordCount);
  }
  SUBCASE("debug=1 header totals too") {
    for (const char* total : {"-1000", "9223372036854775807"}) {
      CAPTURE(total);
      test::CollectingSink sink;
      auto info = Decode(std::string("goroutine profile: total ") + total +
                             "\n3 @ 0x1\n#\t0x1\tmain.a+0x1\t/m.go:1\n\n",
                         &sink);
      REQUIRE(info.ok());
      CHECK(info->stated_total == (total[0] == '-' ? 0 : kMaxRecordCount));
      REQUIRE(!info->warnings.empty());
      CHECK(info->warnings.front() ==
            std::string("debug=1: implausible total ") + total + " in the header, clamped");
    }
  }
  SUBCASE("debug=2 wait minutes too") {
    test::CollectingSink sink;
    auto info = Decode("goroutine 1 [select, 9223372036854775807 minutes]:\nmain.f()\n\tm.go:1 +0x1\n", &sink);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].wait_minutes == kMaxWaitMinutes);
    REQUIRE(!info->warnings.empty());
    CHECK(info->warnings.back().find("implausible wait minutes clamped") != std::string::npos);
  }
  SUBCASE("delta profiles keep their negative differences") {
    test::ProtoBuilder b;
    b.Sample(1, {{"main.f"}});
    b.profile().set_duration_nanos(30'000'000'000);
    b.profile().mutable_sample(0)->set_value(0, -5);
    test::CollectingSink sink;
    auto info = Decode(b.Gzipped(), &sink);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].count == -5);
    for (const std::string& w : info->warnings) CHECK(w.find("implausible") == std::string::npos);
  }
}

TEST_CASE("mutated real profiles never crash the decoder") {
  test::ProtoBuilder b;
  for (int i = 0; i < 20; ++i) {
    b.Sample(i + 1, {{"runtime.gopark"}, {"runtime.selectgo"}, {"main.f" + std::to_string(i)}},
             {{"k", std::to_string(i)}});
  }
  const std::string inputs[] = {b.Serialize(), b.Gzipped(), Debug2Text()};
  std::mt19937 rng(7);
  for (const std::string& input : inputs) {
    for (int round = 0; round < 400; ++round) {
      std::string body = input;
      int edits = 1 + rng() % 8;
      for (int e = 0; e < edits; ++e) {
        std::size_t at = rng() % body.size();
        switch (rng() % 3) {
          case 0: body[at] = static_cast<char>(rng()); break;
          case 1: body.erase(at, rng() % 16); break;
          case 2: body.insert(at, std::string(rng() % 8, static_cast<char>(rng()))); break;
        }
        if (body.empty()) body = "x";
      }
      test::CollectingSink sink;
      auto info = Decode(body, &sink, 1 + rng() % 64);
      // Either a clear error or a result; the property is that we get here.
      if (info.ok()) CHECK(info->records == static_cast<int64_t>(sink.records.size()));
    }
  }
}

}  // namespace gx

namespace gx {

TEST_CASE("an empty goroutineleak profile is a valid zero, in debug=0 and debug=1") {
  test::CollectingSink sink;
  auto proto = DecodeProfile(test::ProtoBuilder("goroutineleak").Gzipped(), &sink, Limits());
  REQUIRE_MESSAGE(proto.ok(), proto.status().message());
  CHECK(proto->kind == ProfileKind::kGoroutineLeak);
  CHECK(proto->stated_total == 0);
  auto text = DecodeProfile("goroutineleak profile: total 0\n", &sink, Limits());
  REQUIRE_MESSAGE(text.ok(), text.status().message());
  CHECK(text->stated_total == 0);
  CHECK(sink.records.empty());
  // An empty goroutine profile is still an error: the serving goroutine is always in it.
  CHECK_FALSE(DecodeProfile("goroutine profile: total 0\n", &sink, Limits()).ok());
}

TEST_CASE("labels past the cap are dropped with a warning, in every format") {
  Limits limits;
  limits.max_labels_per_goroutine = 3;
  // Two goroutines: one with 4 labels (one too many), one with 3.
  std::map<std::string, std::string> four{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
  std::map<std::string, std::string> three{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  test::ProtoBuilder b;
  b.Sample(1, {{"main.f"}}, four).Sample(1, {{"main.g"}}, three);
  const std::string debug1 =
      "goroutine profile: total 2\n"
      "1 @ 0x1\n# labels: {\"a\":\"1\", \"b\":\"2\", \"c\":\"3\", \"d\":\"4\"}\n#\t0x1\tmain.f+0x1\tm.go:1\n\n"
      "1 @ 0x2\n# labels: {\"a\":\"1\", \"b\":\"2\", \"c\":\"3\"}\n#\t0x2\tmain.g+0x1\tm.go:2\n\n";
  const std::string debug2 =
      "goroutine 1 [running] {a: 1, b: 2, c: 3, d: 4}:\nmain.f()\n\tm.go:1 +0x1\n\n"
      "goroutine 2 [running] {a: 1, b: 2, c: 3}:\nmain.g()\n\tm.go:2 +0x1\n";
  for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
           {"debug=0", b.Gzipped()}, {"debug=1", debug1}, {"debug=2", debug2}}) {
    CAPTURE(name);
    test::CollectingSink sink;
    auto info = Decode(body, &sink, 0, limits);
    REQUIRE(info.ok());
    REQUIRE(sink.records.size() == 2);
    CHECK(sink.records[0].labels.size() == 3);
    CHECK(sink.records[1].labels.size() == 3);
    CHECK(info->labels_cut_records == 1);
    bool warned = false;
    for (const std::string& w : info->warnings) {
      warned |= w == "1 records carried more than 3 pprof labels; the labels past that many "
                     "were dropped";
    }
    CHECK(warned);
  }
}

}  // namespace gx
