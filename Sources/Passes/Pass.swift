import GraphIR

/// A graph → graph transformation with a stable kebab-case id. Passes rewrite the graph in place
/// and report whether they changed anything; pipelines run them in order.
public protocol GraphPass: Sendable {
    /// The stable id used in pipelines and logs (`fold-batchnorm`).
    static var id: String { get }
    init()
    /// Rewrites `graph`; returns true when it changed something.
    func run(on graph: Graph) throws -> Bool
}

/// Pass ids → implementations. A pipeline is just an ordered list of ids.
public enum PassRegistry {
    public static let passes: [String: any GraphPass.Type] = Dictionary(uniqueKeysWithValues: [
        RemoveIdentity.self, FoldPad.self, FoldBatchNorm.self, FuseActivation.self, PruneMagnitude.self,
    ].map { ($0.id, $0 as any GraphPass.Type) })

    /// The standard lowering pipeline before a backend. Order matters: identities go first so that
    /// Dropout between a conv and its BatchNormalization does not block folding, and folding comes
    /// before fusion so that conv → BN → ReLU becomes one fused conv.
    public static let standardPipeline = ["remove-identity", "fold-pad", "fold-batchnorm", "fuse-activation"]

    /// Runs the passes named by `ids`, in order, then verifies the graph.
    public static func run(_ ids: [String], on graph: Graph) throws {
        for id in ids {
            guard let pass = passes[id] else { throw GraphError.invalid("unknown pass '\(id)'") }
            _ = try pass.init().run(on: graph)
        }
        if let problem = graph.verify().first { throw GraphError.invalid("after \(ids.joined(separator: ", ")): \(problem)") }
    }
}

extension Graph {
    /// Replaces every use of `old` (op inputs and graph outputs) by `new`.
    func replaceUses(of old: Tensor, with new: Tensor) {
        for op in ops {
            for index in op.inputs.indices where op.inputs[index] === old { op.inputs[index] = new }
        }
        for index in outputs.indices where outputs[index] === old { outputs[index] = new }
    }

    func isGraphOutput(_ tensor: Tensor) -> Bool { outputs.contains { $0 === tensor } }
    func isGraphInput(_ tensor: Tensor) -> Bool { inputs.contains { $0 === tensor } }
}
