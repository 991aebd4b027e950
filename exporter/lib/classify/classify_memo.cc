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

const uint64_t* ClassifyMemo::StringBits::Get(
    std::string_view text, std::size_t words,
    const std::function<void(std::string_view, uint64_t*)>& match) {
  auto it = at.find(text);
  if (it == at.end()) {
    it = at.emplace(std::string(text), bits.size()).first;
    bits.resize(bits.size() + words);
    match(text, bits.data() + it->second);
  }
  return bits.data() + it->second;
}

const uint64_t* ClassifyMemo::StateBits(std::string_view state) {
  return states_.Get(state, classifier_->state_words(),
                     [this](std::string_view s, uint64_t* b) { classifier_->MatchState(s, b); });
}

const uint64_t* ClassifyMemo::CreatedByBits(std::string_view created_by) {
  return creators_.Get(created_by, classifier_->created_by_words(),
                       [this](std::string_view s, uint64_t* b) { classifier_->MatchCreatedBy(s, b); });
}

}  // namespace gx
