@testable import Kernels

/// Reproducible test inputs: a 64-bit linear congruential generator giving multiples of 1/1000 in
/// [−1, 1] (times `scale`), so every run of a kernel test sees the same values.
struct SeededValues {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(scale: Float = 1) -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000 * scale
    }

    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in next(scale: scale) }
    }
}

/// `convolve` on arrays, on one core (inside `Parallel.serially`) or all: the output, NaN where
/// nothing was written.
func convolved(_ x: [Float], _ g: ConvGeometry, weights: [Float], layout: FilterLayout = .hwio, groups: Int = 1, outputs: Int,
               bias: [Float], clip: ActivationClip?, prepared: PreparedFilter?, extremes: OutputExtremes? = nil,
               workspace: Workspace = Workspace(), oneCore: Bool) throws -> [Float] {
    var output = [Float](repeating: .nan, count: g.outputPixels * outputs)
    try x.withUnsafeBufferPointer { x in
        try weights.withUnsafeBufferPointer { w in
            try bias.withUnsafeBufferPointer { b in
                try output.withUnsafeMutableBufferPointer { out in
                    let target = out.baseAddress!
                    let call = {
                        try convolve(x.baseAddress!, g, weights: w.baseAddress!, layout: layout, groups: groups, outputChannels: outputs,
                                     output: target, workspace: workspace, bias: b.baseAddress!, clip: clip, prepared: prepared,
                                     extremes: extremes)
                    }
                    if oneCore { try Parallel.serially(call) } else { try call() }
                }
            }
        }
    }
    return output
}
