/// The clipping activations both formats fuse into the op that precedes them, applied together
/// with the bias: relu [0, ∞), relu6 [0, 6], relu_n1_to_1 [−1, 1].
public enum ActivationClip: Sendable, Equatable {
    case relu, relu6, reluN1To1

    public var low: Float { self == .reluN1To1 ? -1 : 0 }
    public var high: Float {
        switch self {
        case .relu: return .infinity
        case .relu6: return 6
        case .reluN1To1: return 1
        }
    }
}

/// The epilogue of a convolution or dense layer, in place over `count` values of `channels`
/// channels (channels last): adds a per-channel bias and clips, in one pass, rows in parallel;
/// min(max(v + b, low), high) per element.
public func addBiasAndClip(_ output: UnsafeMutablePointer<Float>, count: Int, channels: Int,
                           bias: UnsafePointer<Float>?, clip: ActivationClip?) {
    guard count > 0, channels > 0, bias != nil || clip != nil else { return }
    Parallel.forEach(count / channels, grain: max(1, 16384 / channels)) { range in
        addBiasAndClip(output + range.lowerBound * channels, rows: range.count, channels: channels, bias: bias, clip: clip)
    }
}

/// The same on the calling thread, over `rows` rows of `channels` values: what a core applies to
/// the rows it has just multiplied, while they are still in its cache.
public func addBiasAndClip(_ output: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
                           bias: UnsafePointer<Float>?, clip: ActivationClip?) {
    let bounds = clip.map { (low: $0.low, high: $0.high) }
    for row in 0..<rows {
        let values = output + row * channels
        switch (bias, bounds) {
        case let (bias?, (low, high)?): for c in 0..<channels { values[c] = min(max(values[c] + bias[c], low), high) }
        case let (bias?, nil): for c in 0..<channels { values[c] += bias[c] }
        case let (nil, (low, high)?): for c in 0..<channels { values[c] = min(max(values[c], low), high) }
        case (nil, nil): return
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
