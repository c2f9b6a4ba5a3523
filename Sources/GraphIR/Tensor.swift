/// A value in the graph: a graph input, an op's output, or a constant (weights).
///
/// Producer and consumers are not stored here; `Graph.producer(of:)` and `Graph.consumers(of:)`
/// derive them, so passes that rewire ops cannot leave them stale.
public final class Tensor: @unchecked Sendable {
    public var name: String
    public var shape: Shape
    public var dtype: DType
    /// The values when this tensor is a constant.
    public var constant: ConstantData?
    /// Quantization parameters, once a quantization pass has assigned them.
    public var quantization: Quantization?

    public init(name: String, shape: Shape, dtype: DType = .float32, constant: ConstantData? = nil,
                quantization: Quantization? = nil) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.constant = constant
        self.quantization = quantization
    }

    public var isConstant: Bool { constant != nil }
}
