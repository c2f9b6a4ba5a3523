// See ckernels.h: symmetric per-channel int8 weight quantization and the byte transpose that puts
// quantized weights in TFLite's layout. Plain loops written so the compiler vectorizes them (no
// branches, no library calls: the rounding is a truncation and two comparisons).
#include "ckernels.h"

void ck_absmax_channels(const float *x, size_t blocks, size_t channels, size_t inner, float *maxima) {
    for (size_t b = 0; b < blocks; b++) {
        const float *block = x + b * channels * inner;
        if (inner == 1) {
            for (size_t c = 0; c < channels; c++) {
                float a = block[c] < 0 ? -block[c] : block[c];
                maxima[c] = a > maxima[c] ? a : maxima[c];  // NaN compares false: ignored
            }
        } else {
            for (size_t c = 0; c < channels; c++) {
                const float *row = block + c * inner;
                float m = maxima[c];
                for (size_t j = 0; j < inner; j++) {
                    float a = row[j] < 0 ? -row[j] : row[j];
                    m = a > m ? a : m;
                }
                maxima[c] = m;
            }
        }
    }
}

// x / scale clamped to [−127, 127] (NaN → 127, as Swift's min(127, NaN) is 127), then rounded
// half away from zero; clamping first is the same as rounding first, the bounds being integers.
static inline int8_t quantize(float x, float scale) {
    float y = x / scale;
    y = y < 127.0f ? y : 127.0f;
    y = y >= -127.0f ? y : -127.0f;
    int t = (int)y;
    float d = y - (float)t;
    t += (d >= 0.5f) - (d <= -0.5f);
    return (int8_t)t;
}

void ck_quantize_channels(const float *x, size_t blocks, size_t channels, size_t inner, const float *scales, int8_t *q) {
    for (size_t b = 0; b < blocks; b++) {
        size_t base = b * channels * inner;
        if (inner == 1) {
            for (size_t c = 0; c < channels; c++) q[base + c] = quantize(x[base + c], scales[c]);
        } else {
            for (size_t c = 0; c < channels; c++) {
                float scale = scales[c];
                size_t start = base + c * inner;
                for (size_t j = 0; j < inner; j++) q[start + j] = quantize(x[start + j], scale);
            }
        }
    }
}

void ck_transpose_bytes(const int8_t *x, size_t rows, size_t columns, size_t first, size_t end, int8_t *out) {
    enum { TILE = 64 };
    for (size_t r0 = 0; r0 < rows; r0 += TILE) {
        size_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (size_t c0 = first; c0 < end; c0 += TILE) {
            size_t c1 = c0 + TILE < end ? c0 + TILE : end;
            for (size_t c = c0; c < c1; c++) {
                int8_t *target = out + (c - first) * rows;
                for (size_t r = r0; r < r1; r++) target[r] = x[r * columns + c];
            }
        }
    }
}
