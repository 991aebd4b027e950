#include "aggregate/stack_shape_cache.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "aggregate/aggregator.h"
#include "../proto_builder.h"

namespace gx {
namespace {

std::string Body(int64_t chan_line) {
  test::ProtoBuilder b;
  b.Sample(4, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"}, {"main.f", chan_line}});
  b.Sample(3, {{"runtime.gopark"}, {"time.Sleep"}, {"main.g"}});
  return b.Gzipped();
}

const StackSummary& StackOf(const Snapshot& s, const std::string& function) {
  for (const StackSummary& st : s.stacks) {
    if (st.function() == function) return st;
  }
  FAIL("no stack for " << function);
  return s.stacks.front();
}

}  // namespace

TEST_CASE("stack shapes are shared between captures of the same code") {
  Classifier classifier;
  StackShapeCache cache(100);
  auto a = AnalyzeBody(Body(10), classifier, Limits(), "a", &cache);
  auto b = AnalyzeBody(Body(10), classifier, Limits(), "b", &cache);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->stacks.size() == 2);
  for (const StackSummary& st : a->stacks) {
    const StackSummary* other = b->FindStack(st.id);
    REQUIRE(other != nullptr);
    CHECK(other->shape == st.shape);  // the same object, not a copy
  }
  CHECK(cache.size() == 2);

  // Same identity, another line: its own shape (frames are shown with their lines), same id.
  auto c = AnalyzeBody(Body(11), classifier, Limits(), "c", &cache);
  REQUIRE(c.ok());
  const StackSummary& f10 = StackOf(a.value(), "main.f");
  const StackSummary& f11 = StackOf(c.value(), "main.f");
  CHECK(f10.id == f11.id);
  CHECK(f10.shape != f11.shape);
  CHECK(f11.frames().back().line == 11);
  CHECK(f10.frames().back().line == 10);
  CHECK(StackOf(c.value(), "main.g").shape == StackOf(a.value(), "main.g").shape);

