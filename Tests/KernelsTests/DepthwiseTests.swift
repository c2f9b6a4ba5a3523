import Testing
@testable import Kernels

/// The depthwise convolution: AVX-512 rows (`ck_depthwise_row`, edge pixels one at a time, inner
/// ones four at a time) and the portable Swift loop give the same floats bit for bit — bias, taps
/// in the same order, clip, NaN kept — and both match a double-precision direct sum; the extremes
/// noted while storing are those of the finished output.
struct DepthwiseTests {
    struct Case: Sendable, CustomStringConvertible {
        let batch, height, width, channels, multiplier, window, stride, dilation: Int
        let same: Bool, bias: Bool, clip: ActivationClip?
        var description: String {
            "\(batch)×\(height)×\(width)×\(channels)·\(multiplier), \(window)×\(window)/\(stride) d\(dilation) \(same ? "same" : "valid")"
        }
    }

    static let cases = [
        Case(batch: 2, height: 9, width: 7, channels: 19, multiplier: 1, window: 3, stride: 1, dilation: 1, same: true, bias: true, clip: .relu6),
        Case(batch: 1, height: 12, width: 12, channels: 32, multiplier: 1, window: 3, stride: 2, dilation: 1, same: true, bias: false, clip: nil),
        Case(batch: 1, height: 12, width: 11, channels: 5, multiplier: 1, window: 5, stride: 1, dilation: 2, same: false, bias: true, clip: .relu),
        Case(batch: 3, height: 6, width: 5, channels: 16, multiplier: 1, window: 3, stride: 2, dilation: 1, same: false, bias: true, clip: .reluN1To1),
        Case(batch: 1, height: 10, width: 40, channels: 24, multiplier: 1, window: 3, stride: 1, dilation: 1, same: true, bias: true, clip: .relu6),
        Case(batch: 1, height: 9, width: 33, channels: 16, multiplier: 1, window: 5, stride: 2, dilation: 1, same: true, bias: false, clip: nil),
        Case(batch: 1, height: 7, width: 7, channels: 6, multiplier: 2, window: 3, stride: 1, dilation: 1, same: true, bias: true, clip: .relu6),
    ]

    @Test(arguments: cases) func vectorizedAndPortableRowsAgree(_ c: Case) throws {
        let window = AxisWindow(window: c.window, stride: c.stride, dilation: c.dilation, padding: c.same ? .same : .valid)
        let g = ConvGeometry(batch: c.batch, height: c.height, width: c.width, channels: c.channels, rows: window, columns: window)
        let outputs = c.channels * c.multiplier
        var random = SeededValues(seed: 77)
        var x = random.values(c.batch * c.height * c.width * c.channels, scale: 2)
        x[3] = .nan  // reaches the outputs whose window holds pixel 0, channel 3 (channel 3·M… in the output)
        let weights = random.values(c.window * c.window * outputs)
        let bias = c.bias ? random.values(outputs) : nil
        func convolved(vectorized: Bool, note: OutputExtremes) -> [Float] {
            var output = [Float](repeating: 1234, count: g.outputPixels * outputs)
            x.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { out in
                        depthwiseConvolve(x.baseAddress!, g, weights: w.baseAddress!, multiplier: c.multiplier, bias: bias, clip: c.clip,
                                          output: out.baseAddress!, extremes: note, vectorized: vectorized)
                    }
                }
            }
            return output
        }
        let vectorNote = OutputExtremes(), portableNote = OutputExtremes()
        let vectorized = convolved(vectorized: GEMM.packedAvailable, note: vectorNote)
        let portable = convolved(vectorized: false, note: portableNote)
        #expect(vectorized.elementsEqual(portable) { $0.bitPattern == $1.bitPattern })
        #expect(vectorized.contains { $0.isNaN })
        let scanned = vectorized.withUnsafeBufferPointer { finiteExtremes($0) }
        for note in [vectorNote, portableNote] {
            #expect(note.value.map { $0.low == scanned?.low && $0.high == scanned?.high } == true)
        }
        // Against the direct sum in double precision (NaN where a NaN pixel is in the window).
        for n in 0..<c.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for o in 0..<outputs {
            let channel = o / c.multiplier
            var sum = Double(bias?[o] ?? 0), magnitude = abs(sum)
            for kh in 0..<c.window { for kw in 0..<c.window {
                let ih = oh * c.stride - g.padTop + kh * c.dilation, iw = ow * c.stride - g.padLeft + kw * c.dilation
                guard ih >= 0, ih < c.height, iw >= 0, iw < c.width else { continue }
                let term = Double(x[((n * c.height + ih) * c.width + iw) * c.channels + channel]) * Double(weights[(kh * c.window + kw) * outputs + o])
                sum += term
                magnitude += abs(term)
            } }
            if let clip = c.clip, !sum.isNaN { sum = min(max(sum, Double(clip.low)), Double(clip.high)) }
            let got = Double(vectorized[((n * g.outputHeight + oh) * g.outputWidth + ow) * outputs + o])
            if sum.isNaN { #expect(got.isNaN) } else { #expect(abs(got - sum) <= 1e-5 * max(magnitude, 1), "\(c) pixel \(n),\(oh),\(ow) channel \(o)") }
        } } } }
    }
}
