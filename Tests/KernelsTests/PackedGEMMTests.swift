import Foundation
import Kernels
import Testing

/// keraslite's own GEMM (packed right-hand operand, AVX-512 micro-kernel, fused bias and clip)
/// against a direct double-precision product written here, over sizes that leave partial row
/// blocks (kernels of 12, 8, 4, 2 and 1 rows) and partial column panels (32 columns), both storage orders of B, and k = 0.
@Suite(.enabled(if: GEMM.packedAvailable, "this processor has no AVX-512F: every product goes through OpenBLAS"))
struct PackedGEMMTests {
    @Test(arguments: [(1, 1, 1), (12, 32, 16), (13, 33, 7), (20, 40, 9), (11, 31, 64), (25, 70, 300), (40, 16, 1), (7, 100, 0), (300, 64, 576)], [false, true])
    func matchesDirectProduct(_ size: (Int, Int, Int), transposed: Bool) throws {
        let (m, n, k) = size
        checkAgainstDirectProduct(m: m, n: n, k: k, lda: k + 3, transposed: transposed)
    }

    /// Rows of A a multiple of 4 KB apart (1024 or 2048 floats), which the GEMM copies block by
    /// block to a padded buffer first: several blocks (128 rows at k = 1024), partial ones, the
    /// remainder-row kernels.
    @Test(arguments: [(300, 70, 1100, 2048), (25, 40, 64, 1024), (131, 33, 1024, 1024)])
    func rowsFourKilobytesApart(_ size: (Int, Int, Int, Int)) {
        let (m, n, k, lda) = size
        checkAgainstDirectProduct(m: m, n: n, k: k, lda: lda, transposed: false)
    }

    private func checkAgainstDirectProduct(m: Int, n: Int, k: Int, lda: Int, transposed: Bool) {
        var random = SeededValues(seed: 12345)
        let ldc = n + 5
        let a = random.values(m * lda, scale: 2)
        let b = random.values(k * n, scale: 2)  // k×n, or n×k when transposed
        let bias = random.values(n, scale: 2)
        for clip in [nil, ActivationClip.relu6] {
            var c = [Float](repeating: 1234, count: m * ldc)
            let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: k, n: n, ldb: transposed ? k : n, transposed: transposed) }
            a.withUnsafeBufferPointer { a in
                bias.withUnsafeBufferPointer { bias in
                    c.withUnsafeMutableBufferPointer { c in
                        GEMM.multiply(m: m, a: a.baseAddress!, lda: lda, packed: packed, c: c.baseAddress!, ldc: ldc,
                                      bias: bias.baseAddress!, clip: clip)
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    var sum = Double(bias[j]), magnitude = abs(Double(bias[j]))
                    for p in 0..<k {
                        let term = Double(a[i * lda + p]) * Double(transposed ? b[j * k + p] : b[p * n + j])
                        sum += term
                        magnitude += abs(term)
                    }
                    if let clip { sum = min(max(sum, Double(clip.low)), Double(clip.high)) }
                    #expect(abs(Double(c[i * ldc + j]) - sum) <= 1e-6 * max(magnitude, 1), "C[\(i), \(j)] of \(m)×\(n)×\(k)")
                }
                // Columns between n and ldc are not written.
                for j in n..<ldc { #expect(c[i * ldc + j] == 1234) }
            }
        }
    }

    /// A dense layer with prepared weights: a few rows at any depth (split over the cores by column
    /// panels) and many rows (split by rows), both weight layouts.
    @Test(arguments: [(3, 10_000, 70), (100, 300, 40)], [DenseLayout.io, .oi])
    func denseWithPreparedWeights(_ size: (Int, Int, Int), layout: DenseLayout) throws {
        let (rows, inputs, outputs) = size
        var random = SeededValues(seed: 99)
        let x = random.values(rows * inputs), w = random.values(inputs * outputs)
        let prepared = PreparedFilter()
        for _ in 0..<2 {
            var y = [Float](repeating: .nan, count: rows * outputs)
            try x.withUnsafeBufferPointer { x in
                try w.withUnsafeBufferPointer { w in
                    try y.withUnsafeMutableBufferPointer { y in
                        try dense(x.baseAddress!, rows: rows, inputs: inputs, outputs: outputs, weights: w.baseAddress!, layout: layout,
                                  output: y.baseAddress!, prepared: prepared)
                    }
                }
            }
            for r in 0..<rows {
                for o in 0..<outputs {
                    var sum = 0.0, magnitude = 0.0
                    for i in 0..<inputs {
                        let term = Double(x[r * inputs + i]) * Double(layout == .io ? w[i * outputs + o] : w[o * inputs + i])
                        sum += term
                        magnitude += abs(term)
                    }
                    #expect(abs(Double(y[r * outputs + o]) - sum) <= 1e-6 * max(magnitude, 1), "y[\(r), \(o)]")
                }
            }
        }
    }

    @Test func keepsNaNWithoutClip() {
        let a: [Float] = [.nan, 1], b: [Float] = [1, 1]
        var c: [Float] = [0]
        let packed = b.withUnsafeBufferPointer { PackedMatrix($0.baseAddress!, k: 2, n: 1, ldb: 1, transposed: false) }
        a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in GEMM.multiply(m: 1, a: a.baseAddress!, lda: 2, packed: packed, c: c.baseAddress!, ldc: 1) }
        }
        #expect(c[0].isNaN)
    }
}
