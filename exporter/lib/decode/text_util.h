// Small string helpers shared by the text decoders.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gx {

// memcmp(...) == 0 with the pattern's (usually constant) size: the compiler expands it inline,
// unlike string_view::compare, which ends in a library call per test.
inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}
inline bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() &&
         std::memcmp(s.data() + s.size() - p.size(), p.data(), p.size()) == 0;
}

// Parses a whole string of decimal digits; false on anything else or overflow.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Where Bounded cuts a string longer than max: not inside a UTF-8 sequence.
inline std::size_t BoundedCut(std::string_view s, std::size_t max) {
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence; marks cuts with "…".
inline std::string Bounded(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = BoundedCut(s, max);
  std::string out(s.substr(0, cut));
  out += "\xE2\x80\xA6";
  return out;
}

// Appends Bounded(s, max) to *out without a temporary.
inline void AppendBounded(std::string* out, std::string_view s, std::size_t max) {
  if (s.size() <= max) {
    out->append(s.data(), s.size());
    return;
  }
  std::size_t cut = BoundedCut(s, max);
  out->append(s.data(), cut);
  out->append("\xE2\x80\xA6");
}

// Position of the last `c` in s, or npos. Inline, 16 bytes at a time from the end: the
// byte sought is usually near the end of a short line, where a call to memrchr costs more
// than the search.
inline std::size_t FindLast(std::string_view s, char c) {
  const char* p = s.data();
  std::size_t n = s.size();
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  while (n >= 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
    if (mask != 0) return n - 16 + (31 - static_cast<std::size_t>(__builtin_clz(mask)));
    n -= 16;
  }
#endif
  while (n > 0) {
    if (p[--n] == c) return n;
  }
  return std::string_view::npos;
}

// Splits "file.go:123 +0x1f" or "file.go:123" into file and line; *file views text.
inline bool ParseFileLine(std::string_view text, std::string_view* file, int64_t* line) {
  // Fast path for the shapes traceback lines have ("f.go:12 +0x1f", "f.go:12"): the last ':'
  // (FindLast), 1..18 digits, then either the end
  // or " +0x" and hex digits to the end. Whatever it accepts, the general code below splits
  // the same way (the last ':' is the one before the digits, since neither the digits nor
  // " +0x<hex>" hold one); anything else goes there.
  if (const std::size_t colon = FindLast(text, ':'); colon != std::string_view::npos) {
    const char* p = text.data();
    const std::size_t n = text.size();
    const std::size_t d = colon + 1;
    std::size_t k = d;
    int64_t value = 0;
    while (k < n && k - d < 18 && p[k] >= '0' && p[k] <= '9') value = value * 10 + (p[k++] - '0');
    bool ok = false;
    if (k > d && k == n) {
      ok = text.find(" +0x") == std::string_view::npos;
    } else if (k > d && n - k > 4 && std::memcmp(p + k, " +0x", 4) == 0) {
      ok = true;
      for (std::size_t j = k + 4; j < n && ok; ++j) {
        ok = (p[j] >= '0' && p[j] <= '9') || (p[j] >= 'a' && p[j] <= 'f');
      }
    }
    if (ok) {
      *line = value;
      *file = text.substr(0, d - 1);
      return true;
    }
  }
  std::size_t plus = text.rfind(" +0x");
  if (plus != std::string_view::npos) text = text.substr(0, plus);
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (!ParseInt64(text.substr(colon + 1), line)) return false;
  *file = text.substr(0, colon);
  return true;
}

inline bool ParseFileLine(std::string_view text, std::string* file, int64_t* line) {
  std::string_view view;
  if (!ParseFileLine(text, &view, line)) return false;
  *file = std::string(view);
  return true;
}

}  // namespace gx
