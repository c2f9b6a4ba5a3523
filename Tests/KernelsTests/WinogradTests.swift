import Foundation
@testable import Kernels
import Testing

/// 3×3 stride-1 convolutions of 16+ channels go through Winograd F(4×4, 3×3): checked against a
/// direct sum in double precision written here, over shapes that leave partial tiles at the
/// bottom/right, SAME and VALID padding, both filter layouts, bias and every clip, one core and all.
struct WinogradTests {
    struct Case: Sendable, CustomStringConvertible {
        var batch, height, width, channels, outputs: Int
        var same: Bool
        var layout: FilterLayout
        var clip: ActivationClip?
        var description: String { "\(batch)×\(height)×\(width)×\(channels)→\(outputs) \(same ? "same" : "valid") \(layout) \(clip.map { "\($0)" } ?? "linear")" }
    }

    static let cases: [Case] = [
        Case(batch: 1, height: 8, width: 8, channels: 16, outputs: 16, same: true, layout: .hwio, clip: nil),
        Case(batch: 2, height: 11, width: 13, channels: 24, outputs: 40, same: true, layout: .ohwi, clip: .relu),
        Case(batch: 3, height: 14, width: 10, channels: 32, outputs: 16, same: false, layout: .hwio, clip: .relu6),
        Case(batch: 1, height: 29, width: 30, channels: 64, outputs: 32, same: true, layout: .ohwi, clip: .reluN1To1),
        Case(batch: 2, height: 10, width: 10, channels: 16, outputs: 24, same: false, layout: .ohwi, clip: nil),
        Case(batch: 3, height: 7, width: 7, channels: 48, outputs: 32, same: true, layout: .hwio, clip: .relu),
        // 56 tiles in blocks of 48 on one core: the 8 left over join the last block (56 rows).
        Case(batch: 14, height: 7, width: 7, channels: 256, outputs: 16, same: true, layout: .ohwi, clip: nil),
    ]

    @Test func appliesToWhatItIsFastFor() {
        func geometry(_ size: Int, channels: Int, stride: Int = 1, window: Int = 3) -> ConvGeometry {
            let axis = AxisWindow(window: window, stride: stride, padding: .same)
            return ConvGeometry(batch: 1, height: size, width: size, channels: channels, rows: axis, columns: axis)
        }
        #expect(Winograd.applies(geometry(14, channels: 256), groups: 1, outputChannels: 256))  // ResNet50 stage 4
        #expect(Winograd.applies(geometry(7, channels: 512), groups: 1, outputChannels: 512))  // stage 5: 2×2 tiles
        #expect(!Winograd.applies(geometry(6, channels: 512), groups: 1, outputChannels: 512))  // 6×6 output: im2col
        #expect(!Winograd.applies(geometry(28, channels: 64, stride: 2), groups: 1, outputChannels: 64))
        #expect(!Winograd.applies(geometry(28, channels: 64, window: 5), groups: 1, outputChannels: 64))
        #expect(!Winograd.applies(geometry(28, channels: 4), groups: 1, outputChannels: 64))
        #expect(!Winograd.applies(geometry(28, channels: 64), groups: 2, outputChannels: 64))
        #expect(!Winograd.applies(geometry(28, channels: 20), groups: 1, outputChannels: 64))  // not whole 8-lane vectors
        // A transformed filter over GEMM.packedElementLimit (36 · 2048 · 2048 floats) stays im2col.
        #expect(Winograd.applies(geometry(16, channels: 1024), groups: 1, outputChannels: 1024))
        #expect(!Winograd.applies(geometry(16, channels: 2048), groups: 1, outputChannels: 2048))
    }

