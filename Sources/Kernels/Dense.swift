/// How a dense layer's weight matrix is laid out in memory.
public enum DenseLayout: Sendable {
    /// inputs × outputs (Keras, the graph IR): x · W.
    case io
    /// outputs × inputs (TFLite's FULLY_CONNECTED): x · Wᵀ.
    case oi
}

/// A dense layer without bias: output[rows × outputs] = x[rows × inputs] · W, one GEMM split over
/// the cores. Bias and activation are the caller's epilogue (`addBiasAndClip`). A layer whose
/// weights are constant passes its `PreparedFilter`: they are packed once for keraslite's GEMM where
/// it runs — for a few rows any depth (each panel is read once per call, once instead of OpenBLAS'
/// copy and read), for many rows depths whose panels stay in cache.
public func dense(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, weights: UnsafePointer<Float>,
                  layout: DenseLayout, output: UnsafeMutablePointer<Float>, prepared: PreparedFilter? = nil) throws {
    if GEMM.packedAvailable, inputs <= GEMM.packedDepthLimit || rows <= 64, inputs * outputs <= GEMM.packedElementLimit, let prepared,
       let packed = prepared.form("dense", {
           PackedMatrix(weights, k: inputs, n: outputs, ldb: layout == .io ? outputs : inputs, transposed: layout == .oi)
       }) {
        try GEMM.check(rows, outputs, inputs)
        GEMM.parallelMultiply(m: rows, a: x, lda: inputs, packed: packed, c: output, ldc: outputs)
        return
    }
    try GEMM.parallelMultiply(m: rows, n: outputs, k: inputs, a: x, lda: inputs,
                              b: weights, ldb: layout == .io ? outputs : inputs, transposeB: layout == .oi,
                              c: output, ldc: outputs)
}
