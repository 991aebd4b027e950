// Assigns each stack a leak category: user ignore-lists and rules first, then the built-in
// rules, then format-aware fallbacks. Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "classify/category.h"
#include "classify/match_cache.h"
#include "classify/rules.h"
#include "decode/raw_record.h"

namespace gx {

struct ClassifyInput {
  const std::vector<RawFrame>* frames = nullptr;  // leaf first
  std::string_view state;                         // "" when the format has none
  std::string_view created_by;
  const LabelSet* labels = nullptr;
  ProfileFormat format = ProfileFormat::kUnknown;
};

struct Classification {
  Category category = Category::kUnknown;
  std::string rule;  // name of the rule that decided, or of the fallback
};

// Which patterns a stack's strings match, as bitsets laid out as the Classifier's Match*
// functions write them. Matching is the expensive part of classifying; a caller that sees
// the same strings again and again (the Aggregator, with a ClassifyMemo) matches each
// distinct string once and passes the bits here. Null means no bits set.
struct ClassifyMatches {
  const uint64_t* leaf = nullptr;        // function patterns matching frames[0]
  const uint64_t* top = nullptr;         // … matching frames[FirstVisibleFrame(frames)]
  const uint64_t* any = nullptr;         // … matching at least one frame
  const uint64_t* blocked = nullptr;     // … matching one of BlockingFramesOf's frames
  const uint64_t* state = nullptr;       // state patterns matching the state
  const uint64_t* created_by = nullptr;  // created_by patterns matching the creator
};

// What the rules look at besides pattern matches.
struct ClassifyStack {
  std::size_t frame_count = 0;
  std::string_view leaf_function;  // frames[0].function
  bool nil_chan_frames = false;    // IsNilChanFrame(frames)
  std::string_view state;
  std::string_view created_by;
  const LabelSet* labels = nullptr;
  ProfileFormat format = ProfileFormat::kUnknown;
};

// A classification whose rule name lives as long as the Classifier.
struct ClassificationRef {
  Category category = Category::kUnknown;
  std::string_view rule;
};

// The frames a nil-channel block is recognised by: runtime.chansend and runtime.chanrecv.
bool IsChanOpFunction(std::string_view function);
// Whether such a frame, at `line` of a function starting at `start_line`, blocks on a nil
// channel.
bool IsNilChanCall(int64_t line, int64_t start_line);
// The first chansend/chanrecv frame blocks on a nil channel.
bool IsNilChanFrame(const std::vector<RawFrame>& frames);

class Classifier {
 public:
  explicit Classifier(std::vector<Rule> user_rules = {});
  Classification Classify(const ClassifyInput& input) const;
  // The same answer, from the stack's facts and the matches of its strings.
  ClassificationRef Classify(const ClassifyStack& stack, const ClassifyMatches& matches) const;

  // The patterns of all rules (user rules, then built-in ones) that a string matches, one
  // bit per pattern in *_words() 64-bit words. Function names are remembered (MatchCache).
  std::size_t function_words() const;
  void MatchFunction(std::string_view function, uint64_t* bits) const;
  std::size_t state_words() const;
  void MatchState(std::string_view state, uint64_t* bits) const;
  std::size_t created_by_words() const;
  void MatchCreatedBy(std::string_view created_by, uint64_t* bits) const;

  // Names of the user rules and ignore-list entries that match on `state` or `created_by`:
  // only debug=2 dumps carry those, so on other formats these rules never decide.
  const std::vector<std::string>& debug2_only_user_rules() const;
  // RulesFingerprint of the user rules: two classifiers with equal ones classify alike.
  uint64_t user_rules_fingerprint() const;

 private:
  struct RuleSet;  // rules compiled to pattern indexes; classifier.cc
  static const RuleSet& Builtin();

  // Built once per Classifier (one per probe): the user rules' patterns are not
  // prefiltered, since working out a prefilter costs about as much as compiling the
  // pattern. The built-in set is compiled, prefilters included, once per process.
  std::shared_ptr<const RuleSet> user_;
  // Function names already matched (copies of this classifier share it: same rules).
  std::shared_ptr<MatchCache> function_matches_ = std::make_shared<MatchCache>();
};

}  // namespace gx
