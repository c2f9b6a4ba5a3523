import Foundation
@testable import Kernels
import Testing

/// The extremes a kernel notes while writing its output (`OutputExtremes`) are exactly what a scan
/// of the finished output finds (`finiteExtremes`), on every path of `convolve` and `elementwise`:
/// NaN and ±∞ skipped, Winograd's pixels past the output's edge not counted, one core and all.
struct OutputExtremesTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var batch, size, channels, outputs, window, stride, groups: Int
        var description: String { name }
    }

    static let cases: [Case] = [
        // 3×3 stride 1 on a 7×7 output: Winograd, 2×2 tiles of which a row and a column are cut off.
        Case(name: "winograd 7×7", batch: 3, size: 7, channels: 32, outputs: 48, window: 3, stride: 1, groups: 1),
        Case(name: "winograd 10×10", batch: 2, size: 10, channels: 16, outputs: 24, window: 3, stride: 1, groups: 1),
        Case(name: "pointwise", batch: 2, size: 9, channels: 24, outputs: 40, window: 1, stride: 1, groups: 1),
        Case(name: "pointwise, few pixels", batch: 1, size: 2, channels: 24, outputs: 40, window: 1, stride: 1, groups: 1),
        Case(name: "im2col stride 2", batch: 2, size: 13, channels: 8, outputs: 36, window: 3, stride: 2, groups: 1),
        Case(name: "grouped", batch: 2, size: 8, channels: 16, outputs: 32, window: 3, stride: 1, groups: 4),
    ]

    /// The output's own finite extremes, (+∞, −∞) when none.
    private func scanned(_ values: [Float]) -> (Float, Float) {
        values.withUnsafeBufferPointer { finiteExtremes($0) }.map { ($0.low, $0.high) } ?? (.infinity, -.infinity)
    }

    /// Convolves with a note; returns what it noted and the output.
    private func noted(_ x: [Float], _ g: ConvGeometry, weights: [Float], bias: [Float], groups: Int, outputs: Int,
                       prepared: PreparedFilter?, clip: ActivationClip?, oneCore: Bool) throws -> (noted: (low: Float, high: Float)?, output: [Float]) {
        let note = OutputExtremes()
        let output = try convolved(x, g, weights: weights, groups: groups, outputs: outputs, bias: bias, clip: clip, prepared: prepared,
                                   extremes: note, oneCore: oneCore)
        return (note.value, output)
    }

    @Test(arguments: cases, [false, true]) func convolutionNotesWhatItWrites(_ c: Case, oneCore: Bool) throws {
        let window = AxisWindow(window: c.window, stride: c.stride, dilation: 1, padding: .same)
        let g = ConvGeometry(batch: c.batch, height: c.size, width: c.size, channels: c.channels, rows: window, columns: window)
        var random = SeededValues(seed: 0xC0FFEE)
        var x = random.values(c.batch * c.size * c.size * c.channels, scale: 4)
        x[min(5, c.size * c.size - 1) * c.channels + 1] = .nan  // NaN in every output pixel whose window covers it
        x[x.count - 1] = .infinity
        let weights = random.values(c.window * c.window * (c.channels / c.groups) * c.outputs, scale: 0.3)
        let bias = random.values(c.outputs)
        // A prepared filter is packed for keraslite's GEMM where it runs (its epilogue notes); without
        // one, OpenBLAS multiplies and each tile is scanned. Unclipped, so no bound hides a miss.
        for (prepared, clip) in [(PreparedFilter(), nil), (PreparedFilter(), .relu), (nil, nil)] as [(PreparedFilter?, ActivationClip?)] {
            let (noted, output) = try noted(x, g, weights: weights, bias: bias, groups: c.groups, outputs: c.outputs,
                                            prepared: prepared, clip: clip, oneCore: oneCore)
            #expect(output.contains { $0.isNaN } && output.contains { $0.isFinite })
            let extremes = try #require(noted, "\(c) did not complete its note")
            let expected = scanned(output)
            #expect(extremes.low == expected.0 && extremes.high == expected.1, "\(c), clip \(String(describing: clip))")
        }
    }

    /// Winograd computes whole 4×4 tiles: on a 7×7 output the last row and column of tiles are
    /// computed and dropped. Only the top filter row is non-zero here, so the dropped output row 7
    /// is the only one that sees input row 6 — made far larger than the rest — through it.
    @Test func winogradCountsOnlyPixelsInsideTheOutput() throws {
        let window = AxisWindow(window: 3, stride: 1, dilation: 1, padding: .same)
        let g = ConvGeometry(batch: 1, height: 7, width: 7, channels: 16, rows: window, columns: window)
        #expect(Winograd.applies(g, groups: 1, outputChannels: 16))
        var random = SeededValues(seed: 7)
        var x = random.values(7 * 7 * 16)
        for i in (6 * 7 * 16)..<(7 * 7 * 16) { x[i] = 1000 }
        var weights = random.values(9 * 16 * 16, scale: 0.1).map(abs)
        for i in (3 * 16 * 16)..<weights.count { weights[i] = 0 }  // taps of filter rows 1 and 2
        let (noted, output) = try noted(x, g, weights: weights, bias: [Float](repeating: 0, count: 16), groups: 1, outputs: 16,
                                        prepared: PreparedFilter(), clip: nil, oneCore: true)
        let extremes = try #require(noted)
        let expected = scanned(output)
        #expect(expected.1 < 100)
        #expect(extremes.low == expected.0 && extremes.high == expected.1)
    }

    @Test(arguments: [false, true]) func elementwiseNotesWhatItWrites(oneCore: Bool) throws {
        // Enough elements for both cores and many 4096-element blocks, with NaN and ±∞ among them.
        var random = SeededValues(seed: 42)
        var a = random.values(70_007, scale: 3), b = random.values(70_007, scale: 3)
        a[17] = .nan
        b[40_000] = .infinity
        a[69_999] = -.infinity
        let left = try TensorValue(shape: [7, 10_001, 1], values: a), right = try TensorValue(shape: [7, 10_001, 1], values: b)
        for (operation, clip) in [(BinaryOperator.add, ActivationClip.relu), (.multiply, nil)] as [(BinaryOperator, ActivationClip?)] {
            let note = OutputExtremes()
            let call = { elementwise(left, right, operation, clip: clip, extremes: note) }
            let result = oneCore ? Parallel.serially(call) : call()
            #expect(result.values.map(\.bitPattern) == elementwise(left, right, operation, clip: clip).values.map(\.bitPattern))
            let noted = try #require(note.value)
            let expected = scanned(result.values)
            #expect(noted.low == expected.0 && noted.high == expected.1, "\(operation)")
        }
    }

    /// Into an operand's storage: the same values, noted the same way; the storage reused when
    /// the operand's value is the only reference to it, and copied first — the caller's value
    /// untouched — when it is shared.
    @Test(arguments: [ElementwiseTarget.first, .second]) func elementwiseIntoAnOperand(_ target: ElementwiseTarget) throws {
        var random = SeededValues(seed: 9)
        let shape = [3, 40_001]
        let left = try TensorValue(shape: shape, values: random.values(120_003, scale: 2))
        let right = try TensorValue(shape: shape, values: random.values(120_003, scale: 2))
        let expected = elementwise(left, right, .subtract, clip: .relu6)
        func base(_ value: TensorValue) -> UnsafePointer<Float>? { value.values.withUnsafeBufferPointer { $0.baseAddress } }
        // Unique: a fresh copy of the operand, passed on with `consume`.
        var a = left, b = right
        if target == .first { a.withUnsafeMutableValues { _ in } } else { b.withUnsafeMutableValues { _ in } }  // own storage
        let storage = base(target == .first ? a : b)
        let note = OutputExtremes()
        let result = elementwise(consume a, consume b, .subtract, clip: .relu6, extremes: note, into: target)
        #expect(result.values == expected.values)
        #expect(base(result) == storage, "the result was written to new storage")
        let noted = try #require(note.value)
        let scanned = try #require(result.values.withUnsafeBufferPointer { finiteExtremes($0) })
        #expect(noted.low == scanned.low && noted.high == scanned.high)
        // Shared: the caller keeps its value.
        let before = target == .first ? left : right
        let shared = elementwise(left, right, .subtract, clip: .relu6, into: target)
        #expect(shared.values == expected.values)
        #expect((target == .first ? left : right) == before && base(shared) != base(before))
    }

    @Test func anEmptyOrNotNotedOutputSaysSo() throws {
        let note = OutputExtremes()
        #expect(note.value == nil)  // nothing completed it: the caller scans
        let empty = try TensorValue(shape: [0, 3], values: [])
        _ = elementwise(empty, empty, .add, clip: nil, extremes: note)
        let noted = try #require(note.value)
        #expect(noted.low == .infinity && noted.high == -.infinity)
        let nothingFinite = OutputExtremes()
        let nan = try TensorValue(shape: [3], values: [.nan, .infinity, .nan])
        _ = elementwise(nan, nan, .add, clip: nil, extremes: nothingFinite)
        #expect(nothingFinite.value.map { $0.low == .infinity && $0.high == -.infinity } == true)
    }
}
