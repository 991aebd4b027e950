// The hand-written protobuf reader against libprotobuf, which it replaced: the same verdict on
// every body, and the same contents when both accept it.
#include "decode/pprof_profile.h"

#include <doctest/doctest.h>

#include <random>

#include "../proto_builder.h"
#include "common/limits.h"
#include "decode/proto_wire.h"

namespace gx {
namespace {

std::string Varint(uint64_t v) {
  std::string o;
  while (v >= 0x80) {
    o.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  o.push_back(static_cast<char>(v));
  return o;
}
std::string Tag(uint32_t field, int wire) { return Varint((uint64_t{field} << 3) | wire); }
std::string Bytes(uint32_t field, const std::string& payload) {
  return Tag(field, 2) + Varint(payload.size()) + payload;
}
std::string Group(uint32_t field, const std::string& inside) {
  return Tag(field, 3) + inside + Tag(field, 4);
}

bool LibprotobufAccepts(const std::string& body) {
  perftools::profiles::Profile p;
  return p.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

bool WeAccept(const std::string& body, PprofProfile* out = nullptr) {
  PprofProfile local;
  return ReadPprofProfile(body, Limits().max_proto_nesting, out ? out : &local);
}

// Compares what both parsers read from an accepted body.
void CheckSameContents(const std::string& body) {
  perftools::profiles::Profile p;
  REQUIRE(p.ParseFromArray(body.data(), static_cast<int>(body.size())));
  PprofProfile ours;
  REQUIRE(WeAccept(body, &ours));
  REQUIRE(ours.strings.size() == static_cast<std::size_t>(p.string_table_size()));
  for (int i = 0; i < p.string_table_size(); ++i) CHECK(ours.strings[i] == p.string_table(i));
  CHECK(ours.has_sample_type == (p.sample_type_size() > 0));
  if (ours.has_sample_type) CHECK(ours.first_sample_type == p.sample_type(0).type());
  CHECK(ours.time_nanos == p.time_nanos());
  CHECK(ours.duration_nanos == p.duration_nanos());
  REQUIRE(ours.functions.size() == static_cast<std::size_t>(p.function_size()));
  for (int i = 0; i < p.function_size(); ++i) {
    CHECK(ours.functions[i].id == p.function(i).id());
    CHECK(ours.functions[i].name == p.function(i).name());
    CHECK(ours.functions[i].filename == p.function(i).filename());
    CHECK(ours.functions[i].start_line == p.function(i).start_line());
  }
  REQUIRE(ours.locations.size() == static_cast<std::size_t>(p.location_size()));
  for (int i = 0; i < p.location_size(); ++i) {
    const auto& loc = ours.locations[i];
    CHECK(loc.id == p.location(i).id());
    REQUIRE(loc.line_count == static_cast<uint32_t>(p.location(i).line_size()));
    for (int j = 0; j < p.location(i).line_size(); ++j) {
      CHECK(ours.lines[loc.line_begin + j].function_id == p.location(i).line(j).function_id());
      CHECK(ours.lines[loc.line_begin + j].line == p.location(i).line(j).line());
    }
  }
  REQUIRE(ours.samples.size() == static_cast<std::size_t>(p.sample_size()));
  PprofProfile::SampleContents s;
  for (int i = 0; i < p.sample_size(); ++i) {
    ReadPprofSample(ours.samples[i], &s);
    const auto& want = p.sample(i);
    CHECK(s.first_value == (want.value_size() > 0 ? want.value(0) : 0));
    REQUIRE(s.location_ids.size() == static_cast<std::size_t>(want.location_id_size()));
    for (int j = 0; j < want.location_id_size(); ++j) CHECK(s.location_ids[j] == want.location_id(j));
    REQUIRE(s.labels.size() == static_cast<std::size_t>(want.label_size()));
    for (int j = 0; j < want.label_size(); ++j) {
      CHECK(s.labels[j].key == want.label(j).key());
      CHECK(s.labels[j].str == want.label(j).str());
      CHECK(s.labels[j].num == want.label(j).num());
    }
  }
}

std::string SampleProfile() {
  test::ProtoBuilder b;
  b.Sample(4, {{"runtime.gopark"}, {"runtime.chanrecv", 12, 3}, {"main.f", 40, 30}},
           {{"route", "/a"}, {"tenant", "x"}});
  b.Sample(1, {{"runtime.gopark"}, {"time.Sleep"}});
  return b.Serialize();
}

}  // namespace

TEST_CASE("pprof reader: packed and unpacked scalars, any field order, unknown fields") {
  const std::string base = SampleProfile();
  CheckSameContents(base);

  // A sample written every way the wire format allows: unpacked ids, values split over
  // several fields, labels between ids, unknown fields of every wire type, a group.
  std::string sample = Tag(1, 0) + Varint(1) + Bytes(3, Tag(1, 0) + Varint(1)) +
                       Bytes(1, Varint(2) + Varint(3)) + Tag(2, 0) + Varint(9) +
                       Bytes(2, Varint(8)) + Tag(99, 0) + Varint(5) + Tag(98, 1) +
                       std::string(8, 'x') + Tag(97, 5) + std::string(4, 'y') +
                       Bytes(96, "zz") + Group(95, Tag(1, 0) + Varint(1) + Group(2, ""));
  std::string body = base + Bytes(2, sample) + Tag(9, 0) + Varint(77) + Tag(9, 0) + Varint(78);
  CheckSameContents(body);
  PprofProfile p;
  REQUIRE(WeAccept(body, &p));
  PprofProfile::SampleContents s;
  ReadPprofSample(p.samples.back(), &s);
  CHECK(s.location_ids == std::vector<uint64_t>{1, 2, 3});
  CHECK(s.first_value == 9);
  CHECK(p.time_nanos == 78);  // the last one wins

  // Known fields with an unexpected wire type are unknown fields, as in libprotobuf.
  CheckSameContents(base + Tag(2, 0) + Varint(1) + Tag(6, 0) + Varint(3) + Tag(9, 2) + Varint(0));
}

TEST_CASE("pprof reader: rejects what libprotobuf rejects") {
  const std::string base = SampleProfile();
  const std::string bad[] = {
      base + Tag(0, 0) + Varint(1),                 // field number 0
      base + std::string(1, '\0'),                  // tag 0
      base + Tag(7, 6),                             // wire type 6
      base + Tag(7, 7),                             // wire type 7
      base + Tag(50, 4),                            // end group outside a group
      base + Tag(50, 3) + Tag(51, 4),               // mismatched end group
      base + Tag(50, 3),                            // unterminated group
      base + Tag(9, 0) + std::string(10, '\xff') + "\x01",  // 11-byte varint
      base + Tag(6, 2) + Varint(100) + "short",     // length past the end
      base + Tag(6, 2) + std::string("\xff\xff\xff\xff\x0f", 5),  // 2^32-ish length
      base + Bytes(2, Bytes(1, Varint(1) + "\x80")),  // packed run cut inside a varint
      base + Bytes(2, Tag(1, 2) + Varint(5) + Varint(1)),  // nested length past its message
      std::string("\x5a\xff\xff\xff\xff\x01\x02", 7),  // the decoder test's binary junk
  };
  for (const std::string& body : bad) {
    CAPTURE(body.size());
    CHECK_FALSE(LibprotobufAccepts(body));
    CHECK_FALSE(WeAccept(body));
  }
}

TEST_CASE("pprof reader: a sample's labels are kept up to the cap, the rest still validated") {
  test::ProtoBuilder b;
  b.Sample(1, {{"main.f"}});
  auto* sample = b.profile().mutable_sample(0);
  for (int i = 0; i < 100; ++i) {
    auto* label = sample->add_label();
    label->set_key(1);
    label->set_num(i);
  }
  const std::string body = b.Serialize();
  PprofProfile profile;
  REQUIRE(ReadPprofProfile(body, Limits().max_proto_nesting, &profile, SIZE_MAX, SIZE_MAX, 4));
  REQUIRE(profile.samples.size() == 1);
  PprofProfile::SampleContents contents;
  ReadPprofSample(profile.samples[0], &contents, SIZE_MAX, 4);
  CHECK(contents.labels.size() == 4);
  CHECK(contents.labels_cut);
  CHECK(contents.labels[3].num == 3);
  // A malformed label past the cap still rejects the body, as libprotobuf does.
  const std::string bad = body + Bytes(2, Bytes(3, Tag(1, 2) + Varint(9) + "x"));
  CHECK_FALSE(LibprotobufAccepts(bad));
  PprofProfile rejected;
  CHECK_FALSE(ReadPprofProfile(bad, Limits().max_proto_nesting, &rejected, SIZE_MAX, SIZE_MAX, 0));
}

TEST_CASE("pprof reader: group nesting stops where libprotobuf's recursion limit does") {
  for (int depth = 95; depth <= 102; ++depth) {
    std::string groups;
    for (int i = 0; i < depth; ++i) groups = Group(50, groups);
    for (const std::string& body : {groups, Bytes(2, groups), Bytes(2, Bytes(3, groups))}) {
      CAPTURE(depth);
      CHECK(WeAccept(body) == LibprotobufAccepts(body));
    }
  }
}

TEST_CASE("pprof reader: random mutations get libprotobuf's verdict") {
  const std::string base = SampleProfile();
  std::mt19937_64 rng(11);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string body = base;
    for (int e = 1 + rng() % 3; e > 0 && !body.empty(); --e) {
      std::size_t at = rng() % body.size();
      switch (rng() % 5) {
        case 0: body[at] = static_cast<char>(rng()); break;
        case 1: body.erase(at, 1 + rng() % 6); break;
        case 2: body[at] = static_cast<char>(body[at] ^ (1 << (rng() % 8))); break;
        case 3: body.insert(at, Tag(1 + rng() % 20, rng() % 8)); break;
        case 4: body.resize(at); break;
      }
    }
    const bool lib = LibprotobufAccepts(body);
    REQUIRE_MESSAGE(WeAccept(body) == lib, "round " << round);
    if (lib) {
      ++accepted;
      CheckSameContents(body);
    }
  }
  CHECK(accepted > 500);
}

TEST_CASE("proto reader: varint and length edge cases") {
  std::string ten = std::string(9, '\xff') + "\x01";  // 10 bytes, bits beyond 64 dropped
  ProtoReader r(ten, 1);
  CHECK(r.ReadVarint() == UINT64_MAX);
  CHECK(r.ok());
  ProtoReader cut(std::string_view("\x80", 1), 1);
  cut.ReadVarint();
  CHECK_FALSE(cut.ok());
  CHECK(cut.done());  // a failed reader reads nothing more
}

}  // namespace gx
