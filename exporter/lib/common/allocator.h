// How the exporter sets glibc's malloc up, in one place, so that the benchmarks measure the
// allocator the daemon runs with. Call once at startup, before threads start.
#pragma once

namespace gx {

// Caps the arenas and stops glibc from handing memory back to the kernel on every large
// free (the daemon does it every few seconds with malloc_trim instead); the values and
// their reasons are in common/limits.h.
void ConfigureAllocator();

}  // namespace gx
