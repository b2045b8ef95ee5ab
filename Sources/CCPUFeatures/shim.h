// What the CPU running persona supports (cpuid), and what the build was compiled for (the
// compiler's predefined macros, which follow the module's -target-cpu). Swift can read
// neither directly: it has no cpuid and no target-feature conditions.
#ifndef PERSONA_CPU_FEATURES_H
#define PERSONA_CPU_FEATURES_H

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// Bit `bit` of register `reg` (0 eax, 1 ebx, 2 ecx, 3 edx) of cpuid leaf `leaf`, subleaf `sub`.
static inline int persona_cpuid_bit(unsigned leaf, unsigned sub, int reg, int bit) {
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3])) return 0;
    return (int)((r[reg] >> bit) & 1u);
}

/// Whether the operating system saves the AVX (ymm) and AVX-512 (zmm, k) registers.
static inline unsigned long long persona_xcr0(void) {
    if (!persona_cpuid_bit(1, 0, 2, 27)) return 0;   // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static inline int persona_cpu_has_avx2(void) {
    return persona_cpuid_bit(7, 0, 1, 5) && persona_cpuid_bit(1, 0, 2, 12) /* FMA */ && persona_cpuid_bit(1, 0, 2, 29) /* F16C */
        && (persona_xcr0() & 0x6) == 0x6;
}
static inline int persona_cpu_has_avx512(void) {
    return persona_cpuid_bit(7, 0, 1, 16) /* F */ && persona_cpuid_bit(7, 0, 1, 30) /* BW */
        && persona_cpuid_bit(7, 0, 1, 17) /* DQ */ && persona_cpuid_bit(7, 0, 1, 31) /* VL */
        && (persona_xcr0() & 0xe6) == 0xe6;
}
static inline int persona_cpu_has_avx512_vnni(void) { return persona_cpuid_bit(7, 0, 2, 11); }
#else
static inline int persona_cpu_has_avx2(void) { return 0; }
static inline int persona_cpu_has_avx512(void) { return 0; }
static inline int persona_cpu_has_avx512_vnni(void) { return 0; }
#endif

static inline int persona_built_for_avx2(void) {
#if defined(__AVX2__) && defined(__FMA__)
    return 1;
#else
    return 0;
#endif
}
static inline int persona_built_for_avx512(void) {
#if defined(__AVX512F__) && defined(__AVX512BW__)
    return 1;
#else
    return 0;
#endif
}
static inline int persona_built_for_avx512_vnni(void) {
#if defined(__AVX512VNNI__)
    return 1;
#else
    return 0;
#endif
}

#endif