  // Without a cache every capture builds its own, equal ones.
  auto d = AnalyzeBody(Body(10), classifier, Limits(), "d");
  REQUIRE(d.ok());
  const StackSummary& fd = StackOf(d.value(), "main.f");
  CHECK(fd.shape != f10.shape);
  CHECK(fd.frames().size() == f10.frames().size());
  CHECK(fd.identity() == f10.identity());
  CHECK(fd.location() == f10.location());
}

TEST_CASE("the shape cache forgets shapes no snapshot holds and stays within its cap") {
  Classifier classifier;
  StackShapeCache cache(100000);
  // Many captures, each with stacks never seen again: dead entries are swept once the index
  // reaches 1,024 entries, so it stays near what is live (one snapshot at a time here), far
  // below the 3,000 inserts.
  for (int i = 0; i < 1500; ++i) {
    test::ProtoBuilder b;
    b.Sample(1, {{"runtime.gopark"}, {"main.f" + std::to_string(i)}});
    b.Sample(1, {{"runtime.gopark"}, {"main.g" + std::to_string(i)}});
    auto s = AnalyzeBody(b.Gzipped(), classifier, Limits(), "x", &cache);
    REQUIRE(s.ok());
    REQUIRE(s->stacks.size() == 2);
  }
  CHECK(cache.size() <= 1024);

  // A full cache of live shapes refuses new entries but still returns correct shapes. The
  // smallest cache holds one shape per shard (16 in all).
  StackShapeCache tiny(1);
  test::ProtoBuilder b;
  for (int i = 0; i < 100; ++i) b.Sample(1, {{"runtime.gopark"}, {"main.h" + std::to_string(i)}});
  const std::string body = b.Gzipped();
  auto s1 = AnalyzeBody(body, classifier, Limits(), "s1", &tiny);
  auto s2 = AnalyzeBody(body, classifier, Limits(), "s2", &tiny);
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(tiny.size() <= 16);
  REQUIRE(s2->stacks.size() == 100);
  int shared = 0;
  for (const StackSummary& st : s2->stacks) {
    REQUIRE(st.frames().size() == 2);
    CHECK(st.function() == st.frames()[1].function);
    const StackSummary* other = s1->FindStack(st.id);
    REQUIRE(other != nullptr);
    CHECK(other->function() == st.function());
    shared += other->shape == st.shape;
  }
  CHECK(shared <= 16);
}

TEST_CASE("the shape cache tells shapes with one fingerprint apart and grows") {
  StackShapeCache cache(100000);
  auto shape_named = [](const std::string& name) {
    auto shape = std::make_shared<StackShape>();
    shape->location = name;
    return std::shared_ptr<const StackShape>(std::move(shape));
  };
  auto named = [](const std::string& name) {
    return [name](const StackShape& s) { return s.location == name; };
  };
  // Three shapes share a fingerprint (a collision); each is found by its own frames.
  std::vector<std::shared_ptr<const StackShape>> held;
  for (const char* name : {"a", "b", "c"}) {
    held.push_back(cache.Insert(42, shape_named(name), named(name)));
  }
  for (const char* name : {"a", "b", "c"}) {
    auto found = cache.Find(42, named(name));
    REQUIRE(found != nullptr);
    CHECK(found->location == name);
  }
  CHECK(cache.Find(42, named("d")) == nullptr);
  CHECK(cache.Find(43, named("a")) == nullptr);
  // Inserting an equal shape again returns the one already there.
  CHECK(cache.Insert(42, shape_named("b"), named("b")) == held[1]);

  // Many fingerprints in every shard: the arrays grow and every entry stays findable.
  for (uint64_t i = 0; i < 5000; ++i) {
    const uint64_t fp = i * 0x9e3779b97f4a7c15ULL;
    held.push_back(cache.Insert(fp, shape_named(std::to_string(i)), named(std::to_string(i))));
  }
  CHECK(cache.size() == 5003);
  for (uint64_t i = 0; i < 5000; ++i) {
    const uint64_t fp = i * 0x9e3779b97f4a7c15ULL;
    auto found = cache.Find(fp, named(std::to_string(i)));
    REQUIRE(found != nullptr);
    CHECK(found == held[3 + i]);
  }
  // A dropped shape is not found; its entry is reused by the next shape with its fingerprint.
  held[0].reset();
  CHECK(cache.Find(42, named("a")) == nullptr);
  auto again = cache.Insert(42, shape_named("a"), named("a"));
  CHECK(cache.Find(42, named("a")) == again);
  CHECK(cache.size() == 5003);
}

TEST_CASE("captures on several threads share one shape cache") {
  // As the prober does: every thread analyzes bodies of the same code (plus stacks of its
  // own), dropping its results as it goes, so that shapes die, entries are swept and reused
  // while other threads look them up.
  Classifier classifier;
  StackShapeCache cache(4096);
  constexpr int kThreads = 4, kRounds = 150;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        test::ProtoBuilder b;
        b.Sample(4, {{"runtime.gopark"}, {"runtime.chanrecv"}, {"runtime.chanrecv1"},
                     {"main.shared", 10}});
        b.Sample(1, {{"runtime.gopark"}, {"main.own" + std::to_string(t * kRounds + round)}});
        auto s = AnalyzeBody(b.Gzipped(), classifier, Limits(), "x", &cache);
        if (!s.ok() || s->stacks.size() != 2) return;
        ids[t].push_back(s->stacks[0].id + "/" + std::string(s->stacks[0].function()) + "/" +
                         std::string(s->stacks[1].function()));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(ids[t].size() == kRounds);
    for (int round = 0; round < kRounds; ++round) {
      CHECK(ids[t][round] == ids[0][0].substr(0, ids[0][0].rfind('/')) + "/main.own" +
                                 std::to_string(t * kRounds + round));
    }
  }
  CHECK(cache.size() <= 4096);
}

}  // namespace gx
