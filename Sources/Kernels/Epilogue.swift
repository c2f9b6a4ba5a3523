/// The clipping activations both formats fuse into the op that precedes them, applied together
/// with the bias: relu [0, ∞), relu6 [0, 6], relu_n1_to_1 [−1, 1].
public struct ActivationClip: Sendable, Equatable {
    public var low: Float
    public var high: Float

    public init(low: Float, high: Float) {
        self.low = low
        self.high = high
    }

    public static let relu = ActivationClip(low: 0, high: .infinity)
    public static let relu6 = ActivationClip(low: 0, high: 6)
    public static let reluN1To1 = ActivationClip(low: -1, high: 1)
}

/// The epilogue of a convolution or dense layer, in place over `count` values of `channels`
/// channels (channels last): adds a per-channel bias and clips, in one pass, rows in parallel;
/// min(max(v + b, low), high) per element.
public func addBiasAndClip(_ output: UnsafeMutablePointer<Float>, count: Int, channels: Int,
                           bias: UnsafePointer<Float>?, clip: ActivationClip?) {
    guard count > 0, channels > 0, bias != nil || clip != nil else { return }
    Parallel.forEach(count / channels, grain: max(1, 16384 / channels)) { range in
        for row in range {
            let values = output + row * channels
            switch (bias, clip) {
            case let (bias?, clip?): for c in 0..<channels { values[c] = min(max(values[c] + bias[c], clip.low), clip.high) }
            case let (bias?, nil): for c in 0..<channels { values[c] += bias[c] }
            case let (nil, clip?): for c in 0..<channels { values[c] = min(max(values[c], clip.low), clip.high) }
            case (nil, nil): break
            }
        }
    }
}

/// Applies `transform` to every element in place, in parallel for large buffers. Inlinable so
/// each caller's closure is specialized into the loop.
@inlinable
public func transformEach(_ buffer: UnsafeMutableBufferPointer<Float>, _ transform: (Float) -> Float) {
    guard let base = buffer.baseAddress else { return }
    Parallel.forEach(buffer.count, grain: 1 << 14) { range in
        for i in range { base[i] = transform(base[i]) }
    }
}
