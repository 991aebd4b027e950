// Classification rules: the built-in set (compiled from builtin_rules.yaml) and user rules
// and ignore-lists from a config file. Rules are immutable once compiled; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "classify/category.h"
#include "common/status.h"

namespace re2 {
class RE2;
}
namespace YAML {
class Node;
}

namespace gx {

// One rule: every condition that is set must hold; the first matching rule wins.
// Patterns are RE2 (linear time, no backtracking), partial matches unless anchored.
struct Rule {
  std::string name;
  Category category = Category::kUnknown;
  std::shared_ptr<const re2::RE2> top_function;   // first frame a debug=2 dump would show
  std::shared_ptr<const re2::RE2> leaf_function;  // innermost frame as recorded
  std::vector<std::shared_ptr<const re2::RE2>> any_function;  // each must match some frame
  // Each must match a frame where the goroutine blocks: the runtime and sync frames at the
  // top of the stack, or the frame that called them (BlockingFramesOf).
  std::vector<std::shared_ptr<const re2::RE2>> blocked_in;
  std::shared_ptr<const re2::RE2> created_by;
  std::shared_ptr<const re2::RE2> state;  // wait reason / status; never matches if unknown
  std::vector<std::pair<std::string, std::shared_ptr<const re2::RE2>>> labels;
};

// Parses a YAML sequence of rules. `ignore_list` entries get category "ignored" and need no
// category key. Unknown keys, bad categories and bad patterns are errors naming the line.
Result<std::vector<Rule>> ParseRules(const YAML::Node& sequence, const std::string& source,
                                     bool ignore_list);

// Parses a rules document: top-level `rules:` and `ignore:` sequences (both optional).
Result<std::vector<Rule>> ParseRulesDocument(const std::string& yaml_text,
                                             const std::string& source);

// A 64-bit digest of rules as written (names, categories, patterns, in order): equal rules
// from two config loads give equal digests.
uint64_t RulesFingerprint(const std::vector<Rule>& rules);

// The built-in rules, compiled once.
const std::vector<Rule>& BuiltinRules();

// The embedded YAML text of the built-in rules (for --print-builtin-rules and tests).
const char* BuiltinRulesYaml();

// Decisions the classifier makes in code, around the rules; `name` is the rule a stack then
// reports (Classifier::Classify).
struct CodeRule {
  const char* name;
  const char* meaning;
};
inline constexpr CodeRule kNilChanFramesRule = {
    "nil-chan-frames",
    "debug=0 or debug=1: a chan_send or chan_receive rule matched, and the call's offset in "
    "its function shows a nil channel"};
inline constexpr CodeRule kNotStartedRule = {
    "not-started", "no frames but runtime.goexit: created, not yet run (runtime)"};
inline constexpr CodeRule kNotParkedRule = {
    "not-parked", "debug=0, no rule matched and the leaf is not runtime.gopark: running"};
inline constexpr CodeRule kHiddenInDebug1Rule = {
    "primitive-hidden-in-debug1",
    "debug=1, no rule matched: the runtime frames that show the primitive are hidden (unknown)"};
inline constexpr CodeRule kNoRule = {"no-rule", "nothing matched (unknown)"};
inline constexpr CodeRule kCodeRules[] = {kNilChanFramesRule, kNotStartedRule, kNotParkedRule,
                                          kHiddenInDebug1Rule, kNoRule};

}  // namespace gx
