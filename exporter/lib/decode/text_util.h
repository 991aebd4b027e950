// Small string helpers shared by the text decoders.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace gx {

inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
inline bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Parses a whole string of decimal digits; false on anything else or overflow.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Cuts s to at most max bytes without splitting a UTF-8 sequence; marks cuts with "…".
inline std::string Bounded(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string out(s.substr(0, cut));
  out += "\xE2\x80\xA6";
  return out;
}

// Splits "file.go:123 +0x1f" or "file.go:123" into file and line.
inline bool ParseFileLine(std::string_view text, std::string* file, int64_t* line) {
  std::size_t plus = text.rfind(" +0x");
  if (plus != std::string_view::npos) text = text.substr(0, plus);
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (!ParseInt64(text.substr(colon + 1), line)) return false;
  *file = std::string(text.substr(0, colon));
  return true;
}

}  // namespace gx
