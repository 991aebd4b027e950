#include "normalize/stack_identity.h"

#include <cctype>

#include "decode/text_util.h"

namespace gx {

bool IsHiddenRuntimeFrame(std::string_view f) {
  if (StartsWith(f, "internal/runtime/")) return true;
  if (!StartsWith(f, "runtime.")) return false;
  if (f.size() <= 8) return true;
  // runtime.Gosched, runtime.GC, runtime.Goexit… are shown; "runtime.(*T).m" is not.
  return !std::isupper(static_cast<unsigned char>(f[8]));
}

bool IsPrimitiveImplFrame(std::string_view f) {
  if (StartsWith(f, "runtime.") || StartsWith(f, "internal/")) return true;
  if (StartsWith(f, "sync.runtime_")) return true;
  if (StartsWith(f, "sync.") && EndsWith(f, "Slow")) return true;  // (*Mutex).lockSlow
  return false;
}

bool IsWrapperFrame(std::string_view f) {
  if (EndsWith(f, "-fm")) return true;
  std::size_t dot = f.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view last = f.substr(dot + 1);
  if (!StartsWith(last, "gowrap") || last.size() == 6) return false;
  for (char c : last.substr(6)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsLibraryFunction(std::string_view f) {
  if (StartsWith(f, "golang.org/x/")) return true;
  if (StartsWith(f, "main.")) return false;
  // The package path is everything before the first '.' after its last '/'. Receivers such
  // as "(*T)" and generic arguments come later, so only look before the first '(' or '['.
  std::string_view head = f.substr(0, f.find_first_of("(["));
  std::size_t slash = head.find('/');
  if (slash == std::string_view::npos) {
    // One-element package path ("sync", "time"): the standard library.
    return true;
  }
  // A module path's first element has a dot ("github.com"); the standard library's does
  // not ("net/http", "internal/poll").
  return head.substr(0, slash).find('.') == std::string_view::npos;
}

std::string HashToId(uint64_t hash) {
  static const char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[i] = kHex[hash & 0xF];
    hash >>= 4;
  }
  return id;
}

StackIdentity ComputeStackIdentity(const std::vector<RawFrame>& frames, const Limits& limits) {
  StackIdentity identity;
  std::size_t i = 0;
  while (i < frames.size() && IsPrimitiveImplFrame(frames[i].function)) ++i;
  for (; i < frames.size() && identity.functions.size() < limits.identity_frames; ++i) {
    const std::string& f = frames[i].function;
    if (IsHiddenRuntimeFrame(f) || IsWrapperFrame(f)) continue;
    identity.functions.push_back(f);
  }
  if (identity.functions.empty()) {
    // Only runtime frames (debug=1/2 then print them all): use them as they are.
    for (const RawFrame& frame : frames) {
      if (identity.functions.size() >= limits.identity_frames) break;
      if (frame.function != "runtime.goexit") identity.functions.push_back(frame.function);
    }
  }
  // FNV-1a 64 over the names, each terminated by '\n' (never part of a Go symbol), so the
  // encoding is unambiguous and the id is reproducible by anyone.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::string& f : identity.functions) {
    for (unsigned char c : f) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= '\n';
    h *= 0x100000001b3ULL;
  }
  identity.hash = h;
  identity.id = HashToId(h);
  return identity;
}

int FirstVisibleFrame(const std::vector<RawFrame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!IsHiddenRuntimeFrame(frames[i].function) && !IsWrapperFrame(frames[i].function)) {
      return static_cast<int>(i);
    }
  }
  return frames.empty() ? -1 : 0;
}

int FirstApplicationFrame(const std::vector<RawFrame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::string& f = frames[i].function;
    if (f == "?" || IsPrimitiveImplFrame(f) || IsWrapperFrame(f) || IsLibraryFunction(f)) {
      continue;
    }
    return static_cast<int>(i);
  }
  // Only standard-library frames (an HTTP transport loop, an accept loop): the outermost
  // visible frame is the goroutine's start function, which says the most about it.
  for (std::size_t i = frames.size(); i-- > 0;) {
    const std::string& f = frames[i].function;
    if (f != "?" && !IsHiddenRuntimeFrame(f) && !IsWrapperFrame(f)) return static_cast<int>(i);
  }
  return FirstVisibleFrame(frames);
}

}  // namespace gx
