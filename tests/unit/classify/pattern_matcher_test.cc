#include "classify/pattern_matcher.h"

#include <doctest/doctest.h>
#include <re2/re2.h>

#include <random>

#include "classify/classifier.h"
#include "classify/rules.h"
#include "normalize/stack_identity.h"

namespace gx {
namespace {

std::shared_ptr<const re2::RE2> Re(const std::string& pattern) {
  return std::make_shared<const re2::RE2>(pattern);
}

// Strings shaped like what patterns see: function names, states, and near misses.
std::vector<std::string> Texts(const std::vector<std::string>& seeds) {
  std::vector<std::string> out = {"", "?", "main.main", "runtime.gopark", "runtime.chansend",
                                  "runtime.chansend1", "sync.(*Mutex).Lock",
                                  "sync.(*RWMutex).RLock", "sync.(*Mutex).lockSlow",
                                  "net/http.(*conn).serve", "net/http.(*Client).Do",
                                  "golang.org/x/net/http2.(*serverConn).serve",
                                  "chan send (nil chan)", "chan receive", "select (no cases)",
                                  "IO wait", "GC worker (idle)", "syscall.Syscall6"};
  std::mt19937 rng(3);
  for (const std::string& s : seeds) {
    out.push_back(s);
    for (int i = 0; i < 6; ++i) {
      std::string t = s;
      if (t.empty()) t = "x";
      switch (rng() % 4) {
        case 0: t.resize(rng() % (t.size() + 1)); break;
        case 1: t += "x"; break;
        case 2: t[rng() % t.size()] = static_cast<char>('A' + rng() % 58); break;
        case 3: t = "x" + t; break;
      }
      out.push_back(t);
    }
  }
  return out;
}

// Every pattern of a matcher answers exactly as RE2::PartialMatch does.
void CheckAgainstRe2(const std::vector<std::string>& patterns, bool prefilter) {
  PatternMatcher m;
  for (const std::string& p : patterns) m.Add(Re(p), prefilter);
  std::vector<std::string> seeds;
  for (const std::string& p : patterns) {
    std::string min, max;
    if (Re(p)->PossibleMatchRange(&min, &max, 40)) {
      seeds.push_back(min);
      seeds.push_back(max);
    }
  }
  std::vector<uint64_t> bits(m.words());
  for (const std::string& text : Texts(seeds)) {
    m.Match(text, bits.data());
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      CAPTURE(text);
      CAPTURE(patterns[i]);
      CHECK(((bits[i / 64] >> (i % 64)) & 1) == re2::RE2::PartialMatch(text, m.pattern(i)));
    }
  }
}

}  // namespace

TEST_CASE("pattern matcher: prefiltered answers equal RE2's, for every built-in pattern") {
  std::vector<std::string> patterns;
  for (const Rule& r : BuiltinRules()) {
    for (const auto* re : {&r.top_function, &r.leaf_function, &r.state, &r.created_by}) {
      if (*re) patterns.push_back((*re)->pattern());
    }
    for (const auto& re : r.any_function) patterns.push_back(re->pattern());
  }
  CheckAgainstRe2(patterns, true);
  CheckAgainstRe2(patterns, false);
}

TEST_CASE("pattern matcher: tricky syntax is filtered only when it is safe") {
  const std::vector<std::string> patterns = {
      "^abc", "abc", "^a|b", "^(a|b)c", "^(?:ab|cd)e", "^(?i)abc", "^ab*c", "^ab?c",
      "^a(b|c)*d", "^[|(]x", "^a[)|]b", "^\\Qa|b\\E", "^(a|)b", "^ab\\b", "^x\\.(y|z)$",
      "^(?P<n>a|b)c", "^a{2}b", "^", "^$", "^[[:alpha:]]+\\.", "^é|^ü", "^(a(b|c)|d)e",
  };
  CheckAgainstRe2(patterns, true);
  std::vector<PatternMatcher::Start> starts;
  CHECK_FALSE(PatternMatcher::RequiredStarts(*Re("abc"), &starts));   // unanchored
  CHECK_FALSE(PatternMatcher::RequiredStarts(*Re("^a|b"), &starts));  // "b" can be anywhere
  REQUIRE(PatternMatcher::RequiredStarts(*Re("^runtime\\.(bgsweep|runfinq)$"), &starts));
  REQUIRE(starts.size() == 2);
  CHECK(starts[0].prefix == "runtime.bgsweep");
  CHECK(starts[1].prefix == "runtime.runfinq");
}