    @Test(arguments: cases, [false, true]) func matchesDirectSum(_ c: Case, oneCore: Bool) throws {
        let pad = c.same ? 1 : 0
        let window = AxisWindow(window: 3, stride: 1, dilation: 1, padding: c.same ? .same : .valid)
        let g = ConvGeometry(batch: c.batch, height: c.height, width: c.width, channels: c.channels, rows: window, columns: window)
        #expect(g.outputHeight == (c.same ? c.height : c.height - 2) && g.padTop == pad)
        var random = SeededValues(seed: 0x9E37_79B9_7F4A_7C15)
        let x = random.values(c.batch * c.height * c.width * c.channels)
        let hwio = random.values(9 * c.channels * c.outputs, scale: 0.2)
        let bias = random.values(c.outputs)
        var filter = hwio
        if c.layout == .ohwi {
            for tap in 0..<9 { for i in 0..<c.channels { for o in 0..<c.outputs {
                filter[(o * 9 + tap) * c.channels + i] = hwio[(tap * c.channels + i) * c.outputs + o]
            } } }
        }
        let workspace = Workspace()
        func convolved(_ prepared: PreparedFilter?) throws -> [Float] {
            try KernelsTests.convolved(x, g, weights: filter, layout: c.layout, outputs: c.outputs, bias: bias, clip: c.clip,
                                       prepared: prepared, workspace: workspace, oneCore: oneCore)
        }
        // Transformed on every call, and a layer's prepared filter (transformed — and packed for
        // keraslite's GEMM where it runs — on the first call, reused by the next): both checked.
        let prepared = PreparedFilter()
        let preparedOutput = try convolved(prepared)
        #expect(try convolved(prepared) == preparedOutput)
        for output in [try convolved(nil), preparedOutput] {
            var worst = 0.0
            for n in 0..<c.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for o in 0..<c.outputs {
                var sum = Double(bias[o]), magnitude = abs(Double(bias[o]))
                for kh in 0..<3 { for kw in 0..<3 {
                    let ih = oh + kh - pad, iw = ow + kw - pad
                    guard ih >= 0, ih < c.height, iw >= 0, iw < c.width else { continue }
                    for i in 0..<c.channels {
                        let term = Double(x[((n * c.height + ih) * c.width + iw) * c.channels + i]) * Double(hwio[((kh * 3 + kw) * c.channels + i) * c.outputs + o])
                        sum += term
                        magnitude += abs(term)
                    }
                } }
                if let clip = c.clip { sum = min(max(sum, Double(clip.low)), Double(clip.high)) }
                let got = Double(output[((n * g.outputHeight + oh) * g.outputWidth + ow) * c.outputs + o])
                // float32 rounding of the transforms: a few ulps of the sum of |terms|.
                worst = max(worst, abs(got - sum) / max(magnitude, 1e-3))
                #expect(abs(got - sum) <= 1e-5 * max(magnitude, 1e-3), "pixel \(n),\(oh),\(ow) channel \(o): \(got) vs \(sum)")
            } } } }
            #expect(worst < 1e-5)
        }
    }
}

/// The AVX-512 tile transforms compute the same floats as the portable Swift ones (the same
/// operations in the same order), 16 lanes and an 8-lane tail, bias and clip included.
struct WinogradTransformTests {
    @Test func vectorizedTransformsEqualThePortableOnes() throws {
        try #require(Winograd.vectorized, "the processor has no AVX-512F: only the portable transforms run")
        let count = 24
        var source = SeededValues(seed: 77)
        let inputs = (0..<6).map { _ in source.values(count, scale: 5) }
        let bias = source.values(count)
        func run(_ body: (UnsafePointer<UnsafePointer<Float>>, UnsafePointer<UnsafeMutablePointer<Float>>) -> Void, outputs: Int) -> [[Float]] {
            var results = (0..<outputs).map { _ in [Float](repeating: .nan, count: count) }
            let sources = inputs.map { values -> UnsafePointer<Float> in
                let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
                pointer.initialize(from: values, count: count)
                return UnsafePointer(pointer)
            }
            let targets = (0..<outputs).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
            defer {
                sources.forEach { $0.deallocate() }
                targets.forEach { $0.deallocate() }
            }
            sources.withUnsafeBufferPointer { s in targets.withUnsafeBufferPointer { t in body(s.baseAddress!, t.baseAddress!) } }
            for j in 0..<outputs { results[j] = Array(UnsafeBufferPointer(start: targets[j], count: count)) }
            return results
        }
        #expect(run({ Winograd.input($0, $1, count: count) }, outputs: 6) == run({ Winograd.inputTransform($0, $1, count: count) }, outputs: 6))
        #expect(run({ Winograd.output($0, $1, count: count, finish: false, bias: nil, clip: nil) }, outputs: 4)
                == run({ Winograd.outputTransform($0, $1, count: count) }, outputs: 4))
        let clip = ActivationClip.relu6
        let finished = bias.withUnsafeBufferPointer { bias in
            run({ Winograd.output($0, $1, count: count, finish: true, bias: bias.baseAddress, clip: clip) }, outputs: 4)
        }
        let expected = run({ Winograd.outputTransform($0, $1, count: count) }, outputs: 4).map { row in
            zip(row, bias).map { value, b -> Float in
                let v = value + b
                return v < clip.low ? clip.low : v > clip.high ? clip.high : v
            }
        }
        #expect(finished == expected)
    }
}
