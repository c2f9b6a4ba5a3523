import Kernels
import Testing

/// The volumetric cores: 3-D im2col + GEMM against the direct sum, the transposed convolution as
/// the convolution's adjoint (same D×H×W×I×O memory), and 3-D pooling's border windows.
struct VolumetricTests {
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 23) / 11 - 1 }
    }

    private func convolve(_ x: [Float], _ g: VolumeGeometry, _ w: [Float], outputChannels: Int) throws -> [Float] {
        var output = [Float](repeating: .nan, count: g.outputPositions * outputChannels)
        try x.withUnsafeBufferPointer { x in
            try w.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBufferPointer { out in
                    try convolve3D(x.baseAddress!, g, weights: w.baseAddress!, outputChannels: outputChannels,
                                   output: out.baseAddress!, workspace: Workspace())
                }
            }
        }
        return output
    }

    @Test func convolutionMatchesTheDirectSum() throws {
        let (batch, sizes, channels, outputs) = (2, [4, 5, 6], 3, 4)
        let windows = [AxisWindow(window: 3, stride: 2, padding: .same), AxisWindow(window: 2, stride: 1, dilation: 2, padding: .same),
                       AxisWindow(window: 3, stride: 2, padding: .same)]
        let g = VolumeGeometry(batch: batch, sizes: sizes, channels: channels, windows: windows)
        #expect(g.outputSizes == [2, 5, 3])
        let x = values(batch * sizes.reduce(1, *) * channels, seed: 1)
        let w = values(3 * 2 * 3 * channels * outputs, seed: 2)
        let output = try convolve(x, g, w, outputChannels: outputs)
        var expected = [Float](repeating: 0, count: output.count)
        for n in 0..<batch { for od in 0..<2 { for oh in 0..<5 { for ow in 0..<3 { for o in 0..<outputs {
            var sum: Float = 0
            for kd in 0..<3 { for kh in 0..<2 { for kw in 0..<3 { for c in 0..<channels {
                let id = od * 2 - g.padBefore[0] + kd, ih = oh - g.padBefore[1] + kh * 2, iw = ow * 2 - g.padBefore[2] + kw
                guard (0..<4).contains(id), (0..<5).contains(ih), (0..<6).contains(iw) else { continue }
                sum += x[(((n * 4 + id) * 5 + ih) * 6 + iw) * channels + c] * w[(((kd * 2 + kh) * 3 + kw) * channels + c) * outputs + o]
            } } } }
            expected[(((n * 2 + od) * 5 + oh) * 3 + ow) * outputs + o] = sum
        } } } } }
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test(arguments: [PaddingMode.valid, .same])
    func transposedConvolutionIsTheAdjoint(padding: PaddingMode) throws {
        // ⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩ with the same weights: D×H×W×I×O is D×H×W×O'×I'.
        let (sizes, channels, outputs) = ([5, 4, 6], 2, 3)
        let windows = [AxisWindow(window: 3, stride: 2, padding: padding), AxisWindow(window: 2, stride: 1, padding: padding),
                       AxisWindow(window: 3, stride: 3, padding: padding)]
        let g = VolumeGeometry(batch: 1, sizes: sizes, channels: channels, windows: windows)
        let x = values(sizes.reduce(1, *) * channels, seed: 3), w = values(3 * 2 * 3 * channels * outputs, seed: 4)
        let y = values(g.outputPositions * outputs, seed: 5)
        let forward = try convolve(x, g, w, outputChannels: outputs)
        var backward = [Float](repeating: 0, count: x.count)
        try y.withUnsafeBufferPointer { y in
            try w.withUnsafeBufferPointer { w in
                try backward.withUnsafeMutableBufferPointer { out in
                    try transposeConvolve3D(y.baseAddress!, g, inputChannels: outputs, weights: w.baseAddress!,
                                            output: out.baseAddress!, workspace: Workspace())
                }
            }
        }
        let left = zip(forward, y).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x, backward).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-3 * max(1, abs(left)))
    }

    @Test func poolingCountsOnlyTheElementsInside() {
        // 1×3×3×3×1 holding 0…26; a 2×2×2 window, stride 2, SAME: the last window along each axis holds one element.
        let x = (0..<27).map(Float.init)
        let window = AxisWindow(window: 2, stride: 2, padding: .same)
        let g = VolumeGeometry(batch: 1, sizes: [3, 3, 3], channels: 1, windows: [window, window, window])
        func run(_ function: PoolFunction) -> [Float] {
            var output = [Float](repeating: .nan, count: g.outputPositions)
            x.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { pool3D(x.baseAddress!, g, function, output: $0.baseAddress!) } }
            return output
        }
        #expect(g.outputSizes == [2, 2, 2])
        #expect(run(.maximum) == [13, 14, 16, 17, 22, 23, 25, 26])
        // First window: 0, 1, 3, 4, 9, 10, 12, 13; the last: 26 alone.
        #expect(run(.average).first == 6.5)
        #expect(run(.average).last == 26)
    }
}
