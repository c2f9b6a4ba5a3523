/// How a dense layer's weight matrix is laid out in memory.
public enum DenseLayout: Sendable {
    /// inputs × outputs (Keras, the graph IR): x · W.
    case io
    /// outputs × inputs (TFLite's FULLY_CONNECTED): x · Wᵀ.
    case oi
}

/// A dense layer without bias: output[rows × outputs] = x[rows × inputs] · W, one GEMM split over
/// the cores. Bias and activation are the caller's epilogue (`addBiasAndClip`).
public func dense(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, weights: UnsafePointer<Float>,
                  layout: DenseLayout, output: UnsafeMutablePointer<Float>) throws {
    try GEMM.parallelMultiply(m: rows, n: outputs, k: inputs, a: x, lda: inputs,
                              b: weights, ldb: layout == .io ? outputs : inputs, transposeB: layout == .oi,
                              c: output, ldc: outputs)
}
