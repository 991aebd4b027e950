// Splits a byte stream into lines across chunk boundaries. Holds at most one partial line,
// capped at max_line_bytes: a longer line is reported once as overlong and then skipped.
// Not thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gx {

class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Calls on_line(line, terminated=true) for every complete line in chunk (without '\n';
  // a trailing '\r' is kept), and on_overlong() once for every line over the cap.
  template <typename OnLine, typename OnOverlong>
  void Feed(std::string_view chunk, OnLine&& on_line, OnOverlong&& on_overlong) {
    while (!chunk.empty()) {
      std::size_t nl = chunk.find('\n');
      std::string_view piece = nl == std::string_view::npos ? chunk : chunk.substr(0, nl);
      if (skipping_) {
        // Discard the rest of an overlong line.
      } else if (pending_.empty() && nl != std::string_view::npos &&
                 piece.size() <= max_line_bytes_) {
        on_line(piece, true);  // fast path: no copy
      } else if (pending_.size() + piece.size() > max_line_bytes_) {
        pending_.clear();
        skipping_ = true;
        on_overlong();
      } else {
        pending_.append(piece);
        if (nl != std::string_view::npos) {
          on_line(std::string_view(pending_), true);
          pending_.clear();
        }
      }
      if (nl == std::string_view::npos) return;
      skipping_ = false;
      chunk.remove_prefix(nl + 1);
    }
  }

  // Reports a final unterminated line, if any, with terminated=false.
  template <typename OnLine>
  void Finish(OnLine&& on_line) {
    if (!pending_.empty()) on_line(std::string_view(pending_), false);
    pending_.clear();
  }

  bool mid_line() const { return !pending_.empty() || skipping_; }

 private:
  std::size_t max_line_bytes_;
  std::string pending_;
  bool skipping_ = false;
};

}  // namespace gx
