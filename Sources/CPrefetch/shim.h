// Swift has no prefetch instruction, and the intrinsics headers define _mm_prefetch as a
// macro, which Swift cannot import. The fused matrix-vector kernels do too little work per
// byte for out-of-order execution alone to keep enough cache-line reads in flight.
#ifndef PERSONA_PREFETCH_H
#define PERSONA_PREFETCH_H

/// Starts reading the cache line at `address` into all cache levels. Never faults.
static inline void persona_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
