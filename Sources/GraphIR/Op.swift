/// One operation: a kind from `OpKind`, its input and output tensors, and typed attributes.
public final class Op: @unchecked Sendable {
    public var name: String
    public var kind: OpKind
    public var inputs: [Tensor]
    public var outputs: [Tensor]
    public var attributes: Attributes
    /// The Keras layer (name and class) this op came from, kept for reports and diffs.
    public var origin: Origin?

    public init(name: String, kind: OpKind, inputs: [Tensor], outputs: [Tensor] = [],
                attributes: Attributes = Attributes(), origin: Origin? = nil) {
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.origin = origin
    }

    /// Where an op came from in the source model.
    public struct Origin: Equatable, Sendable {
        public var layer: String
        public var className: String
        public init(layer: String, className: String) {
            self.layer = layer
            self.className = className
        }
    }
}
