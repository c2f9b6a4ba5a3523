// See ckernels.h. The micro-kernel computes 12 rows × 32 columns of C in 24 zmm accumulators: per
// step of k, two loads of the packed B panel and twelve broadcasts of A feed 24 FMAs. Rows of A
// are blocked so a block (rows × k) stays in the L2 cache while every panel of B passes over it.
// Asked for them, the epilogue also keeps the smallest and largest finite value it stores, in
// registers, so calibration need not read the output again.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "tracking.h"
#define CGEMM_X86 1
#endif

enum { MR = 12, NR = CGEMM_PANEL };

bool cgemm_available(void) {
#ifdef CGEMM_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

size_t cgemm_packed_size(size_t k, size_t n) { return ((n + NR - 1) / NR) * k * NR; }

void cgemm_pack(const float *b, size_t k, size_t n, size_t ldb, bool transposed, float *packed) {
    size_t panels = (n + NR - 1) / NR;
    for (size_t p = 0; p < panels; p++) {
        size_t first = p * NR, width = n - first < NR ? n - first : NR;
        float *panel = packed + p * k * NR;
        for (size_t kk = 0; kk < k; kk++) {
            float *row = panel + kk * NR;
            if (transposed) {
                for (size_t j = 0; j < width; j++) row[j] = b[(first + j) * ldb + kk];
            } else {
                memcpy(row, b + kk * ldb + first, width * sizeof(float));
            }
            for (size_t j = width; j < NR; j++) row[j] = 0;
        }
    }
}

#ifdef CGEMM_X86
#define TARGET __attribute__((target("avx512f")))

// Column masks of a panel with `width` valid columns.
TARGET static inline void masks(size_t width, __mmask16 *m0, __mmask16 *m1) {
    *m0 = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
    *m1 = width >= 32 ? 0xFFFF : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
}

// Bias, clip and the masked store of one row of 32 columns (its extremes kept when `tracking`);
// with a residual row r, the sum clipped again is stored instead (its extremes kept when
// `residualTracking`, those of the values before the addition still in least / most).
TARGET static inline void finish(__m512 v0, __m512 v1, float *c, __mmask16 m0, __mmask16 m1,
                                 __m512 bias0, __m512 bias1, __m512 lo, __m512 hi,
                                 bool tracking, __m512 *least, __m512 *most,
                                 const float *r, __m512 rlo, __m512 rhi, bool residualTracking, __m512 *rleast, __m512 *rmost) {
    // max(lo, v), min(hi, v): a NaN in v is returned as it is (the second operand), as Swift's
    // min/max keep it; with lo = −∞, hi = +∞ every other value passes unchanged.
    v0 = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_add_ps(v0, bias0)));
    v1 = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_add_ps(v1, bias1)));
    if (tracking) {
        ck_track(v0, m0, least, most);
        ck_track(v1, m1, least, most);
    }
    if (r) {
        v0 = _mm512_min_ps(rhi, _mm512_max_ps(rlo, _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r))));
        v1 = _mm512_min_ps(rhi, _mm512_max_ps(rlo, _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16))));
        if (residualTracking) {
            ck_track(v0, m0, rleast, rmost);
            ck_track(v1, m1, rleast, rmost);
        }
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    _mm512_mask_storeu_ps(c + 16, m1, v1);
}

// R rows of A (row i at a + i·lda) times one packed panel with `width` ≤ 32 valid columns, for
// R = 12, 8, 4, 2 and 1; every accumulator is a named register variable. `r` is the residual's
// first row for these rows and columns (NULL: none).
#define DECLARE(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps(); const float *a##i = a + i * lda;
#define STEP(i) { __m512 x = _mm512_set1_ps(a##i[kk]); c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0); c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1); }
#define STORE(i) finish(c##i##0, c##i##1, c + i * ldc, m0, m1, bias0, bias1, lo, hi, extremes != NULL, &least, &most, \
                        r ? r + i * res->ldr : NULL, rlo, rhi, r && res->extremes, &rleast, &rmost);
#define KERNEL(name, ROWS) \
    TARGET static void name(size_t k, const float *a, size_t lda, const float *panel, float *c, size_t ldc, \
                            size_t width, const float *bias, float low, float high, float *extremes, \
                            const float *r, const cgemm_residual *res) { \
        ROWS(DECLARE) \
        for (size_t kk = 0; kk < k; kk++) { \
            __m512 b0 = _mm512_load_ps(panel + kk * NR), b1 = _mm512_load_ps(panel + kk * NR + 16); \
            ROWS(STEP) \
        } \
        __mmask16 m0, m1; \
        masks(width, &m0, &m1); \
        __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps(); \
        __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps(); \
        __m512 lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high); \
        __m512 least = _mm512_set1_ps(INFINITY), most = _mm512_set1_ps(-INFINITY); \
        __m512 rlo = _mm512_set1_ps(r ? res->low : 0), rhi = _mm512_set1_ps(r ? res->high : 0); \
        __m512 rleast = least, rmost = most; \
        ROWS(STORE) \
        if (extremes) ck_merge(least, most, extremes); \
        if (r && res->extremes) ck_merge(rleast, rmost, res->extremes); \
    }
