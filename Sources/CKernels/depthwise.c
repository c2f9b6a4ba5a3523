// See ckernels.h: one output row of a depthwise convolution (multiplier 1) on 16 channels at a
// time, bias first, then every tap inside the input in (kh, kw) order as a product and a sum —
// the same operations in the same order as Kernels' portable loop, so the results are identical
// — then the clip and, asked for them, the finite extremes of what is stored.
#include "ckernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "tracking.h"

#pragma STDC FP_CONTRACT OFF

__attribute__((target("avx512f"))) void ck_depthwise_row(const float *image, const ck_depthwise_geometry *g, long top, long left,
                                                       const float *weights, const float *bias, float low, float high,
                                                       float *out, float *extremes) {
    const size_t channels = g->channels;
    const __m512 lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high);
    __m512 least = _mm512_set1_ps(INFINITY), most = _mm512_set1_ps(-INFINITY);
    for (size_t ow = 0; ow < g->output_width; ow++) {
        const long start = left + (long)(ow * g->stride_width);
        float *target = out + ow * channels;
        for (size_t c = 0; c < channels; c += 16) {
            const __mmask16 valid = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
            __m512 sum = bias ? _mm512_maskz_loadu_ps(valid, bias + c) : _mm512_setzero_ps();
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
            _mm512_mask_storeu_ps(target + c, valid, sum);
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
