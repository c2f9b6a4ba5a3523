/// A dataflow graph: inputs, ops in execution (topological) order, outputs.
///
/// Constants are tensors with `constant` data that no op produces.
public final class Graph: @unchecked Sendable {
    public var name: String
    public var inputs: [Tensor]
    public var outputs: [Tensor]
    public var ops: [Op]
    /// Free-form facts about where the graph came from (format, Keras version, backend).
    public var metadata: [String: String]
    /// The names the source model gives its outputs (Keras: the output layers' names), when they
    /// differ from the output tensors' names — e.g. the second call of a shared layer.
    public var outputNames: [String]?

    public init(name: String, inputs: [Tensor] = [], outputs: [Tensor] = [], ops: [Op] = [],
                metadata: [String: String] = [:]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.ops = ops
        self.metadata = metadata
    }

    /// Most elements a tensor may have per sample (its known dimensions): 2^31, 8 GB of float32 —
    /// far beyond any real model, and what keeps a hostile config from declaring 10^12 elements.
    public static let maximumElements = 1 << 31

    /// Appends `op`, creating its output tensors from shape inference; the first output is named
    /// `outputName` (default: the op name), further ones `name:1`, `name:2`, …. Output shapes that
    /// are negative or hold more than `maximumElements` are refused.
    @discardableResult
    public func append(_ op: Op, outputName: String? = nil) throws -> [Tensor] {
        let schema = OpSchema.of(op.kind)
        guard schema.inputs.contains(op.inputs.count) else {
            throw GraphError.arity(op: op.name, kind: op.kind.rawValue,
                                   expected: "\(schema.inputs.lowerBound)…\(schema.inputs.upperBound)",
                                   actual: op.inputs.count)
        }
        if let problem = schema.attributeProblems(of: op).first { throw GraphError.invalid(problem) }
        let shapes = try schema.inferShapes(op)
        for shape in shapes {
            let known = shape.compactMap { $0 }
            var elements = 1, overflow = false
            for size in known where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: max(size, 0)) }
            if known.contains(where: { $0 < 0 }) || overflow || elements > Self.maximumElements {
                throw GraphError.shape(op: op.name, message: "output shape \(shape.text) is impossible (negative, or more than 2^31 elements)")
            }
        }
        let base = outputName ?? op.name
        let types = schema.inferTypes?(op) ?? []
        op.outputs = shapes.enumerated().map { index, shape in
            Tensor(name: index == 0 ? base : "\(base):\(index)", shape: shape, dtype: index < types.count ? types[index] : .float32)
        }
        ops.append(op)
        return op.outputs
    }

    /// The op that produces `tensor`, or nil for graph inputs and constants.
    public func producer(of tensor: Tensor) -> Op? {
        ops.first { op in op.outputs.contains { $0 === tensor } }
    }

    /// The ops that read `tensor`, in execution order.
    public func consumers(of tensor: Tensor) -> [Op] {
        ops.filter { op in op.inputs.contains { $0 === tensor } }
    }

    /// The model's names for its outputs: `outputNames`, or the output tensors' names.
    public var modelOutputNames: [String] { outputNames ?? outputs.map(\.name) }

    /// Every constant tensor, each once, in first-use order.
    public var constants: [Tensor] {
        var seen = Set<ObjectIdentifier>()
        var result: [Tensor] = []
        for op in ops {
            for input in op.inputs where input.isConstant && seen.insert(ObjectIdentifier(input)).inserted {
                result.append(input)
            }
        }
        return result
    }

    /// Total elements of all constant tensors.
    public var constantElementCount: Int { constants.reduce(0) { $0 + ($1.constant?.count ?? 0) } }
}