namespace {

// The classifier as it was before patterns were matched as bitsets: every condition of every
// rule evaluated with RE2 on the input, in order. The reference for the test below.
bool OracleMatches(const Rule& rule, const ClassifyInput& in, int visible) {
  const std::vector<RawFrame>& frames = *in.frames;
  if (rule.state && (in.state.empty() || !re2::RE2::PartialMatch(in.state, *rule.state))) {
    return false;
  }
  if (rule.created_by &&
      (in.created_by.empty() || !re2::RE2::PartialMatch(in.created_by, *rule.created_by))) {
    return false;
  }
  if (rule.leaf_function &&
      (frames.empty() || !re2::RE2::PartialMatch(frames.front().function, *rule.leaf_function))) {
    return false;
  }
  if (rule.top_function && (visible < 0 || !re2::RE2::PartialMatch(frames[visible].function,
                                                                    *rule.top_function))) {
    return false;
  }
  for (const auto& re : rule.any_function) {
    bool found = false;
    for (const RawFrame& f : frames) found = found || re2::RE2::PartialMatch(f.function, *re);
    if (!found) return false;
  }
  const std::size_t blocking = BlockingFrames(frames);
  for (const auto& re : rule.blocked_in) {
    bool found = false;
    for (std::size_t i = 0; i < blocking; ++i) {
      found = found || re2::RE2::PartialMatch(frames[i].function, *re);
    }
    if (!found) return false;
  }
  for (const auto& [key, re] : rule.labels) {
    bool found = false;
    for (const auto& [k, v] : *in.labels) found = found || (k == key && re2::RE2::PartialMatch(v, *re));
    if (!found) return false;
  }
  return true;
}

Classification Oracle(const std::vector<Rule>& user, const ClassifyInput& in) {
  const std::vector<RawFrame>& frames = *in.frames;
  int visible = FirstVisibleFrame(frames);
  for (const Rule& r : user) {
    if (OracleMatches(r, in, visible)) return {r.category, r.name};
  }
  for (const Rule& r : BuiltinRules()) {
    if (!OracleMatches(r, in, visible)) continue;
    Classification c{r.category, r.name};
    if ((c.category == Category::kChanSend || c.category == Category::kChanReceive) &&
        in.state.empty() && IsNilChanFrame(frames)) {
      c = {Category::kNilChan, "nil-chan-frames"};
    }
    return c;
  }
  if (frames.empty()) return {Category::kRuntime, "not-started"};
  if (in.format == ProfileFormat::kProto && frames.front().function != "runtime.gopark" &&
      frames.front().function != "runtime.goparkunlock") {
    return {Category::kRunning, "not-parked"};
  }
  if (in.format == ProfileFormat::kDebug1) return {Category::kUnknown, "primitive-hidden-in-debug1"};
  return {Category::kUnknown, "no-rule"};
}

}  // namespace

TEST_CASE("classifier: pattern bitsets give the answers of rule-by-rule RE2 matching") {
  auto rules = ParseRulesDocument(
      "ignore:\n"
      "  - top_function: 'gowrap'\n"
      "rules:\n"
      "  - {name: u1, category: mutex, any_function: ['^main\\.', 'Sleep'], state: 'receive'}\n"
      "  - {name: u2, category: timer, leaf_function: 'park$', label: {k: '^v'}}\n"
      "  - {name: u3, category: cond, created_by: 'main\\.(start|run)', top_function: '^main'}\n"
      "  - {name: u4, category: select, blocked_in: ['Wait$', '^main\\.']}\n",
      "test");
  REQUIRE(rules.ok());
  const std::vector<std::string> functions = {
      "runtime.gopark", "runtime.goparkunlock", "runtime.chanrecv", "runtime.chansend",
      "runtime.selectgo", "runtime.block", "sync.runtime_Semacquire", "sync.(*WaitGroup).Wait",
      "sync.(*Mutex).Lock", "sync.(*Cond).Wait", "time.Sleep", "net/http.(*conn).serve",
      "bufio.(*Reader).Peek", "internal/poll.runtime_pollWait", "syscall.Syscall6",
      "net/http.(*persistConn).readLoop", "main.main", "main.worker", "main.f.gowrap1",
      "example.com/x.(*T).Run", "golang.org/x/sync/errgroup.(*Group).Wait", "runtime.goexit",
      "golang.org/x/sync/singleflight.(*Group).Do", "sync.(*Once).doSlow"};
  const std::vector<std::string> states = {"", "chan receive", "chan send (nil chan)", "select",
                                           "IO wait", "sleep", "semacquire", "GC worker (idle)",
                                           "sync.Mutex.Lock", "running"};
  const std::vector<std::string> creators = {"", "main.start", "main.other", "net/http.(*Server).Serve"};
  const std::vector<LabelSet> label_sets = {{}, {{"k", "v1"}}, {{"k", "x"}}};
  const std::vector<Rule> no_rules;
  std::mt19937 rng(5);
  const std::vector<Rule>& user_rules = rules.value();
  for (const std::vector<Rule>* user : {&no_rules, &user_rules}) {
    Classifier c(*user);
    for (int round = 0; round < 3000; ++round) {
      std::vector<RawFrame> frames(rng() % 6);
      for (RawFrame& f : frames) {
        f.function = functions[rng() % functions.size()];
        f.start_line = rng() % 3 == 0 ? 100 : 0;
        f.line = 100 + rng() % 60;
      }
      ClassifyInput in;
      in.frames = &frames;
      in.state = states[rng() % states.size()];
      in.created_by = creators[rng() % creators.size()];
      in.labels = &label_sets[rng() % label_sets.size()];
      in.format = static_cast<ProfileFormat>(1 + rng() % 3);
      Classification got = c.Classify(in);
      Classification want = Oracle(*user, in);
      CAPTURE(round);
      CHECK(got.category == want.category);
      CHECK(got.rule == want.rule);
    }
  }
}

}  // namespace gx
