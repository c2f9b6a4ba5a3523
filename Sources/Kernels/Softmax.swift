import Foundation

/// Softmax (or log-softmax) along the middle axis of an [outer, axis, inner] view, in place, the
/// maximum subtracted first: softmax eᵝ⁽ˣ⁻ᵐᵃˣ⁾ / Σ, log-softmax (x − max) − log Σ eˣ⁻ᵐᵃˣ as TensorFlow
/// and LiteRT compute it. Lines run in parallel; `beta` 1 multiplies exactly.
public func softmax(_ buffer: UnsafeMutableBufferPointer<Float>, outer: Int, axis: Int, inner: Int,
                    logarithm: Bool, beta: Float = 1) {
    guard let base = buffer.baseAddress, axis > 0 else { return }
    Parallel.forEach(outer * inner, grain: max(1, 4096 / axis)) { range in
        for line in range {
            let start = base + (line / inner) * axis * inner + line % inner
            var largest = -Float.infinity
            for i in 0..<axis { largest = max(largest, start[i * inner]) }
            var sum: Float = 0
            if logarithm {
                for i in 0..<axis { sum += expf(start[i * inner] - largest) }
                let logSum = logf(sum)
                for i in 0..<axis { start[i * inner] = start[i * inner] - largest - logSum }
            } else {
                for i in 0..<axis {
                    let value = expf((start[i * inner] - largest) * beta)
                    start[i * inner] = value
                    sum += value
                }
                for i in 0..<axis { start[i * inner] /= sum }
            }
        }
    }
}
