#include "aggregate/function_table.h"

#include <cstring>

#include "classify/classifier.h"
#include "decode/text_util.h"

namespace gx {

bool FunctionTable::IsSelfSampleFunction(std::string_view f) {
  return StartsWith(f, "runtime/pprof.write") ||
         f == "runtime/pprof.runtime_goroutineProfileWithLabels" ||
         f == "runtime.goroutineProfileWithLabels";
}

bool FunctionTable::HasKeyDelimiter(std::string_view s) {
  // All three are control bytes: rule out eight bytes at a time, then look closer.
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    if (((w - 0x20 * kOnes) & ~w & kHigh) != 0) break;  // some byte below 0x20
  }
  for (char c : s.substr(i)) {
    // All three are control bytes: one compare rules out nearly every byte.
    if (static_cast<unsigned char>(c) < 0x20 && (c == '\n' || c == '\x1e' || c == '\x1f')) {
      return true;
    }
  }
  return false;
}

uint32_t FunctionTable::Insert(std::string_view name) {
  bool added = false;
  uint32_t id = names_.Insert(name, &added);
  if (added) {
    Traits& t = traits_.emplace_back();
    t.identity = TraitsOf(name);
    t.self_sample = IsSelfSampleFunction(name);
    t.chan_op = IsChanOpFunction(name);
    t.key_delimiter = HasKeyDelimiter(name);
  }
  return id;
}

}  // namespace gx
