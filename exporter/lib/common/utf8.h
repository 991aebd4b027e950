// Well-formed UTF-8 (RFC 3629 table 3-7, as Go's utf8.Valid and Prometheus' parser check it):
// no overlong forms, no surrogates, nothing past U+10FFFF. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace gx {

// The length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 if there is none.
inline std::size_t Utf8SequenceAt(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i + k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;             // not overlong
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;       // not a surrogate
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;  // not overlong
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;  // <= U+10FFFF
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

inline bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace gx
