#include "common/allocator.h"

#include <malloc.h>

namespace custos {

void TuneAllocator() {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

}  // namespace custos
