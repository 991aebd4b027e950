// Stable stack identity: which frames make a stack's id, and which frame a human should
// look at first. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/limits.h"
#include "decode/raw_record.h"

namespace gx {

// Frames debug=2 tracebacks never print (runtime.showframe): unexported runtime.* functions,
// internal/runtime/*, and runtime.goexit. Exported ones (runtime.Gosched) stay visible.
bool IsHiddenRuntimeFrame(std::string_view function);

// Frames that implement a blocking primitive rather than call it: hidden runtime frames,
// any runtime.*, internal/* (internal/poll, internal/sync), sync.runtime_* linkname stubs and
// the sync slow paths. Their names changed across Go versions (sync.runtime_SemacquireMutex
// became internal/sync.runtime_SemacquireMutex in 1.24), so leading ones are not identity.
bool IsPrimitiveImplFrame(std::string_view function);

// Compiler-generated wrappers that some formats show and others elide: "-fm" method values
// and the ".gowrapN" functions of Go 1.22+ go statements.
bool IsWrapperFrame(std::string_view function);

// Standard library, golang.org/x or a widely used client or framework (gRPC, Redis, SQL
// drivers, Kafka, OpenTelemetry, client-go, ...): not where an application engineer starts
// reading.
bool IsLibraryFunction(std::string_view function);

// Generic instantiations as debug=1 and debug=2 print them. debug=0 names the shapes
// ("iter.Pull[go.shape.int].func1.1", "main.(*Pool[go.shape.string]).worker"), the text
// formats print "[...]" (runtime.funcNameForPrint); without this the same stack would have
// one id in debug=0 and another in debug=2. Writes the canonical name into *out and returns
// true when it differs from `function`. Brackets are matched by depth (shapes nest them:
// "go.shape.map[string]int"), and skipped inside quoted struct tags; an unbalanced name is
// left as it is.
bool CanonicalFunctionName(std::string_view function, std::string* out);

// What the rules below say about one function name, worked out once per distinct name by
// callers that see the same names many times (the Aggregator); the *Of functions take
// frames as a count and a function from index to traits, and agree with the functions
// above and below that take frames.
struct FunctionTraits {
  bool hidden_runtime = false;  // IsHiddenRuntimeFrame
  bool primitive_impl = false;  // IsPrimitiveImplFrame
  bool wrapper = false;         // IsWrapperFrame
  bool library = false;         // IsLibraryFunction
  bool unknown = false;         // "?"
  bool goexit = false;          // "runtime.goexit"
  bool sync_package = false;    // a function of package sync ("sync.(*RWMutex).Lock")
};
FunctionTraits TraitsOf(std::string_view function);

// Indexes of the frames whose names make up the identity (see ComputeStackIdentity).
template <typename TraitsAt>
void IdentityFramesOf(std::size_t n, TraitsAt&& traits, std::size_t max_frames,
                      std::vector<uint32_t>* out) {
  out->clear();
  std::size_t i = 0;
  while (i < n && traits(i).primitive_impl) ++i;
  // A sync frame called by another one is part of how the caller's primitive works
  // (RWMutex.Lock first takes an inner Mutex): the outermost sync frame names the wait, so
  // writers queued on that inner Mutex and writers waiting for readers share one identity.
  while (i + 1 < n && traits(i).sync_package && traits(i + 1).sync_package) ++i;
  for (; i < n && out->size() < max_frames; ++i) {
    const FunctionTraits& t = traits(i);
    if (t.hidden_runtime || t.wrapper) continue;
    out->push_back(static_cast<uint32_t>(i));
  }
  if (out->empty()) {
    // Only runtime frames (debug=1/2 then print them all): use them as they are.
    for (std::size_t j = 0; j < n && out->size() < max_frames; ++j) {
      if (!traits(j).goexit) out->push_back(static_cast<uint32_t>(j));
    }
  }
}

// How many frames, leaf first, show where a goroutine blocks: the runtime and sync frames at
// the top of the stack (how it waits), and the one that called them (what it waits in: a
// singleflight.Group.Do, a sync.Once's doSlow is among the sync frames). Rules match them
// with `blocked_in`, to tell a goroutine waiting in a primitive from one whose own code,
// called from further out, happens to wait on the same kind of primitive.
template <typename TraitsAt>
std::size_t BlockingFramesOf(std::size_t n, TraitsAt&& traits) {
  std::size_t i = 0;
  for (; i < n; ++i) {
    const FunctionTraits& t = traits(i);
    if (!t.hidden_runtime && !t.primitive_impl && !t.sync_package) break;
  }
  return i < n ? i + 1 : n;
}

template <typename TraitsAt>
int FirstVisibleFrameOf(std::size_t n, TraitsAt&& traits) {
  for (std::size_t i = 0; i < n; ++i) {
    const FunctionTraits& t = traits(i);
    if (!t.hidden_runtime && !t.wrapper) return static_cast<int>(i);
  }
  return n == 0 ? -1 : 0;
}

template <typename TraitsAt>
int FirstApplicationFrameOf(std::size_t n, TraitsAt&& traits) {
  for (std::size_t i = 0; i < n; ++i) {
    const FunctionTraits& t = traits(i);
    if (t.unknown || t.primitive_impl || t.wrapper || t.library) continue;
    return static_cast<int>(i);
  }
  // Only standard-library frames (an HTTP transport loop, an accept loop): the outermost
  // visible frame is the goroutine's start function, which says the most about it.
  for (std::size_t i = n; i-- > 0;) {
    const FunctionTraits& t = traits(i);
    if (!t.unknown && !t.hidden_runtime && !t.wrapper) return static_cast<int>(i);
  }
  return FirstVisibleFrameOf(n, traits);
}

// The identity hash: FNV-1a 64 over the names, each terminated by '\n' (never part of a Go
// symbol), so the encoding is unambiguous and the id is reproducible by anyone. Start from
// kIdentityHashSeed and append the names in order.
inline constexpr uint64_t kIdentityHashSeed = 0xcbf29ce484222325ULL;
inline uint64_t IdentityHashAppend(uint64_t h, std::string_view function) {
  for (unsigned char c : function) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= '\n';
  h *= 0x100000001b3ULL;
  return h;
}

// FNV-1a 64 from kIdentityHashSeed over each of `inputs` (out[i] for inputs[i]), the same
// as IdentityHashAppend over the names of a stack when inputs[i] is those names each
// followed by '\n'. One FNV-1a is a chain of dependent multiplies; this runs four chains
// side by side, so hashing many stacks costs about a quarter of the time.
void IdentityHashes(const std::string_view* inputs, std::size_t count, uint64_t* out);

struct StackIdentity {
  std::vector<std::string> functions;  // normalized, leaf first
  uint64_t hash = 0;
  std::string id;  // 16 lowercase hex digits of hash
};

// The identity of a stack: function names only (no arguments, offsets, addresses, files,
// lines or goroutine ids), with leading primitive-implementation frames, hidden runtime
// frames and wrappers removed, cut to the innermost limits.identity_frames. The same code
// gives the same id from debug=0, debug=1 and debug=2, across Go 1.19-1.27, restarts,
// replicas and rebuilds that did not rename these functions.
StackIdentity ComputeStackIdentity(const std::vector<RawFrame>& frames, const Limits& limits);

// Index of the first application frame (leaf first), skipping runtime and library frames;
// for stacks made only of library frames, the outermost visible one (the start function).
// -1 for an empty stack.
int FirstApplicationFrame(const std::vector<RawFrame>& frames);

// Index of the first frame a debug=2 traceback would print (the "top function" of goleak).
int FirstVisibleFrame(const std::vector<RawFrame>& frames);
// BlockingFramesOf for frames.
std::size_t BlockingFrames(const std::vector<RawFrame>& frames);

// A stack id: the identity hash as 16 hex digits.
std::string HashToId(uint64_t hash);
// And back: the hash an id stands for (0 for text that is not one).
uint64_t IdToHash(const std::string& id);

}  // namespace gx
