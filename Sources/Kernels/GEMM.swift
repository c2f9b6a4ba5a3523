import CKernels
import COpenBLAS
import Foundation

/// Single-precision matrix products through OpenBLAS' `cblas_sgemm`.
///
/// The kernels parallelize around BLAS (each core multiplies its own rows or columns), so
/// OpenBLAS runs single-threaded: its pthread build otherwise keeps worker threads spinning in
/// sched_yield between calls, competing with the kernels' own loops for the same cores.
public enum GEMM {
    /// OpenBLAS on one thread. Its threaded builds also start a worker per extra core as they
    /// load, which spins in sched_yield for about 0.1 s waiting for work it will never get, on a
    /// core the conversion wants: those workers are stopped (`blas_thread_shutdown_`, looked up
    /// because the serial build has none). The CLI does this first thing; anything else on the
    /// first product.
    public static func useOneThread() { _ = singleThreaded }

    private static let singleThreaded: Void = {
        openblas_set_num_threads(1)
        if let program = dlopen(nil, RTLD_NOW), let shutdown = dlsym(program, "blas_thread_shutdown_") {
            _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
        }
    }()

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

/// A constant right-hand operand B (k×n) packed once into keraslite's panel layout for
/// `GEMM.multiply(packed:)` (Sources/CKernels): what a layer's filter becomes when the processor has
/// AVX-512, so its products neither pack B nor A on every call nor pass over C again for the bias.
/// A residual added to a product or convolution output as it is stored (`GEMM.multiply(packed:)`,
/// `convolve`): `values` laid out as the output (possibly the output itself), the sum clipped to
/// `clip`, its finite extremes lowered / raised into `extremes` (two floats) when given.
public struct StoredResidual {
    public var values: UnsafePointer<Float>
    public var clip: ActivationClip?
    public var extremes: UnsafeMutablePointer<Float>?

    public init(values: UnsafePointer<Float>, clip: ActivationClip?, extremes: UnsafeMutablePointer<Float>?) {
        self.values = values
        self.clip = clip
        self.extremes = extremes
    }
}

public final class PackedMatrix: @unchecked Sendable {
    public let k: Int, n: Int
    let panels: UnsafeMutableRawPointer
    /// Columns per panel (CGEMM_PANEL) and panels in all.
    static let panelWidth = Int(CGEMM_PANEL)
    var panelCount: Int { (n + Self.panelWidth - 1) / Self.panelWidth }

    /// Packs B stored row-major as k×n with leading dimension `ldb`, or as n×k when `transposed`.
    public convenience init(_ b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool) {
        self.init(uninitializedK: k, n: n)
        let panels = self.panels
        // Whole panels per core: each range of columns packs into its own panels.
        let width = Self.panelWidth, count = (n + width - 1) / width
        Parallel.forEach(count, grain: max(1, (1 << 16) / max(k * width, 1))) { range in
            let first = range.lowerBound * width, columns = min(n, range.upperBound * width) - first
            cgemm_pack(transposed ? b + first * ldb : b + first, k, columns, ldb, transposed,
                       panels.assumingMemoryBound(to: Float.self) + range.lowerBound * k * width)
        }
    }

    /// Storage for k×n packed that the caller fills (`pointer`: panel p's row r at
    /// p·k·32 + r·32, every column past n zero).
    init(uninitializedK k: Int, n: Int) {
        self.k = k
        self.n = n
        panels = UnsafeMutableRawPointer.allocate(byteCount: max(cgemm_packed_size(k, n), 1) * 4, alignment: 64)
    }

    var pointer: UnsafeMutablePointer<Float> { panels.assumingMemoryBound(to: Float.self) }

    deinit { panels.deallocate() }
}

extension GEMM {
    /// Whether keraslite's own micro-kernel runs on this processor (AVX-512F); elsewhere every
    /// product goes through OpenBLAS.
    public static let packedAvailable = cgemm_available()

    /// Largest k the packed path takes: a panel (k × 32 floats) and a block of A's rows stay in L2.
    public static let packedDepthLimit = 8192

    /// Largest operand packed (k·n floats, 256 MB): the packed copy lives beside the model's own
    /// weights, so a bigger matrix (a multi-GB dense layer) is multiplied by OpenBLAS instead.
    public static let packedElementLimit = 1 << 26

    /// C[m×k·k×n] = A · B (B packed) + bias, clipped, on the calling thread, in one pass over C.
    /// With `extremes` (two floats), extremes[0] is lowered and extremes[1] raised to the finite
    /// values stored. Needs `packedAvailable`.
    /// With `residual`, R (laid out as C, with leading dimension ldc; it may be C itself) is
    /// added to each clipped value as it is stored and the sum clipped again — a convolution and
    /// the ADD after it in one pass over C; `extremes` then keeps the values before the addition.
    public static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix,
                                c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                                clip: ActivationClip? = nil, extremes: UnsafeMutablePointer<Float>? = nil,
                                residual: StoredResidual? = nil) {
        guard m > 0, packed.n > 0 else { return }
        multiply(m: m, a: a, lda: lda, packed: packed, panels: 0..<packed.panelCount, c: c, ldc: ldc, bias: bias, clip: clip,
                 extremes: extremes, residual: residual)
    }

    /// The columns of panels `panels` (32 columns each) only.
    static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, panels: Range<Int>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, clip: ActivationClip? = nil,
                         extremes: UnsafeMutablePointer<Float>? = nil, residual: StoredResidual? = nil) {
        let first = panels.lowerBound * PackedMatrix.panelWidth
        let columns = min(packed.n, panels.upperBound * PackedMatrix.panelWidth) - first
        guard m > 0, columns > 0 else { return }
        let b = packed.panels.assumingMemoryBound(to: Float.self) + first * packed.k
        let low = clip?.low ?? -.infinity, high = clip?.high ?? .infinity
        guard let residual else {
            cgemm_multiply(m, columns, packed.k, a, lda, b, c + first, ldc, bias.map { $0 + first }, low, high, extremes)
            return
        }
        var stored = cgemm_residual(values: residual.values + first, ldr: ldc, low: residual.clip?.low ?? -.infinity,
                                    high: residual.clip?.high ?? .infinity, extremes: residual.extremes)
        cgemm_multiply_residual(m, columns, packed.k, a, lda, b, c + first, ldc, bias.map { $0 + first }, low, high, extremes, &stored)
    }

    /// The same split over the cores: by rows when there are enough for every core, else by panels
    /// of columns (a dense layer on a few samples).
    public static func parallelMultiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix,
                                        c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                                        clip: ActivationClip? = nil) {
        if m >= 24 * Parallel.workers || packed.panelCount < 2 {
            Parallel.forEach(m, grain: 24) { rows in
                multiply(m: rows.count, a: a + rows.lowerBound * lda, lda: lda, packed: packed, c: c + rows.lowerBound * ldc, ldc: ldc,
                         bias: bias, clip: clip)
            }
        } else {
            Parallel.forEach(packed.panelCount, grain: 1) { panels in
                multiply(m: m, a: a, lda: lda, packed: packed, panels: panels, c: c, ldc: ldc, bias: bias, clip: clip)
            }
        }
    }
}
