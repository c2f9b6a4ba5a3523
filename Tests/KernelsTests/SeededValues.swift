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
/// nothing was written. With `residual`, its values are added as the output is stored — in a
/// buffer of their own, or, `inPlace`, in the output itself (which then starts as them).
func convolved(_ x: [Float], _ g: ConvGeometry, weights: [Float], layout: FilterLayout = .hwio, groups: Int = 1, outputs: Int,
               bias: [Float], clip: ActivationClip?, prepared: PreparedFilter?, extremes: OutputExtremes? = nil,
               residual: (values: [Float], clip: ActivationClip?, extremes: OutputExtremes?, inPlace: Bool)? = nil,
               workspace: Workspace = Workspace(), oneCore: Bool) throws -> [Float] {
    var output = residual?.inPlace == true ? residual!.values : [Float](repeating: .nan, count: g.outputPixels * outputs)
    try x.withUnsafeBufferPointer { x in
        try weights.withUnsafeBufferPointer { w in
            try bias.withUnsafeBufferPointer { b in
                try (residual?.values ?? []).withUnsafeBufferPointer { r in
                    try output.withUnsafeMutableBufferPointer { out in
                        let target = out.baseAddress!
                        let added = residual.map { residual in
                            ConvolutionResidual(values: residual.inPlace ? UnsafePointer(target) : r.baseAddress!, clip: residual.clip,
                                                extremes: residual.extremes)
                        }
                        let call = {
                            try convolve(x.baseAddress!, g, weights: w.baseAddress!, layout: layout, groups: groups, outputChannels: outputs,
                                         output: target, workspace: workspace, bias: b.baseAddress!, clip: clip, prepared: prepared,
                                         extremes: extremes, residual: added)
                        }
                        if oneCore { try Parallel.serially(call) } else { try call() }
                    }
                }
            }
        }
    }
    return output
}
