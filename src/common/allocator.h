// TuneAllocator: how the `custos` process asks glibc's malloc to keep memory it frees.
//
// The decision path buffers one audit entry per decision and writes the buffer every few
// thousand decisions; freeing a full buffer let malloc hand its pages back to the kernel, and
// the next decisions took a page fault each to get them again. Measured with
// bench/decide_bench (1M subjects, quiet machine): p99 37 us with glibc's defaults, 3.3 us with
// freed memory kept (docs/PERFORMANCE.md). The process keeps up to 256 MiB of freed heap and
// serves blocks up to 32 MiB (glibc's maximum) from the heap rather than fresh mappings.
// Call once, first thing in main(); the benchmarks call it too, so they measure what runs.
#ifndef CUSTOS_COMMON_ALLOCATOR_H_
#define CUSTOS_COMMON_ALLOCATOR_H_

namespace custos {

void TuneAllocator();

}  // namespace custos

#endif  // CUSTOS_COMMON_ALLOCATOR_H_
