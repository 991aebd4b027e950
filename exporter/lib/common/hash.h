// Fast non-cryptographic hashing for in-memory tables (never for ids that leave the
// process: those use FNV-1a, see normalize/stack_identity.h). Tables that use these hashes
// compare keys in full, so a collision costs time, never correctness. Pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace gx {

// Mixes 64 bits into 64 well-spread bits (the 128-bit multiply fold of wyhash).
inline uint64_t HashMix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a ^ 0xa0761d6478bd642fULL) *
                  (b ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Hashes bytes 16 at a time with one multiply per block (wyhash's scheme), so long strings
// (function names are 30 to 100 bytes) cost a few multiplies rather than one per byte.
inline uint64_t HashBytes(std::string_view s, uint64_t seed = 0) {
  const char* p = s.data();
  std::size_t n = s.size();
  uint64_t h = seed ^ HashMix(n, 0x8ebc6af09c88c6e3ULL);
  while (n > 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    h = HashMix(w0 ^ 0x589965cc75374cc3ULL, w1 ^ h);
    p += 16;
    n -= 16;
  }
  // The last 1..16 bytes, read as two words that may overlap.
  uint64_t w0 = 0, w1 = 0;
  if (n >= 8) {
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    w0 = head;
    w1 = tail;
  } else if (n > 0) {
    w0 = (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16) |
         (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
         static_cast<uint8_t>(p[n - 1]);
  }
  return HashMix(w0 ^ 0x1d8e4e27c47d124fULL, w1 ^ h);
}

// Equality of two strings, inline and a word at a time: for the short strings of profiles
// (function names are 20 to 100 bytes) this beats a call to memcmp.
inline bool SameBytes(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) {
      if (p[i] != q[i]) return false;
    }
    return true;
  }
  uint64_t x, y;
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    std::memcpy(&x, p + i, 8);
    std::memcpy(&y, q + i, 8);
    if (x != y) return false;
  }
  std::memcpy(&x, p + n - 8, 8);  // the last 8 bytes, overlapping what was compared
  std::memcpy(&y, q + n - 8, 8);
  return x == y;
}

}  // namespace gx
