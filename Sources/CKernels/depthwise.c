// See ckernels.h: one output row of a depthwise convolution (multiplier 1) on 16 channels at a
// time, bias first, then every tap inside the input in (kh, kw) order as a product and a sum —
// the same operations in the same order as Kernels' portable loop, so the results are identical
// — then the clip and, asked for them, the finite extremes of what is stored. Pixels whose
// windows lie inside the image's columns go four at a time (four independent chains of adds).
#include "ckernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "tracking.h"

#pragma STDC FP_CONTRACT OFF

// Four output pixels whose windows lie inside the image's columns, channels [c, c + 16): four
// independent sums, so the adds of one tap do not wait for each other.
__attribute__((target("avx512f"))) static inline void four_inside(const float *image, const ck_depthwise_geometry *g, long top,
                                                                  long start, const float *weights, size_t c, __mmask16 valid,
                                                                  __m512 first, __m512 lo, __m512 hi, float *out,
                                                                  bool tracking, __m512 *least, __m512 *most) {
    const size_t channels = g->channels, step = g->stride_width * channels;
    __m512 s0 = first, s1 = first, s2 = first, s3 = first;
    for (size_t kh = 0; kh < g->kernel_height; kh++) {
        const long ih = top + (long)(kh * g->dilation_height);
        if (ih < 0 || ih >= (long)g->height) continue;
        const float *row = image + ((size_t)ih * g->width + (size_t)start) * channels + c;
        for (size_t kw = 0; kw < g->kernel_width; kw++) {
            const __m512 tap = _mm512_maskz_loadu_ps(valid, weights + (kh * g->kernel_width + kw) * channels + c);
            const float *p = row + kw * g->dilation_width * channels;
            s0 = _mm512_add_ps(s0, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, p), tap));
            s1 = _mm512_add_ps(s1, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, p + step), tap));
            s2 = _mm512_add_ps(s2, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, p + 2 * step), tap));
            s3 = _mm512_add_ps(s3, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, p + 3 * step), tap));
        }
    }
    __m512 sums[4] = {s0, s1, s2, s3};
    for (int j = 0; j < 4; j++) {
        __m512 v = _mm512_min_ps(hi, _mm512_max_ps(lo, sums[j]));  // NaN kept, as the portable clip keeps it
        if (tracking) ck_track(v, valid, least, most);
        _mm512_mask_storeu_ps(out + j * channels + c, valid, v);
    }
}

__attribute__((target("avx512f"))) void ck_depthwise_row(const float *image, const ck_depthwise_geometry *g, long top, long left,
                                                       const float *weights, const float *bias, float low, float high,
                                                       float *out, float *extremes) {
    const size_t channels = g->channels;
    const __m512 lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high);
    __m512 least = _mm512_set1_ps(INFINITY), most = _mm512_set1_ps(-INFINITY);
    const long reach = (long)((g->kernel_width - 1) * g->dilation_width);
    for (size_t c = 0; c < channels; c += 16) {
        const __mmask16 valid = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
        const __m512 first = bias ? _mm512_maskz_loadu_ps(valid, bias + c) : _mm512_setzero_ps();
        for (size_t ow = 0; ow < g->output_width;) {
            const long start = left + (long)(ow * g->stride_width);
            if (ow + 4 <= g->output_width && start >= 0 && start + (long)(3 * g->stride_width) + reach < (long)g->width) {
                four_inside(image, g, top, start, weights, c, valid, first, lo, hi, out + ow * channels, extremes != NULL, &least, &most);
                ow += 4;
                continue;
            }
            __m512 sum = first;
            for (size_t kh = 0; kh < g->kernel_height; kh++) {
                const long ih = top + (long)(kh * g->dilation_height);
                if (ih < 0 || ih >= (long)g->height) continue;
                for (size_t kw = 0; kw < g->kernel_width; kw++) {
                    const long iw = start + (long)(kw * g->dilation_width);
                    if (iw < 0 || iw >= (long)g->width) continue;
                    const float *pixel = image + ((size_t)ih * g->width + (size_t)iw) * channels + c;
                    const float *tap = weights + (kh * g->kernel_width + kw) * channels + c;
                    sum = _mm512_add_ps(sum, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, pixel), _mm512_maskz_loadu_ps(valid, tap)));
                }
            }
            // max(lo, v), min(hi, v): a NaN is kept, as the portable clip keeps it.
            sum = _mm512_min_ps(hi, _mm512_max_ps(lo, sum));
            if (extremes) ck_track(sum, valid, &least, &most);
            _mm512_mask_storeu_ps(out + ow * channels + c, valid, sum);
            ow += 1;
        }
    }
    if (extremes) ck_merge(least, most, extremes);
}
#else
void ck_depthwise_row(const float *image, const ck_depthwise_geometry *g, long top, long left, const float *weights,
                      const float *bias, float low, float high, float *out, float *extremes) {
    (void)image; (void)g; (void)top; (void)left; (void)weights; (void)bias; (void)low; (void)high; (void)out; (void)extremes;
}
#endif
