// Splits a byte stream into lines across chunk boundaries. Holds at most one partial line,
// capped at max_line_bytes: a longer line is reported once as overlong, with its first bytes,
// and then skipped. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gx {

class LineBuffer {
 public:
  static constexpr std::size_t kOverlongHeadBytes = 16;

  explicit LineBuffer(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Calls on_line(line, terminated=true) for every complete line in chunk (without '\n';
  // a trailing '\r' is kept), and on_overlong(head) once for every line over the cap, with
  // its first min(kOverlongHeadBytes, max_line_bytes + 1) bytes (to tell what it was).
  template <typename OnLine, typename OnOverlong>
  void Feed(std::string_view chunk, OnLine&& on_line, OnOverlong&& on_overlong) {
    const char* base = chunk.data();
    const std::size_t size = chunk.size();
    std::size_t start = 0;  // of the line being read, in chunk
    auto newline_at = [&](std::size_t nl) {
      std::string_view piece(base + start, nl - start);
      if (skipping_) {
        // Discard the rest of an overlong line.
      } else if (pending_.empty() && piece.size() <= max_line_bytes_) {
        in_chunk_ = true;
        on_line(piece, true);  // fast path: no copy
        in_chunk_ = false;
      } else if (pending_.size() + piece.size() > max_line_bytes_) {
        on_overlong(OverlongHead(piece));
        pending_.clear();
      } else {
        pending_.append(piece);
        on_line(std::string_view(pending_), true);
        pending_.clear();
      }
      skipping_ = false;
      start = nl + 1;
    };
    // Newlines are found 64 bytes at a time as a bit mask, then taken bit by bit: no call
    // and no hard-to-predict branch per line, unlike a memchr per line (lines are short).
    std::size_t off = 0;
#if defined(__SSE2__)
    for (; off + 64 <= size; off += 64) {
      for (uint64_t m = NewlineMask64(base + off); m != 0; m &= m - 1) {
        newline_at(off + static_cast<std::size_t>(__builtin_ctzll(m)));
      }
    }
#endif
    while (off < size) {
      const void* nl = std::memchr(base + off, '\n', size - off);
      if (!nl) break;
      std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      newline_at(at);
      off = at + 1;
    }
    // An unterminated rest: kept for the next chunk, unless it makes the line too long.
    if (start < size) {
      std::string_view piece(base + start, size - start);
      if (skipping_) {
        // Discard the rest of an overlong line.
      } else if (pending_.size() + piece.size() > max_line_bytes_) {
        on_overlong(OverlongHead(piece));
        pending_.clear();
        skipping_ = true;
      } else {
        pending_.append(piece);
      }
    }
  }

  // Reports a final unterminated line, if any, with terminated=false.
  template <typename OnLine>
  void Finish(OnLine&& on_line) {
    if (!pending_.empty()) on_line(std::string_view(pending_), false);
    pending_.clear();
  }

  bool mid_line() const { return !pending_.empty() || skipping_; }
  // During on_line: whether the line lies in the chunk being fed (else in a buffer of this
  // class that the next line reuses).
  bool in_chunk() const { return in_chunk_; }

 private:
#if defined(__SSE2__)
  // Bit i set iff p[i] == '\n', for i < 64.
  static uint64_t NewlineMask64(const char* p) {
    const __m128i nl = _mm_set1_epi8('\n');
    auto mask16 = [&](int at) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))));
    };
    return mask16(0) | (mask16(16) << 16) | (mask16(32) << 32) | (mask16(48) << 48);
  }
#endif

  // The first bytes of the overlong line made of pending_ and then piece.
  std::string_view OverlongHead(std::string_view piece) {
    const std::size_t want = std::min(kOverlongHeadBytes, max_line_bytes_ + 1);
    const std::size_t from_pending = std::min(pending_.size(), want);
    std::memcpy(head_, pending_.data(), from_pending);
    const std::size_t from_piece = std::min(piece.size(), want - from_pending);
    std::memcpy(head_ + from_pending, piece.data(), from_piece);
    return std::string_view(head_, from_pending + from_piece);
  }

  std::size_t max_line_bytes_;
  std::string pending_;
  char head_[kOverlongHeadBytes];
  bool skipping_ = false;
  bool in_chunk_ = false;
};

}  // namespace gx
