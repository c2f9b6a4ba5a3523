/// A Swift type an op attribute can hold, and how it is stored as an `Attribute`.
public protocol AttributeValue: Sendable, Equatable {
    /// The value held by `attribute`, or nil when it holds another type.
    init?(attribute: Attribute)
    var attribute: Attribute { get }
    /// The type's name in verifier messages ("ints", "float", …).
    static var typeName: String { get }
}

extension Int: AttributeValue {
    public init?(attribute: Attribute) {
        guard case .int(let value) = attribute else { return nil }
        self = value
    }
    public var attribute: Attribute { .int(self) }
    public static var typeName: String { "int" }
}

extension Float: AttributeValue {
    /// An integer attribute reads as a float (Keras configs write `1` for `1.0`).
    public init?(attribute: Attribute) {
        switch attribute {
        case .float(let value): self = value
        case .int(let value): self = Float(value)
        default: return nil
        }
    }
    public var attribute: Attribute { .float(self) }
    public static var typeName: String { "float" }
}

extension Bool: AttributeValue {
    public init?(attribute: Attribute) {
        guard case .bool(let value) = attribute else { return nil }
        self = value
    }
    public var attribute: Attribute { .bool(self) }
    public static var typeName: String { "bool" }
}

extension String: AttributeValue {
    public init?(attribute: Attribute) {
        guard case .string(let value) = attribute else { return nil }
        self = value
    }
    public var attribute: Attribute { .string(self) }
    public static var typeName: String { "string" }
}

extension Array: AttributeValue where Element: ListAttributeElement {
    public init?(attribute: Attribute) {
        guard let values = Element.list(from: attribute) else { return nil }
        self = values
    }
    public var attribute: Attribute { Element.attribute(for: self) }
    public static var typeName: String { Element.listTypeName }
}

/// The element types of list attributes: `[Int]` (`ints`) and `[Float]` (`floats`).
public protocol ListAttributeElement: Sendable, Equatable {
    static func list(from attribute: Attribute) -> [Self]?
    static func attribute(for values: [Self]) -> Attribute
    static var listTypeName: String { get }
}

extension Int: ListAttributeElement {
    public static func list(from attribute: Attribute) -> [Int]? {
        guard case .ints(let values) = attribute else { return nil }
        return values
    }
    public static func attribute(for values: [Int]) -> Attribute { .ints(values) }
    public static var listTypeName: String { "ints" }
}

extension Float: ListAttributeElement {
    /// A single float reads as a one-element list.
    public static func list(from attribute: Attribute) -> [Float]? {
        switch attribute {
        case .floats(let values): return values
        case .float(let value): return [value]
        default: return nil
        }
    }
    public static func attribute(for values: [Float]) -> Attribute { .floats(values) }
    public static var listTypeName: String { "floats" }
}

extension ActivationFunction: AttributeValue {
    public init?(attribute: Attribute) {
        guard case .string(let name) = attribute else { return nil }
        self.init(rawValue: name)
    }
    public var attribute: Attribute { .string(rawValue) }
    public static var typeName: String { "activation function" }
}

/// A typed attribute name: `op.attributes[.strides]` is an `[Int]?`. Every attribute the IR knows
/// is declared once below; `OpSchema` says which ops take which, required or with a default.
public struct AttributeKey<Value: AttributeValue>: Sendable, Hashable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

// MARK: - The IR's attributes

extension AttributeKey where Value == [Int] {
    /// Window strides per spatial axis (convolutions, pooling).
    public static var strides: Self { .init("strides") }
    /// Window dilations per spatial axis (convolutions).
    public static var dilations: Self { .init("dilations") }
    /// Explicit output padding per spatial axis of a transposed convolution (Keras' `output_padding`).
    public static var outputPadding: Self { .init("output_padding") }
    /// Pooling window per spatial axis.
    public static var poolSize: Self { .init("pool_size") }
    /// Normalized axes (layer_norm), non-negative and sorted.
    public static var axes: Self { .init("axes") }
    /// The output shape without the batch axis (reshape, unless `includes_batch`); -1 once for an inferred size.
    public static var shape: Self { .init("shape") }
    /// Axis permutation, batch axis included (transpose).
    public static var permutation: Self { .init("perm") }
    /// Before/after pairs per axis, batch axis included (pad).
    public static var paddings: Self { .init("paddings") }
    /// Start per axis (slice).
    public static var begin: Self { .init("begin") }
    /// Length per axis, -1 for "to the end" (slice).
    public static var size: Self { .init("size") }
    /// Integer upsampling factor per spatial axis (resize, upsample3d).
    public static var resizeScale: Self { .init("scale") }
    /// Output height and width (resize to a fixed size, Keras' Resizing).
    public static var resizeSize: Self { .init("size") }
}

