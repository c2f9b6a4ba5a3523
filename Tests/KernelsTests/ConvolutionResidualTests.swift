import Testing
@testable import Kernels

/// A residual added as `convolve` stores its output (an ADD fused into the convolution before
/// it) gives, bit for bit, the convolution followed by the ADD's own loop (`elementwise`), on
/// every path that takes one — pointwise and im2col; keraslite's GEMM (a prepared filter) and
/// OpenBLAS (none); the sums stored over the residual or into another buffer; one core or all;
/// NaN and ±∞ in the residual — and notes the extremes of the convolution's values and of the
/// sums, each exactly those of the finished arrays.
struct ConvolutionResidualTests {
    struct Case: Sendable, CustomStringConvertible {
        let batch, height, width, channels, outputs, window, stride: Int
        let clip: ActivationClip?, addClip: ActivationClip?
        var description: String { "\(batch)×\(height)×\(width)×\(channels) → \(outputs), \(window)×\(window)/\(stride)" }
    }

    static let cases = [
        Case(batch: 2, height: 7, width: 5, channels: 24, outputs: 40, window: 1, stride: 1, clip: nil, addClip: .relu),
        Case(batch: 3, height: 9, width: 9, channels: 8, outputs: 36, window: 3, stride: 2, clip: .relu6, addClip: nil),
        Case(batch: 1, height: 13, width: 11, channels: 5, outputs: 70, window: 3, stride: 1, clip: nil, addClip: .relu6),
    ]

    @Test(arguments: cases, [(false, false), (false, true), (true, false), (true, true)])
    func equalsTheConvolutionThenTheAddition(_ c: Case, variant: (prepared: Bool, inPlace: Bool)) throws {
        let (prepared, inPlace) = variant
        let window = AxisWindow(window: c.window, stride: c.stride, dilation: 1, padding: .same)
        let g = ConvGeometry(batch: c.batch, height: c.height, width: c.width, channels: c.channels, rows: window, columns: window)
        #expect(convolutionAddsResidual(g, groups: 1, outputChannels: c.outputs))
        var random = SeededValues(seed: 2024)
        let x = random.values(c.batch * c.height * c.width * c.channels)
        let weights = random.values(c.window * c.window * c.channels * c.outputs, scale: 0.5)
        let bias = random.values(c.outputs)
        var residual = random.values(g.outputPixels * c.outputs, scale: 3)
        residual[5] = .nan
        residual[17] = .infinity
        residual[residual.count - 1] = -.infinity
        for oneCore in [false, true] {
            let own = OutputExtremes(), sums = OutputExtremes()
            let fused = try convolved(x, g, weights: weights, outputs: c.outputs, bias: bias, clip: c.clip,
                                      prepared: prepared ? PreparedFilter() : nil, extremes: own,
                                      residual: (residual, c.addClip, sums, inPlace), oneCore: oneCore)
            let plain = try convolved(x, g, weights: weights, outputs: c.outputs, bias: bias, clip: c.clip,
                                      prepared: prepared ? PreparedFilter() : nil, oneCore: oneCore)
            let shape = [g.outputPixels, c.outputs]
            let expected = elementwise(try TensorValue(shape: shape, values: plain), try TensorValue(shape: shape, values: residual),
                                       .add, clip: c.addClip).values
            #expect(fused.elementsEqual(expected) { $0.bitPattern == $1.bitPattern }, "\(c), one core: \(oneCore)")
            #expect(fused[5].isNaN)
            func scanned(_ values: [Float]) -> (low: Float, high: Float)? { values.withUnsafeBufferPointer { finiteExtremes($0) } }
            #expect(own.value.map { $0.low == scanned(plain)?.low && $0.high == scanned(plain)?.high } == true)
            #expect(sums.value.map { $0.low == scanned(expected)?.low && $0.high == scanned(expected)?.high } == true)
        }
    }

    /// Winograd, grouped and few-pixel pointwise layers are not stored tile by tile after one
    /// product: the caller adds the residual itself.
    @Test func otherPathsLeaveTheResidualToTheCaller() {
        func geometry(_ size: Int, _ channels: Int, window: Int, batch: Int = 1) -> ConvGeometry {
            let axis = AxisWindow(window: window, stride: 1, dilation: 1, padding: .same)
            return ConvGeometry(batch: batch, height: size, width: size, channels: channels, rows: axis, columns: axis)
        }
        #expect(!convolutionAddsResidual(geometry(14, 64, window: 3), groups: 1, outputChannels: 64))   // Winograd
        #expect(!convolutionAddsResidual(geometry(14, 64, window: 1), groups: 2, outputChannels: 64))   // grouped
        #expect(!convolutionAddsResidual(geometry(2, 64, window: 1), groups: 1, outputChannels: 64))    // 4 pixels
        #expect(convolutionAddsResidual(geometry(14, 64, window: 1), groups: 1, outputChannels: 64))
        #expect(convolutionAddsResidual(geometry(14, 4, window: 3), groups: 1, outputChannels: 64))    // im2col
    }
}
