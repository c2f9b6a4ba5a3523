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
