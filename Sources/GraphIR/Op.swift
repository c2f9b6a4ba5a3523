/// One operation: a kind from `OpKind`, its input and output tensors, and typed attributes.
public final class Op: @unchecked Sendable {
    public var name: String
    public var kind: OpKind
    public var inputs: [Tensor]
    public var outputs: [Tensor]
    public var attributes: Attributes
    /// The Keras layer (name and class) this op came from, kept for reports and diffs.
    public var origin: Origin?
    /// Layers whose ops a pass merged into this one (a folded BatchNormalization, a fused ReLU, a
    /// folded ZeroPadding2D), so options that name layers (`--keep-float`) still find them.
    public var absorbedOrigins: [Origin] = []

    /// The Keras layers this op computes: its own and those merged into it.
    public var layers: [String] { ([origin] + absorbedOrigins.map(Optional.some)).compactMap { $0?.layer } }

    /// Records that this op now also computes `other` (a pass merged it in).
    public func absorb(_ other: Op) {
        absorbedOrigins += ([other.origin].compactMap { $0 } + other.absorbedOrigins).filter { !layers.contains($0.layer) }
    }

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
