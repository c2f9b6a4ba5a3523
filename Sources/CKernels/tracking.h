// The running finite minimum and maximum that the GEMM and Winograd epilogues keep of what they
// store (private to CKernels): 16 lanes in registers, merged into extremes[0] (lowest) and
// extremes[1] (highest) once per call.
#ifndef KERASLITE_CKERNELS_TRACKING_H
#define KERASLITE_CKERNELS_TRACKING_H
#include <immintrin.h>
#include <math.h>

// Lowers *least and raises *most to the finite lanes of v that `valid` selects (|v| < ∞ is false
// for ±∞ and NaN).
__attribute__((target("avx512f"))) static inline void ck_track(__m512 v, __mmask16 valid, __m512 *least, __m512 *most) {
    __mmask16 finite = valid & _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
    *least = _mm512_mask_min_ps(*least, finite, *least, v);
    *most = _mm512_mask_max_ps(*most, finite, *most, v);
}

// Merges the lanes of least / most into extremes[0] / extremes[1].
__attribute__((target("avx512f"))) static inline void ck_merge(__m512 least, __m512 most, float *extremes) {
    float low = _mm512_reduce_min_ps(least), high = _mm512_reduce_max_ps(most);
    if (low < extremes[0]) extremes[0] = low;
    if (high > extremes[1]) extremes[1] = high;
}
#endif
