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
// k and n. Needs cgemm_available().
void cgemm_multiply(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                    float *c, size_t ldc, const float *bias, float low, float high);

// Smallest and largest finite element of x[0..<count] into *low / *high (+∞ / −∞ when none is
// finite), 16 lanes at a time. Needs cgemm_available().
void ck_finite_extremes(const float *x, size_t count, float *low, float *high);
#endif
