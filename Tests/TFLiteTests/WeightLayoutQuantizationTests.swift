import Foundation
@testable import TFLite
import Testing

/// Weights still in their Keras layout (`Contents.permuted`) are quantized as stored and only the
/// int8 bytes reordered: the bytes and scales must be those of quantizing the reordered floats.
struct WeightLayoutQuantizationTests {
    @Test(arguments: [([3, 3, 4, 6], [3, 0, 1, 2], 0), ([5, 7], [1, 0], 0), ([5, 7], [1, 0], nil),
                      ([4, 5, 6], [2, 0, 1], 1), ([4, 5, 6], [2, 0, 1], 2), ([30, 40, 70], [1, 2, 0], 0)] as [([Int], [Int], Int?)])
    func keraslayoutWeightsQuantizeAsTheReorderedFloats(shape: [Int], permutation: [Int], axis: Int?) throws {
        let count = shape.reduce(1, *)
        // Uneven magnitudes per position, a few exact ties and zeros.
        let values = (0..<count).map(Self.value)
        let final = permutation.map { shape[$0] }
        let reordered = permute(values, shape: shape, permutation)
        let direct = try WeightQuantizer.symmetricInt8(.floats(reordered), shape: final, axis: axis)
        let fused = try WeightQuantizer.symmetricInt8(.permuted(values, shape: shape, permutation: permutation), shape: final, axis: axis)
        #expect(fused.scales == direct.scales)
        #expect(fused.bytes == direct.bytes)
        #expect(direct.scales.count == axis.map { final[$0] } ?? 1)
    }

    static func value(_ i: Int) -> Float {
        if i % 17 == 0 { return 0 }
        let numerator = Float((i * 37) % 101 - 50)
        return numerator / Float(1 + i % 7)
    }
}
