@testable import Kernels
import Testing

/// `selectAlongAxes` (pad, slice, mirror pad, tile, gather along axes) against the definition
/// written out here: element [i₀, …, iₙ] = x[indices[0][i₀], …], or the fill where any index is −1.
struct SelectAlongAxesTests {
    static func reference(_ x: TensorValue, _ indices: [[Int]], fill: Float) -> [Float] {
        let shape = indices.map(\.count), count = shape.reduce(1, *)
        let strides = rowMajorStrides(x.shape)
        return (0..<count).map { flat in
            var rest = flat, source = 0
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                let index = indices[axis][rest % shape[axis]]
                rest /= shape[axis]
                if index < 0 { return fill }
                source += index * strides[axis]
            }
            return x.values[source]
        }
    }

    static let cases: [(shape: [Int], indices: [[Int]])] = [
        // NHWC zero padding of H and W by (3, 3), channels untouched: runs of W × C per row.
        ([1, 4, 5, 3], [[0], [-1, -1, -1, 0, 1, 2, 3, -1, -1, -1], [-1, -1, -1, 0, 1, 2, 3, 4, -1, -1, -1], [0, 1, 2]]),
        // Padding the last axis itself, a slice with a step, a reversal (mirror pad), a repeat (tile).
        ([2, 3, 4], [[0, 1], [0, 1, 2], [-1, 0, 1, 2, 3, -1]]),
        ([2, 6, 4], [[1], [0, 2, 4], [0, 1, 2, 3]]),
        ([2, 5, 3], [[0, 1], [2, 1, 0, 1, 2, 3, 4, 3, 2], [0, 1, 2]]),
        ([2, 3, 2], [[0, 1, 0, 1], [0, 1, 2, 0, 1, 2], [0, 1]]),
        // Every axis the identity, and a rank-1 tensor.
        ([3, 4], [[0, 1, 2], [0, 1, 2, 3]]),
        ([5], [[-1, 4, 3, 2, -1]]),
        // An empty input that is only padded.
        ([0, 2], [[-1, -1], [0, 1]]),
    ]

    @Test(arguments: cases.indices)
    func matchesTheDefinition(_ number: Int) throws {
        let (shape, indices) = Self.cases[number]
        let x = try TensorValue(shape: shape, values: (0..<shape.reduce(1, *)).map { Float($0) + 0.5 })
        #expect(selectAlongAxes(x, indices, fill: -7) == Self.reference(x, indices, fill: -7))
    }
}
