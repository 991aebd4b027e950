// How the exporter sets glibc's malloc up, in one place, so that the benchmarks measure the
// allocator the daemon runs with. Call once at startup, before threads start.
#pragma once

namespace gx {

// Caps the arenas; the values, and why the other knobs keep glibc's defaults, are in
// common/limits.h.
void ConfigureAllocator();

}  // namespace gx
