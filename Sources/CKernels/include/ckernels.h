#ifndef KERASLITE_CKERNELS_H
#define KERASLITE_CKERNELS_H
// keraslite's own AVX-512 kernels in C, where Swift's baseline x86-64 code generation (SSE) and
// OpenBLAS' per-call packing leave speed behind. Callers check `cgemm_available` and keep a
// portable path for other processors.
//
// Single-precision GEMM for a constant right-hand operand: B is packed once into
// panels of 32 columns (`cgemm_pack`), then C[m×n] = A[m×k]·B (+ bias, clipped) is computed by an
// AVX-512 micro-kernel that reads A's rows in place (no packing of A, no separate pass over C).
// `cgemm_available` is false on processors without AVX-512F: callers use OpenBLAS there.
#include <stddef.h>
#include <stdbool.h>

#define CGEMM_PANEL 32

bool cgemm_available(void);

// Floats the packed form of a k×n matrix takes: ceil(n / 32) panels of k×32 (zero-padded columns).
size_t cgemm_packed_size(size_t k, size_t n);

// Packs B (k×n row-major with leading dimension ldb; or, when `transposed`, stored as n×k) into
// `packed` (cgemm_packed_size floats, 64-byte aligned).
void cgemm_pack(const float *b, size_t k, size_t n, size_t ldb, bool transposed, float *packed);

// C[m×n] = A[m×k] · B, then + bias[n] (when not NULL) and clipped to [low, high], on the calling
// thread. A and C row-major with leading dimensions lda, ldc; B packed by cgemm_pack with the same
// k and n. With `extremes` (not NULL), extremes[0] is lowered and extremes[1] raised to the
// smallest and largest finite value stored in C (they are left as they are if none is). Needs
// cgemm_available().
void cgemm_multiply(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                    float *c, size_t ldc, const float *bias, float low, float high, float *extremes);

// A residual added as C is stored (a convolution followed by an ADD, fused): after bias and
// clip, C = min(high, max(low, C + R)) with R[m×n] at `values` (leading dimension ldr; it may be
// C itself — each element is read before it is written), and with `extremes` the finite extremes
// of the sums stored kept as cgemm_multiply's `extremes` keeps those of the values before the
// addition.
typedef struct {
    const float *values;
    size_t ldr;
    float low, high;
    float *extremes;
} cgemm_residual;

// cgemm_multiply with a residual added as C is stored (`residual` NULL: none).
void cgemm_multiply_residual(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                             float *c, size_t ldc, const float *bias, float low, float high, float *extremes,
                             const cgemm_residual *residual);

// One output row of a depthwise convolution with channel multiplier 1 over one NHWC image
// (`image`): output pixel ow reads input rows top + kh·dilation_height and columns
// left + ow·stride_width + kw·dilation_width (taps outside the image skipped), weights laid out
// [kh][kw][channel], then + bias (when not NULL: the sum starts from it), clipped to [low, high]
// (NaN kept) and stored at out[ow·channels + c]; with `extremes`, its finite extremes merged into
// extremes[0] / extremes[1]. Each sum is formed product by product without fused multiply-adds,
// as the portable Swift loop forms it. AVX-512F (callers check cgemm_available).
typedef struct {
    size_t height, width, channels;
    size_t kernel_height, kernel_width;
    size_t stride_width, dilation_height, dilation_width;
    size_t output_width;
} ck_depthwise_geometry;
void ck_depthwise_row(const float *image, const ck_depthwise_geometry *g, long top, long left, const float *weights,
                      const float *bias, float low, float high, float *out, float *extremes);

// Smallest and largest finite element of x[0..<count] into *low / *high (+∞ / −∞ when none is
// finite), 16 lanes at a time. Needs cgemm_available().
void ck_finite_extremes(const float *x, size_t count, float *low, float *high);
// Symmetric per-channel int8 quantization of weights laid out as [blocks × channels × inner]
// (element (b, c, j) at (b·channels + c)·inner + j), in portable C the compiler vectorizes.
// ck_absmax_channels raises maxima[c] to the largest |x| of channel c over the blocks given
// (NaN is ignored, ±∞ counts); ck_quantize_channels writes q = x / scales[c] clamped to
// [−127, 127] (NaN → 127) and rounded half away from zero.
#include <stdint.h>
void ck_absmax_channels(const float *x, size_t blocks, size_t channels, size_t inner, float *maxima);
void ck_quantize_channels(const float *x, size_t blocks, size_t channels, size_t inner, const float *scales, int8_t *q);

// Rows [first, end) of the transpose of a rows × columns byte matrix: out[(c − first)·rows + r] =
// x[r·columns + c] for c in [first, end).
void ck_transpose_bytes(const int8_t *x, size_t rows, size_t columns, size_t first, size_t end, int8_t *out);
// Winograd F(4×4, 3×3) transforms along one axis of a tile, `count` channels per pixel (AVX-512F;
// callers check cgemm_available): ck_winograd_input applies Bᵀ to six vectors s[0..5] into six
// t[0..5]; ck_winograd_output applies Aᵀ to six into four and, when `finish`, adds bias[c] (when
// not NULL) and clips to [low, high] (NaN kept) — the tile's second axis, straight into the output
// — and, with `extremes`, merges the finite values stored into t[0..<counted] into extremes[0]
// (lowest) and extremes[1] (highest) as cgemm_multiply does.
void ck_winograd_input(const float *const s[6], float *const t[6], size_t count);
void ck_winograd_output(const float *const s[6], float *const t[4], size_t count, const float *bias, float low, float high,
                        bool finish, size_t counted, float *extremes);
// Makes glibc's malloc serve blocks under 32 MB from its heaps, keep up to `trim_threshold` bytes
// freed at a heap's top and grow it `top_pad` bytes beyond each request, so buffers freed and
// allocated again (a conversion's tensors, the activations of every op and batch) are reused
// rather than unmapped and faulted in again, zeroed. Each at most 1 GB. No effect with other C
// libraries.
void ck_retain_freed_memory(size_t trim_threshold, size_t top_pad);
#endif