#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define ROWS4(X) X(0) X(1) X(2) X(3)
#define ROWS2(X) X(0) X(1)
#define ROWS1(X) X(0)
KERNEL(kernel12, ROWS12)
KERNEL(kernel8, ROWS8)
KERNEL(kernel4, ROWS4)
KERNEL(kernel2, ROWS2)
KERNEL(kernel1, ROWS1)
#endif

#ifdef CGEMM_X86
// Rows of A a multiple of 4 KB apart (a 1×1 convolution over 1024 or 2048 channels) all fall in
// one set of the L1 cache, so the micro-kernel's 12 rows evict each other on every step: such a
// block of A is copied, a cache line apart, into this thread's own buffer before the panels pass
// over it (~10% faster on ResNet50's 1024- and 2048-channel layers).
static _Thread_local float *aliasedCopy;
static _Thread_local size_t aliasedCapacity;

static const float *unaliasedBlock(const float *a, size_t lda, size_t rows, size_t k, size_t *stride) {
    size_t padded = k + 16, count = rows * padded;
    if (count > aliasedCapacity) {
        free(aliasedCopy);
        aliasedCopy = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        aliasedCapacity = aliasedCopy ? count : 0;
    }
    if (!aliasedCopy) return NULL;
    for (size_t r = 0; r < rows; r++) memcpy(aliasedCopy + r * padded, a + r * lda, k * sizeof(float));
    *stride = padded;
    return aliasedCopy;
}
#endif

void cgemm_multiply(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                    float *c, size_t ldc, const float *bias, float low, float high, float *extremes) {
    cgemm_multiply_residual(m, n, k, a, lda, packed, c, ldc, bias, low, high, extremes, NULL);
}

void cgemm_multiply_residual(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                             float *c, size_t ldc, const float *bias, float low, float high, float *extremes,
                             const cgemm_residual *residual) {
#ifdef CGEMM_X86
    const cgemm_residual *res = residual && residual->values ? residual : NULL;
    if (m == 0 || n == 0) return;
    size_t panels = (n + NR - 1) / NR;
    // A block of rows × k floats within ~half of a 1 MB L2, a multiple of MR rows.
    size_t block = (512 * 1024 / sizeof(float)) / (k ? k : 1);
    block = block < MR ? MR : block / MR * MR;
    bool aliased = panels > 1 && m >= MR && k >= 64 && (lda * sizeof(float)) % 4096 == 0;
    for (size_t first = 0; first < m; first += block) {
        size_t last = first + block < m ? first + block : m;
        size_t stride = lda;
        const float *blockA = aliased ? unaliasedBlock(a + first * lda, lda, last - first, k, &stride) : NULL;
        if (!blockA) { blockA = a + first * lda; stride = lda; }
        for (size_t p = 0; p < panels; p++) {
            size_t column = p * NR, width = n - column < NR ? n - column : NR;
            const float *panel = packed + p * k * NR;
            for (size_t row = first; row < last; row += MR) {
                const float *columnBias = bias ? bias + column : NULL;
                size_t rows = last - row;
                const float *ar = blockA + (row - first) * stride;
                float *cr = c + row * ldc + column;
                const float *rr = res ? res->values + row * res->ldr + column : NULL;
                if (rows >= 12) {
                    kernel12(k, ar, stride, panel, cr, ldc, width, columnBias, low, high, extremes, rr, res);
                    continue;
                }
                // The block's last 1–11 rows: 8 + 2 + 1 at most three calls.
                for (size_t done = 0; done < rows;) {
                    size_t left = rows - done;
                    const float *ad = ar + done * stride;
                    float *cd = cr + done * ldc;
                    const float *rd = rr ? rr + done * res->ldr : NULL;
                    if (left >= 8) { kernel8(k, ad, stride, panel, cd, ldc, width, columnBias, low, high, extremes, rd, res); done += 8; }
                    else if (left >= 4) { kernel4(k, ad, stride, panel, cd, ldc, width, columnBias, low, high, extremes, rd, res); done += 4; }
                    else if (left >= 2) { kernel2(k, ad, stride, panel, cd, ldc, width, columnBias, low, high, extremes, rd, res); done += 2; }
                    else { kernel1(k, ad, stride, panel, cd, ldc, width, columnBias, low, high, extremes, rd, res); done += 1; }
                }
            }
        }
    }
#else
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)c; (void)ldc; (void)bias; (void)low; (void)high;
    (void)extremes; (void)residual;
#endif
}
