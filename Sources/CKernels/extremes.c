// See ckernels.h: the finite minimum and maximum of a float array, masked by |x| < ∞ (which is
// false for ±∞ and NaN), four 16-lane accumulators deep.
#include "ckernels.h"
#include <math.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "tracking.h"

__attribute__((target("avx512f"))) void ck_finite_extremes(const float *x, size_t count, float *low, float *high) {
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __m512 lo[4], hi[4];
    for (int j = 0; j < 4; j++) { lo[j] = inf; hi[j] = _mm512_set1_ps(-INFINITY); }
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        for (int j = 0; j < 4; j++) {
            ck_track(_mm512_loadu_ps(x + i + 16 * j), 0xFFFF, &lo[j], &hi[j]);
        }
    }
    for (; i < count; i += 16) {
        __mmask16 inside = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        ck_track(_mm512_maskz_loadu_ps(inside, x + i), inside, &lo[0], &hi[0]);
    }
    __m512 l = _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3]));
    __m512 h = _mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3]));
    *low = _mm512_reduce_min_ps(l);
    *high = _mm512_reduce_max_ps(h);
}
#else
void ck_finite_extremes(const float *x, size_t count, float *low, float *high) {
    float l = INFINITY, h = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        if (isfinite(x[i])) { if (x[i] < l) l = x[i]; if (x[i] > h) h = x[i]; }
    }
    *low = l;
    *high = h;
}
#endif
