#include "classify/classifier.h"

#include <re2/re2.h>

#include "normalize/stack_identity.h"

namespace gx {
namespace {

// The runtime parks a nil-channel operation right at the top of chansend/chanrecv, before
// any channel state is touched; a non-nil block happens much further down. With the
// function's start line (debug=0, Go >= 1.20) the two are told apart by the offset of the
// call line. Measured on the corpus: nil at +10..+17, non-nil at +100 and beyond.
constexpr int64_t kNilChanMaxLineOffset = 40;

bool IsNilChanFrame(const std::vector<RawFrame>& frames) {
  for (const RawFrame& f : frames) {
    if (f.function == "runtime.chansend" || f.function == "runtime.chanrecv") {
      return f.start_line > 0 && f.line >= f.start_line &&
             f.line - f.start_line <= kNilChanMaxLineOffset;
    }
  }
  return false;
}

}  // namespace

Classifier::Classifier(std::vector<Rule> user_rules) : user_rules_(std::move(user_rules)) {}

bool Classifier::Matches(const Rule& rule, const ClassifyInput& in, int visible_index) {
  const std::vector<RawFrame>& frames = *in.frames;
  if (rule.state) {
    if (in.state.empty() || !re2::RE2::PartialMatch(in.state, *rule.state)) return false;
  }
  if (rule.created_by) {
    if (in.created_by.empty() || !re2::RE2::PartialMatch(in.created_by, *rule.created_by)) {
      return false;
    }
  }
  if (rule.leaf_function) {
    if (frames.empty() || !re2::RE2::PartialMatch(frames.front().function, *rule.leaf_function)) {
      return false;
    }
  }
  if (rule.top_function) {
    if (visible_index < 0 ||
        !re2::RE2::PartialMatch(frames[visible_index].function, *rule.top_function)) {
      return false;
    }
  }
  for (const auto& re : rule.any_function) {
    bool found = false;
    for (const RawFrame& f : frames) {
      if (re2::RE2::PartialMatch(f.function, *re)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const auto& [key, re] : rule.labels) {
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

Classification Classifier::Classify(const ClassifyInput& in) const {
  static const std::vector<RawFrame> kNoFrames;
  ClassifyInput input = in;
  if (!input.frames) input.frames = &kNoFrames;
  int visible = FirstVisibleFrame(*input.frames);
  for (const Rule& rule : user_rules_) {
    if (Matches(rule, input, visible)) return {rule.category, rule.name};
  }
  for (const Rule& rule : BuiltinRules()) {
    if (!Matches(rule, input, visible)) continue;
    Classification c{rule.category, rule.name};
    if ((c.category == Category::kChanSend || c.category == Category::kChanReceive) &&
        input.state.empty() && IsNilChanFrame(*input.frames)) {
      c = {Category::kNilChan, "nil-chan-frames"};
    }
    return c;
  }
  const std::vector<RawFrame>& frames = *input.frames;
  if (frames.empty()) {
    // Only runtime.goexit on the stack: created but not yet started.
    return {Category::kRunning, "not-started"};
  }
  if (input.format == ProfileFormat::kProto && !frames.empty()) {
    // debug=0 keeps runtime frames: a goroutine that is not parked is running or runnable.
    const std::string& leaf = frames.front().function;
    if (leaf != "runtime.gopark" && leaf != "runtime.goparkunlock") {
      return {Category::kRunning, "not-parked"};
    }
  }
  if (input.format == ProfileFormat::kDebug1) {
    return {Category::kUnknown, "primitive-hidden-in-debug1"};
  }
  return {Category::kUnknown, "no-rule"};
}

}  // namespace gx
