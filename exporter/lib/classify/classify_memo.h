// Remembers, for one capture, which of a Classifier's patterns every distinct function name,
// state and creator matches, so each is matched once however many frames, rules and buckets
// repeat it; a stack's any_function test then becomes an OR of bitsets (ClassifyMatches).
// Not thread-safe; one per capture (the Classifier stays shared and immutable).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "classify/classifier.h"

namespace gx {

class ClassifyMemo {
 public:
  explicit ClassifyMemo(const Classifier* classifier);

  std::size_t function_words() const { return function_words_; }
  // The function patterns `name` matches; `id` is the caller's dense id for that name (a
  // name always has the same id). Valid until the next call with a new id.
  const uint64_t* FunctionBits(uint32_t id, std::string_view name);
  const uint64_t* StateBits(std::string_view state);
  const uint64_t* CreatedByBits(std::string_view created_by);

 private:
  const Classifier* classifier_;
  std::size_t function_words_;
  std::vector<uint64_t> function_bits_;  // function_words_ per id
  std::vector<bool> function_done_;
  // Distinct states and creators are few; their bits live in one array each.
  struct StringBits {
    // The bits of `text` (`words` words), matched once with `match`.
    const uint64_t* Get(std::string_view text, std::size_t words,
                        const std::function<void(std::string_view, uint64_t*)>& match);
    std::map<std::string, std::size_t, std::less<>> at;  // offset into bits
    std::vector<uint64_t> bits;
  };
  StringBits states_, creators_;
};

}  // namespace gx
