#include "classify/classify_memo.h"

#include <algorithm>

namespace gx {

ClassifyMemo::ClassifyMemo(const Classifier* classifier)
    : classifier_(classifier), function_words_(classifier->function_words()) {}

const uint64_t* ClassifyMemo::FunctionBits(uint32_t id, std::string_view name) {
  if (id >= function_done_.size()) {
    function_done_.resize(id + 1, false);
    function_bits_.resize((id + 1) * function_words_, 0);
  }
  uint64_t* bits = function_bits_.data() + id * function_words_;
  if (!function_done_[id]) {
    classifier_->MatchFunction(name, bits);
    function_done_[id] = true;
  }
  return bits;
}

const uint64_t* ClassifyMemo::StateBits(std::string_view state) {
  const std::size_t words = classifier_->state_words();
  auto it = state_at_.find(state);
  if (it == state_at_.end()) {
    it = state_at_.emplace(std::string(state), state_bits_.size()).first;
    state_bits_.resize(state_bits_.size() + words);
    classifier_->MatchState(state, state_bits_.data() + it->second);
  }
  return state_bits_.data() + it->second;
}

const uint64_t* ClassifyMemo::CreatedByBits(std::string_view created_by) {
  const std::size_t words = classifier_->created_by_words();
  auto it = created_by_at_.find(created_by);
  if (it == created_by_at_.end()) {
    it = created_by_at_.emplace(std::string(created_by), created_by_bits_.size()).first;
    created_by_bits_.resize(created_by_bits_.size() + words);
    classifier_->MatchCreatedBy(created_by, created_by_bits_.data() + it->second);
  }
  return created_by_bits_.data() + it->second;
}

}  // namespace gx
