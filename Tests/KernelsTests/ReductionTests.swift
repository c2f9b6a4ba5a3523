import Kernels
import Testing

/// Every `Reduction` and `PoolFunction` case computes its function (the enums are the kernels' tables).
struct ReductionTests {
    @Test(arguments: Reduction.allCases) func everyReductionComputesItsFunction(_ reduction: Reduction) throws {
        // [2, 3] reduced over axis 1.
        let x = try TensorValue(shape: [2, 3], values: [1, -2, 4, 0, 3, 0])
        let expected: [Float]
        switch reduction {
        case .mean: expected = [1, 1]
        case .sum: expected = [3, 3]
        case .product: expected = [-8, 0]
        case .maximum: expected = [4, 3]
        case .minimum: expected = [-2, 0]
        case .any: expected = [1, 1]
        case .all: expected = [1, 0]
        }
        #expect(reduce(x, to: [2, 1], reduction) == expected)
    }

    @Test(arguments: PoolFunction.allCases) func everyPoolFunctionComputesItsFunction(_ function: PoolFunction) {
        // One 2×2 window over a 1×2×2×1 image.
        let image: [Float] = [1, -3, 3, 5]
        let geometry = ConvGeometry(batch: 1, height: 2, width: 2, channels: 1,
                                    rows: AxisWindow(window: 2, stride: 2, padding: .valid),
                                    columns: AxisWindow(window: 2, stride: 2, padding: .valid))
        var output: [Float] = [0]
        image.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { pool(x.baseAddress!, geometry, function, output: $0.baseAddress!) } }
        let expected: Float
        switch function {
        case .maximum: expected = 5
        case .average: expected = 1.5
        case .l2: expected = Float(11).squareRoot()  // √((1 + 9 + 9 + 25) / 4)
        }
        #expect(output[0] == expected)
    }
}
