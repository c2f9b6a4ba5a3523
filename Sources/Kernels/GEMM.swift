import COpenBLAS

/// Single-precision matrix products through OpenBLAS' `cblas_sgemm`.
///
/// The kernels parallelize around BLAS (each core multiplies its own rows or columns), so
/// OpenBLAS runs single-threaded: its pthread build otherwise keeps worker threads spinning in
/// sched_yield between calls, competing with the kernels' own loops for the same cores.
public enum GEMM {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Throws unless every dimension fits OpenBLAS' 32-bit integers.
    public static func check(_ dimensions: Int...) throws {
        guard dimensions.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw KernelError.invalidArgument("a matrix product with dimensions \(dimensions) is too large for BLAS")
        }
    }

    /// C[m×n] = A[m×k] · B[k×n] on the calling thread, row-major with leading dimensions (elements
    /// between rows); `transposeB` reads B stored as [n×k]. Dimensions must have passed `check`.
    public static func multiply(m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            return
        }
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    /// The same product split over the cores: by rows of C when there are enough, else by columns
    /// (a dense layer on a small batch).
    public static func parallelMultiply(m: Int, n: Int, k: Int,
                                 a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                                 c: UnsafeMutablePointer<Float>, ldc: Int) throws {
        try check(m, n, k, lda, ldb, ldc)
        let work = m * n * max(k, 1)
        if m >= 4 * Parallel.workers || n < 2 * Parallel.workers {
            Parallel.forEach(m, grain: max(1, (1 << 18) / max(n * max(k, 1), 1))) { rows in
                multiply(m: rows.count, n: n, k: k, a: a + rows.lowerBound * lda, lda: lda, b: b, ldb: ldb,
                         transposeB: transposeB, c: c + rows.lowerBound * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEach(n, grain: work < (1 << 18) ? n : 16) { columns in
                multiply(m: m, n: columns.count, k: k, a: a, lda: lda,
                         b: transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound, ldb: ldb,
                         transposeB: transposeB, c: c + columns.lowerBound, ldc: ldc)
            }
        }
    }
}
