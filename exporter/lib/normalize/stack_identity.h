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

// Standard library or golang.org/x: not where an application engineer starts reading.
bool IsLibraryFunction(std::string_view function);

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

std::string HashToId(uint64_t hash);

}  // namespace gx
