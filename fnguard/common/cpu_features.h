// x86 CPU features from glibc's own table (<sys/platform/x86.h>, glibc
// 2.33+), which its start-up fills in anyway: no CPUID of our own, and each
// CPUID is a trap to the hypervisor in a VM such as Lambda's (~5 us each on
// this project's nested test VM). "Active" means usable: for AVX2 the OS
// also saves the YMM registers. x86-64 only.
#pragma once

#if defined(__x86_64__)
#if defined(__clang__) && defined(__cplusplus)
// The header is C: clang's C++ mode knows no _Bool (GCC accepts it).
#define _Bool bool
#include <sys/platform/x86.h>
#undef _Bool
#else
#include <sys/platform/x86.h>
#endif

namespace fnguard::cpu {

inline bool has_avx2() { return CPU_FEATURE_ACTIVE(AVX2); }
inline bool has_ssse3() { return CPU_FEATURE_ACTIVE(SSSE3); }
// The SHA extensions, and the SSE4.1/SSSE3 shuffles used with them.
inline bool has_sha_ni() {
  return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3);
}

}  // namespace fnguard::cpu
#endif
