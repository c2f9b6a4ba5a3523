// See ckernels.h: the Winograd F(4×4, 3×3) tile transforms on 16-lane vectors, the same additions
// and multiplications in the same order as the portable Swift transforms (no fused multiply-adds),
// so both give the same floats.
#include "ckernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "tracking.h"
#define TARGET __attribute__((target("avx512f")))

TARGET static inline __mmask16 lanes(size_t count, size_t c) {
    return count - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - c)) - 1);
}

TARGET void ck_winograd_input(const float *const s[6], float *const t[6], size_t count) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    for (size_t c = 0; c < count; c += 16) {
        __mmask16 m = lanes(count, c);
        __m512 d0 = _mm512_maskz_loadu_ps(m, s[0] + c), d1 = _mm512_maskz_loadu_ps(m, s[1] + c);
        __m512 d2 = _mm512_maskz_loadu_ps(m, s[2] + c), d3 = _mm512_maskz_loadu_ps(m, s[3] + c);
        __m512 d4 = _mm512_maskz_loadu_ps(m, s[4] + c), d5 = _mm512_maskz_loadu_ps(m, s[5] + c);
        __m512 a = _mm512_sub_ps(d4, _mm512_mul_ps(four, d2)), b = _mm512_sub_ps(d3, _mm512_mul_ps(four, d1));
        __m512 e = _mm512_sub_ps(d4, d2), f = _mm512_mul_ps(two, _mm512_sub_ps(d3, d1));
        _mm512_mask_storeu_ps(t[0] + c, m, _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, d0), _mm512_mul_ps(five, d2)), d4));
        _mm512_mask_storeu_ps(t[1] + c, m, _mm512_add_ps(a, b));
        _mm512_mask_storeu_ps(t[2] + c, m, _mm512_sub_ps(a, b));
        _mm512_mask_storeu_ps(t[3] + c, m, _mm512_add_ps(e, f));
        _mm512_mask_storeu_ps(t[4] + c, m, _mm512_sub_ps(e, f));
        _mm512_mask_storeu_ps(t[5] + c, m, _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, d1), _mm512_mul_ps(five, d3)), d5));
    }
}

TARGET void ck_winograd_output(const float *const s[6], float *const t[4], size_t count, const float *bias,
                               float low, float high, bool finish, size_t counted, float *extremes) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
    const __m512 lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high);
    __m512 least = _mm512_set1_ps(INFINITY), most = _mm512_set1_ps(-INFINITY);
    for (size_t c = 0; c < count; c += 16) {
        __mmask16 m = lanes(count, c);
        __m512 m0 = _mm512_maskz_loadu_ps(m, s[0] + c), m1 = _mm512_maskz_loadu_ps(m, s[1] + c);
        __m512 m2 = _mm512_maskz_loadu_ps(m, s[2] + c), m3 = _mm512_maskz_loadu_ps(m, s[3] + c);
        __m512 m4 = _mm512_maskz_loadu_ps(m, s[4] + c), m5 = _mm512_maskz_loadu_ps(m, s[5] + c);
        __m512 p12 = _mm512_add_ps(m1, m2), d12 = _mm512_sub_ps(m1, m2);
        __m512 p34 = _mm512_add_ps(m3, m4), d34 = _mm512_sub_ps(m3, m4);
        __m512 r[4] = {
            _mm512_add_ps(_mm512_add_ps(m0, p12), p34),
            _mm512_add_ps(d12, _mm512_mul_ps(two, d34)),
            _mm512_add_ps(p12, _mm512_mul_ps(four, p34)),
            _mm512_add_ps(_mm512_add_ps(d12, _mm512_mul_ps(eight, d34)), m5),
        };
        for (int j = 0; j < 4; j++) {
            __m512 v = r[j];
            if (finish) {
                if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
                // As the Swift epilogue: below low → low, above high → high, NaN kept.
                v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
                v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), v, hi);
            }
            _mm512_mask_storeu_ps(t[j] + c, m, v);
            if (extremes && (size_t)j < counted) ck_track(v, m, &least, &most);
        }
    }
    if (extremes) ck_merge(least, most, extremes);
}
#else
void ck_winograd_input(const float *const s[6], float *const t[6], size_t count) { (void)s; (void)t; (void)count; }
void ck_winograd_output(const float *const s[6], float *const t[4], size_t count, const float *bias, float low, float high,
                        bool finish, size_t counted, float *extremes) {
    (void)s; (void)t; (void)count; (void)bias; (void)low; (void)high; (void)finish; (void)counted; (void)extremes;
}
#endif
