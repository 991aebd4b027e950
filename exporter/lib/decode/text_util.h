// Small string helpers shared by the text decoders.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

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

// Splits "file.go:123 +0x1f" or "file.go:123" into file and line; *file views text.
inline bool ParseFileLine(std::string_view text, std::string_view* file, int64_t* line) {
  // Fast path for the shapes traceback lines have ("f.go:12 +0x1f", "f.go:12"): read
  // backwards over the hex offset, " +0x", the decimal line and ':'. Whatever it accepts,
  // the general code below splits the same way; anything else goes there.
  {
    std::size_t i = text.size();
    while (i > 0 && ((text[i - 1] >= '0' && text[i - 1] <= '9') ||
                     (text[i - 1] >= 'a' && text[i - 1] <= 'f'))) {
      --i;
    }
    std::size_t end = std::string_view::npos;
    if (i < text.size() && i >= 4 && std::memcmp(text.data() + i - 4, " +0x", 4) == 0) {
      end = i - 4;  // the last " +0x": hex digits cannot hold a later one
    } else if (text.find(" +0x") == std::string_view::npos) {
      end = text.size();
    }
    if (end != std::string_view::npos) {
      std::size_t d = end;
      while (d > 0 && end - d < 18 && text[d - 1] >= '0' && text[d - 1] <= '9') --d;
      // 1..18 digits after the last ':' (more could overflow: left to from_chars).
      if (d < end && d > 0 && text[d - 1] == ':') {
        int64_t value = 0;
        for (std::size_t k = d; k < end; ++k) value = value * 10 + (text[k] - '0');
        *line = value;
        *file = text.substr(0, d - 1);
        return true;
      }
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
