/// Affine quantization parameters: real = scale × (q − zeroPoint), per tensor or per channel along `axis`.
public struct Quantization: Equatable, Sendable {
    public var scales: [Float]
    public var zeroPoints: [Int64]
    /// The channel axis for per-channel parameters; nil for per-tensor.
    public var axis: Int?

    public init(scales: [Float], zeroPoints: [Int64], axis: Int? = nil) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
    }

    public var isPerChannel: Bool { axis != nil }
}

/// The range a float tensor's values take on calibration data (or an estimate of the range to
/// keep), from which full-integer quantization chooses the tensor's scale and zero point.
public struct ValueRange: Equatable, Sendable {
    public var min: Float
    public var max: Float

    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }

    /// The smallest activation scale int8 quantization uses (6 / 1e-8 fits an int32 comfortably).
    public static let minimumScale: Float = 1e-8

    /// Affine int8 parameters covering the range and zero (so that zero padding is exact), as
    /// TensorFlow nudges them: scale = (max − min) / 255 (at least `minimumScale`), zero point =
    /// round(−128 − min / scale). An empty or non-finite range gets [0, 1].
    public var int8Parameters: (scale: Float, zeroPoint: Int64) {
        var low = Swift.min(min, 0), high = Swift.max(max, 0)
        if !(high - low > 0) || !low.isFinite || !high.isFinite { (low, high) = (0, 1) }
        // At least `minimumScale`: LiteRT's kernels quantize a fused RELU6's 6 with the output scale
        // and refuse scales whose int32 result overflows (a pruned, almost-zero activation).
        let scale = Swift.max((high - low) / 255, Self.minimumScale)
        let zeroPoint = (-128 - low / scale).rounded()
        return (scale, Int64(Swift.max(-128, Swift.min(127, zeroPoint))))
    }
}
