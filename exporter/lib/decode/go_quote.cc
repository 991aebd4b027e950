#include "decode/go_quote.h"

#include <cstdint>

namespace gx {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads `digits` hex digits at text[i..]; returns -1 if any is missing or invalid.
int64_t ReadHex(std::string_view text, std::size_t i, int digits) {
  if (i + digits > text.size()) return -1;
  int64_t value = 0;
  for (int d = 0; d < digits; ++d) {
    int h = HexValue(text[i + d]);
    if (h < 0) return -1;
    value = value * 16 + h;
  }
  return value;
}

}  // namespace

std::optional<std::string> ReadGoQuoted(std::string_view text, std::size_t* pos) {
  std::size_t i = *pos;
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  ++i;
  std::string out;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      *pos = i + 1;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) return std::nullopt;
    char e = text[i + 1];
    i += 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        int64_t v = ReadHex(text, i, 2);
        if (v < 0) return std::nullopt;
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        int digits = e == 'u' ? 4 : 8;
        int64_t v = ReadHex(text, i, digits);
        if (v < 0) return std::nullopt;
        AppendUtf8(&out, static_cast<uint32_t>(v));
        i += digits;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > text.size()) return std::nullopt;
          int value = e - '0';
          for (int d = 0; d < 2; ++d) {
            char o = text[i + d];
            if (o < '0' || o > '7') return std::nullopt;
            value = value * 8 + (o - '0');
          }
          if (value > 255) return std::nullopt;
          out.push_back(static_cast<char>(value));
          i += 2;
          break;
        }
        return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace gx
