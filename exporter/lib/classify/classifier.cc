#include "classify/classifier.h"

#include <re2/re2.h>

#include "classify/pattern_matcher.h"
#include "normalize/stack_identity.h"

namespace gx {
namespace {

// The runtime parks a nil-channel operation right at the top of chansend/chanrecv, before
// any channel state is touched; a non-nil block happens much further down. With the
// function's start line (debug=0, Go >= 1.20) the two are told apart by the offset of the
// call line. Measured on the corpus: nil at +10..+17, non-nil at +100 and beyond.
constexpr int64_t kNilChanMaxLineOffset = 40;

bool Bit(const uint64_t* bits, std::size_t i) {
  return bits != nullptr && (bits[i / 64] >> (i % 64)) & 1;
}

// A rule with its patterns replaced by their indexes in the set's matchers.
struct CompiledRule {
  const Rule* rule = nullptr;
  int top = -1, leaf = -1, state = -1, created_by = -1;
  std::vector<uint32_t> any, blocked;
};

}  // namespace

bool IsChanOpFunction(std::string_view f) {
  return f == "runtime.chansend" || f == "runtime.chanrecv";
}

bool IsNilChanCall(int64_t line, int64_t start_line) {
  return start_line > 0 && line >= start_line && line - start_line <= kNilChanMaxLineOffset;
}

bool IsNilChanFrame(const std::vector<RawFrame>& frames) {
  for (const RawFrame& f : frames) {
    if (IsChanOpFunction(f.function)) return IsNilChanCall(f.line, f.start_line);
  }
  return false;
}

// Rules in order, with every pattern in one of three matchers by what it is matched against.
struct Classifier::RuleSet {
  RuleSet(std::vector<Rule> rules_in, bool prefilter) : rules(std::move(rules_in)) {
    compiled.reserve(rules.size());
    for (const Rule& r : rules) {
      CompiledRule c;
      c.rule = &r;
      auto add = [&](PatternMatcher& m, const std::shared_ptr<const re2::RE2>& re) {
        return re ? static_cast<int>(m.Add(re, prefilter)) : -1;
      };
      c.top = add(function, r.top_function);
      c.leaf = add(function, r.leaf_function);
      for (const auto& re : r.any_function) c.any.push_back(add(function, re));
      for (const auto& re : r.blocked_in) c.blocked.push_back(add(function, re));
      c.state = add(state, r.state);
      c.created_by = add(created_by, r.created_by);
      compiled.push_back(std::move(c));
      if (r.state || r.created_by) debug2_only.push_back(r.name);
    }
  }
  std::vector<Rule> rules;
  std::vector<std::string> debug2_only;  // names of rules matching on state or created_by
  uint64_t fingerprint = RulesFingerprint(rules);
  std::vector<CompiledRule> compiled;  // points into rules
  PatternMatcher function, state, created_by;
};

namespace {

// Where a rule set's bits start in the combined bitsets (user patterns first).
struct BitOffsets {
  std::size_t function = 0, state = 0, created_by = 0;
};

bool Matches(const CompiledRule& r, const ClassifyStack& in, const ClassifyMatches& m,
             const BitOffsets& at) {
  if (r.state >= 0 && !Bit(m.state, at.state + r.state)) return false;
  if (r.created_by >= 0 && !Bit(m.created_by, at.created_by + r.created_by)) return false;
  if (r.leaf >= 0 && !Bit(m.leaf, at.function + r.leaf)) return false;
  if (r.top >= 0 && !Bit(m.top, at.function + r.top)) return false;
  for (uint32_t i : r.any) {
    if (!Bit(m.any, at.function + i)) return false;
  }
  for (uint32_t i : r.blocked) {
    if (!Bit(m.blocked, at.function + i)) return false;
  }
  for (const auto& [key, re] : r.rule->labels) {
    bool found = false;
    if (in.labels) {
      for (const auto& [k, v] : *in.labels) {
        if (k == key && re2::RE2::PartialMatch(v, *re)) found = true;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

const Classifier::RuleSet& Classifier::Builtin() {
  static const RuleSet builtin(BuiltinRules(), /*prefilter=*/true);
  return builtin;
}

Classifier::Classifier(std::vector<Rule> user_rules)
    : user_(std::make_shared<const RuleSet>(std::move(user_rules), /*prefilter=*/false)) {}

std::size_t Classifier::function_words() const {
  return user_->function.words() + Builtin().function.words();
}
std::size_t Classifier::state_words() const {
  return user_->state.words() + Builtin().state.words();
}
std::size_t Classifier::created_by_words() const {
  return user_->created_by.words() + Builtin().created_by.words();
}

const std::vector<std::string>& Classifier::debug2_only_user_rules() const {
  return user_->debug2_only;
}

uint64_t Classifier::user_rules_fingerprint() const { return user_->fingerprint; }

void Classifier::MatchFunction(std::string_view function, uint64_t* bits) const {
  const std::size_t words = function_words();
  if (function_matches_->Find(function, words, bits)) return;
  user_->function.Match(function, bits);
  Builtin().function.Match(function, bits + user_->function.words());
  function_matches_->Insert(function, words, bits);
}
void Classifier::MatchState(std::string_view state, uint64_t* bits) const {
  user_->state.Match(state, bits);
  Builtin().state.Match(state, bits + user_->state.words());
}
void Classifier::MatchCreatedBy(std::string_view created_by, uint64_t* bits) const {
  user_->created_by.Match(created_by, bits);
  Builtin().created_by.Match(created_by, bits + user_->created_by.words());
}

Classification Classifier::Classify(const ClassifyInput& in) const {
  static const std::vector<RawFrame> kNoFrames;
  const std::vector<RawFrame>& frames = in.frames ? *in.frames : kNoFrames;
  const std::size_t fw = function_words();
  // leaf, top, any, blocked, then one frame's scratch.
  std::vector<uint64_t> bits(5 * fw + state_words() + created_by_words(), 0);
  uint64_t* leaf = bits.data();
  uint64_t* top = leaf + fw;
  uint64_t* any = top + fw;
  uint64_t* blocked = any + fw;
  uint64_t* frame = blocked + fw;
  uint64_t* state = frame + fw;
  uint64_t* created_by = state + state_words();
  const int visible = FirstVisibleFrame(frames);
  const std::size_t blocking = BlockingFrames(frames);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    MatchFunction(frames[i].function, frame);
    for (std::size_t w = 0; w < fw; ++w) any[w] |= frame[w];
    if (i < blocking) {
      for (std::size_t w = 0; w < fw; ++w) blocked[w] |= frame[w];
    }
    if (i == 0) std::copy(frame, frame + fw, leaf);
    if (static_cast<int>(i) == visible) std::copy(frame, frame + fw, top);
  }
  if (!in.state.empty()) MatchState(in.state, state);
  if (!in.created_by.empty()) MatchCreatedBy(in.created_by, created_by);
  ClassifyStack stack;
  stack.frame_count = frames.size();
  if (!frames.empty()) stack.leaf_function = frames.front().function;
  stack.nil_chan_frames = IsNilChanFrame(frames);
  stack.state = in.state;
  stack.created_by = in.created_by;
  stack.labels = in.labels;
  stack.format = in.format;
  ClassificationRef c = Classify(stack, ClassifyMatches{leaf, top, any, blocked, state, created_by});
  return {c.category, std::string(c.rule)};
}

ClassificationRef Classifier::Classify(const ClassifyStack& in,
                                       const ClassifyMatches& given) const {
  // Conditions on a missing frame, state or creator never hold, whatever bits came in.
  ClassifyMatches m = given;
  if (in.frame_count == 0) m.leaf = m.top = m.any = m.blocked = nullptr;
  if (in.state.empty()) m.state = nullptr;
  if (in.created_by.empty()) m.created_by = nullptr;

  const BitOffsets user_at;
  for (const CompiledRule& rule : user_->compiled) {
    if (Matches(rule, in, m, user_at)) return {rule.rule->category, rule.rule->name};
  }
  const BitOffsets builtin_at{user_->function.words() * 64, user_->state.words() * 64,
                              user_->created_by.words() * 64};
  for (const CompiledRule& rule : Builtin().compiled) {
    if (!Matches(rule, in, m, builtin_at)) continue;
    ClassificationRef c{rule.rule->category, rule.rule->name};
    if ((c.category == Category::kChanSend || c.category == Category::kChanReceive) &&
        in.state.empty() && in.nil_chan_frames) {
      c = {Category::kNilChan, kNilChanFramesRule.name};
    }
    return c;
  }
  if (in.frame_count == 0) {
    // Only runtime.goexit on the stack: created but not yet started, a moment's state (and
    // its id is that of no frames at all): benign, not "running".
    return {Category::kRuntime, kNotStartedRule.name};
  }
  if (in.format == ProfileFormat::kProto) {
    // debug=0 keeps runtime frames: a goroutine that is not parked is running or runnable.
    if (in.leaf_function != "runtime.gopark" && in.leaf_function != "runtime.goparkunlock") {
      return {Category::kRunning, kNotParkedRule.name};
    }
  }
  if (in.format == ProfileFormat::kDebug1) {
    return {Category::kUnknown, kHiddenInDebug1Rule.name};
  }
  return {Category::kUnknown, kNoRule.name};
}

}  // namespace gx
