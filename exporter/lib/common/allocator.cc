#include "common/allocator.h"

#include <malloc.h>

#include "common/limits.h"

namespace gx {

void ConfigureAllocator() {
  mallopt(M_ARENA_MAX, kMallocArenas);
}

}  // namespace gx
