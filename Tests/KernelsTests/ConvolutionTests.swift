import Kernels
import Testing

/// The convolution cores agree across filter layouts, since each interpreter passes its own.
struct ConvolutionTests {
    @Test func transposeConvolutionLayoutsAgree() throws {
        // 1×2×2×2 input, 2×2 filter taps, 3 output channels, stride 2.
        let input: [Float] = (0..<8).map { Float($0) - 3.5 }
        let geometry = TransposeConvGeometry(batch: 1, height: 2, width: 2, inputChannels: 2,
                                             outputHeight: 4, outputWidth: 4, outputChannels: 3,
                                             kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                             padTop: 0, padLeft: 0)
        let hwoi: [Float] = (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }
        // The same filter as O×H×W×I.
        var ohwi = [Float](repeating: 0, count: 24)
        for tap in 0..<4 { for o in 0..<3 { for i in 0..<2 { ohwi[(o * 4 + tap) * 2 + i] = hwoi[(tap * 3 + o) * 2 + i] } } }
        func run(_ filter: [Float], _ layout: TransposeFilterLayout) throws -> [Float] {
            var output = [Float](repeating: 0, count: geometry.outputCount)
            let workspace = Workspace()
            try input.withUnsafeBufferPointer { x in
                try filter.withUnsafeBufferPointer { w in
                    try output.withUnsafeMutableBufferPointer { out in
                        try transposeConvolve(x.baseAddress!, geometry, weights: w.baseAddress!, layout: layout,
                                              output: out.baseAddress!, workspace: workspace)
                    }
                }
            }
            return output
        }
        let reference = try run(hwoi, .hwoi)
        #expect(try run(ohwi, .ohwi) == reference)
        // Stride 2 with 2×2 taps: every output pixel receives exactly one input pixel's column.
        #expect(reference[0] == input[0] * hwoi[0] + input[1] * hwoi[1])
    }

    @Test func broadcastShapes() {
        #expect(broadcastShape([2, 1, 3], [4, 1]) == [2, 4, 3])
        #expect(broadcastShape([2, 3], [4]) == nil)
    }

    @Test func tensorValueChecksCounts() {
        #expect(throws: KernelError.self) { try TensorValue(shape: [2, 2], values: [1]) }
    }
}

/// Every `BinaryOperator` has a specialized loop computing its function, broadcast or not.
struct BinaryOperatorTests {
    @Test(arguments: BinaryOperator.allCases) func everyOperatorComputesItsFunction(_ operation: BinaryOperator) throws {
        let reference: (Float, Float) -> Float
        switch operation {
        case .add: reference = { $0 + $1 }
        case .subtract: reference = { $0 - $1 }
        case .multiply: reference = { $0 * $1 }
        case .divide: reference = { $0 / $1 }
        case .maximum: reference = { max($0, $1) }
        case .minimum: reference = { min($0, $1) }
        case .prelu: reference = { $0 > 0 ? $0 : $1 * $0 }
        }
        let a = try TensorValue(shape: [2, 3], values: [-2, -1, 0, 1, 2, 3]), b = try TensorValue(shape: [3], values: [0.5, -4, 2])
        let shape = try #require(broadcastShape(a.shape, b.shape))
        let expected = (0..<6).map { reference(a.values[$0], b.values[$0 % 3]) }
        #expect(broadcastBinary(a, b, shape: shape, operation).values == expected)
        #expect(broadcastBinary(a, b, shape: shape, function: reference).values == expected)
    }
}