extension AttributeKey where Value == [Float] {
    /// Per-channel (or single) multiplier of rescale: y = x · scale + offset.
    public static var rescaleScale: Self { .init("scale") }
    /// Per-channel (or single) offset of rescale.
    public static var rescaleOffset: Self { .init("offset") }
}

extension AttributeKey where Value == String {
    /// "same", "valid" or (conv1d) "causal".
    public static var padding: Self { .init("padding") }
    /// Resize interpolation: "nearest" or "bilinear".
    public static var method: Self { .init("method") }
}

extension AttributeKey where Value == Int {
    /// Grouped convolution: input channels split into this many groups.
    public static var groups: Self { .init("groups") }
    /// The axis (softmax, concatenate); negative counts from the end.
    public static var axis: Self { .init("axis") }
    /// Repetitions (repeat_vector).
    public static var repeats: Self { .init("n") }
}

extension AttributeKey where Value == Float {
    /// Added to the variance (batch_norm, layer_norm).
    public static var epsilon: Self { .init("epsilon") }
    /// Slope below zero (leaky_relu) or the saturation scale (elu).
    public static var alpha: Self { .init("alpha") }
    /// relu: slope below `threshold`.
    public static var negativeSlope: Self { .init("negative_slope") }
    /// relu: values below it take the negative slope.
    public static var threshold: Self { .init("threshold") }
    /// relu: upper clip.
    public static var maxValue: Self { .init("max_value") }
}

extension AttributeKey where Value == Bool {
    /// batch_norm / layer_norm: a learned scale (gamma) is an input.
    public static var scaled: Self { .init("scale") }
    /// batch_norm / layer_norm: a learned offset (beta) is an input.
    public static var centered: Self { .init("center") }
    /// Global pooling keeps the spatial axes as size 1.
    public static var keepDims: Self { .init("keepdims") }
    /// reshape: `shape` is the whole output shape, batch axis included (-1 once), so the batch can
    /// merge with other axes (TimeDistributed folds time into the batch and back).
    public static var includesBatch: Self { .init("includes_batch") }
    /// batch_matmul: the first operand's last two axes are swapped before multiplying.
    public static var adjointX: Self { .init("adj_x") }
    /// batch_matmul: the second operand's last two axes are swapped before multiplying.
    public static var adjointY: Self { .init("adj_y") }
}

extension AttributeKey where Value == ActivationFunction {
    /// The function of an `activation` op.
    public static var function: Self { .init("function") }
    /// An activation merged into the op by `fuse-activation` (relu or relu6).
    public static var fusedActivation: Self { .init("fused_activation") }
}

// MARK: - Declaring an op's attributes

/// One attribute an op kind takes: its key's name and type, and whether it is required or what it
/// defaults to. `OpSchema` lists these per kind; `Graph.verify()` checks ops against them.
public struct AttributeSpec: Sendable {
    public let name: String
    public let typeName: String
    public let isRequired: Bool
    /// The value an absent optional attribute means, if any.
    public let defaultValue: Attribute?
    let accepts: @Sendable (Attribute) -> Bool

    public static func required<Value>(_ key: AttributeKey<Value>) -> AttributeSpec {
        AttributeSpec(name: key.name, typeName: Value.typeName, isRequired: true, defaultValue: nil,
                      accepts: { Value(attribute: $0) != nil })
    }

    public static func optional<Value>(_ key: AttributeKey<Value>, default value: Value? = nil) -> AttributeSpec {
        AttributeSpec(name: key.name, typeName: Value.typeName, isRequired: false, defaultValue: value?.attribute,
                      accepts: { Value(attribute: $0) != nil })
    }
}
