#include "common/allocator.h"

#include <malloc.h>

#include "common/limits.h"

namespace gx {

void ConfigureAllocator() {
  mallopt(M_ARENA_MAX, kMallocArenas);
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocMmapThresholdBytes));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocTrimThresholdBytes));
}

}  // namespace gx
