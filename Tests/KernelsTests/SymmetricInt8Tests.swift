import Foundation
@testable import Kernels
import Testing

/// Symmetric per-channel int8 weight quantization: checked against the definition written out here
/// (scale = max|w| / 127, q = w / scale rounded half away from zero and clamped to ±127), on both
/// channel layouts, small and large enough to run on every core, and on hand-worked values.
struct SymmetricInt8Tests {
    /// The definition, element by element, in double precision for the scale's maximum.
    static func reference(_ values: [Float], channels: Int, inner: Int) -> (bytes: [Int8], scales: [Float]) {
        var maxima = [Float](repeating: 0, count: channels)
        for (i, value) in values.enumerated() where !value.isNaN {
            let channel = (i / inner) % channels
            maxima[channel] = Swift.max(maxima[channel], abs(value))
        }
        let scales = maxima.map { $0 > 0 ? $0 / 127 : 1 }
        let bytes = values.enumerated().map { i, value -> Int8 in
            let q = (value / scales[(i / inner) % channels]).rounded(.toNearestOrAwayFromZero)
            if q.isNaN { return 127 }
            return Int8(Swift.max(-127, Swift.min(127, q)))
        }
        return (bytes, scales)
    }

    static func quantized(_ values: [Float], channels: Int, inner: Int) -> (bytes: [Int8], scales: [Float]) {
        var bytes = [Int8](repeating: 0, count: values.count)
        let scales = values.withUnsafeBufferPointer { values in
            bytes.withUnsafeMutableBufferPointer { SymmetricInt8.quantize(values, channels: channels, inner: inner, into: $0) }
        }
        return (bytes, scales)
    }

    @Test(arguments: [(blocks: 7, channels: 5, inner: 1), (blocks: 4, channels: 3, inner: 11), (blocks: 1, channels: 1, inner: 40),
                      (blocks: 3 * 3 * 64, channels: 256, inner: 1), (blocks: 1, channels: 512, inner: 3 * 3 * 64)])
    func matchesTheDefinition(layout: (blocks: Int, channels: Int, inner: Int)) {
        var source = SeededValues(seed: UInt64(layout.blocks * 1000 + layout.channels))
        let values = source.values(layout.blocks * layout.channels * layout.inner, scale: 3)
        let expected = Self.reference(values, channels: layout.channels, inner: layout.inner)
        let (bytes, scales) = Self.quantized(values, channels: layout.channels, inner: layout.inner)
        #expect(scales == expected.scales)
        #expect(bytes == expected.bytes)
        // The large layouts run on every core; one core gives the same bytes.
        let serial = Parallel.serially { Self.quantized(values, channels: layout.channels, inner: layout.inner) }
        #expect(serial.bytes == bytes && serial.scales == scales)
    }

    @Test func tiesRoundAwayFromZeroAndNaNIsIgnoredThenClamped() {
        // Channel 0 has max |w| = 127 (scale exactly 1); channel 1 is all zeros; channel 2 holds a
        // NaN, which does not count towards the maximum (254 → scale 2) and quantizes to 127.
        let values: [Float] = [127, 2.5, -2.5, 0.5, -0.5, 1.4999, -126.5,
                               0, 0, 0, 0, 0, 0, 0,
                               .nan, 254, -3, 1, -1, 253, 0.999]
        let (bytes, scales) = Self.quantized(values, channels: 3, inner: 7)
        #expect(scales == [1, 1, 2])
        #expect(bytes == [127, 3, -3, 1, -1, 1, -127,
                          0, 0, 0, 0, 0, 0, 0,
                          127, 127, -2, 1, -1, 127, 0])
    }

    @Test(arguments: [(rows: 5, columns: 3), (rows: 1, columns: 9), (rows: 576, columns: 300)])
    func transposes(shape: (rows: Int, columns: Int)) {
        let bytes = (0..<(shape.rows * shape.columns)).map { Int8(truncatingIfNeeded: $0 &* 7 &+ $0 / 13) }
        var output = [Int8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBufferPointer { bytes in
            output.withUnsafeMutableBufferPointer { SymmetricInt8.transpose(bytes, rows: shape.rows, columns: shape.columns, into: $0) }
        }
        for row in 0..<shape.rows {
            for column in 0..<shape.columns where output[column * shape.rows + row] != bytes[row * shape.columns + column] {
                Issue.record("element (\(row), \(column)) misplaced")
                return
            }
        }
    }
}
