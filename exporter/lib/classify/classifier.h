// Assigns each stack a leak category: user ignore-lists and rules first, then the built-in
// rules, then format-aware fallbacks. Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "classify/category.h"
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

class Classifier {
 public:
  explicit Classifier(std::vector<Rule> user_rules = {});
  Classification Classify(const ClassifyInput& input) const;

 private:
  static bool Matches(const Rule& rule, const ClassifyInput& input, int visible_index);
  std::vector<Rule> user_rules_;
};

}  // namespace gx
