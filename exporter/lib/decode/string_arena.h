// Holds copies of strings in fixed-size blocks, so views into it stay valid until Clear()
// (which keeps the blocks for reuse). Used for what one record needs to outlive the input
// chunk it came from. Strings longer than a block get a block of their own. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace gx {

class StringArena {
 public:
  std::string_view Append(std::string_view s) { return Append(s, {}); }
  // Appends a and b as one string.
  std::string_view Append(std::string_view a, std::string_view b) {
    const std::size_t n = a.size() + b.size();
    if (n == 0) return {};
    if (block_ == blocks_.size() || used_ + n > blocks_[block_].size) NextBlock(n);
    char* out = blocks_[block_].data.get() + used_;
    if (!a.empty()) std::memcpy(out, a.data(), a.size());
    if (!b.empty()) std::memcpy(out + a.size(), b.data(), b.size());
    used_ += n;
    return std::string_view(out, n);
  }
  void Clear() {
    block_ = 0;
    used_ = 0;
  }

 private:
  static constexpr std::size_t kBlockBytes = 16 * 1024;
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };
  void NextBlock(std::size_t need) {
    if (block_ < blocks_.size()) ++block_;
    // Reuse the next kept block if the string fits, else put a right-sized one there.
    if (block_ == blocks_.size()) blocks_.emplace_back();
    Block& b = blocks_[block_];
    if (b.size < need) {
      b.size = std::max(kBlockBytes, need);
      b.data.reset(new char[b.size]);
    }
    used_ = 0;
  }

  std::vector<Block> blocks_;
  std::size_t block_ = 0;  // the block being filled; == blocks_.size() before the first
  std::size_t used_ = 0;
};

}  // namespace gx
