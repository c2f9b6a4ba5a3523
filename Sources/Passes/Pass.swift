import GraphIR

/// A graph → graph transformation with a stable kebab-case id. Passes rewrite the graph in place
/// and report whether they changed anything; pipelines (`PassPipeline`) run them.
public protocol GraphPass: Sendable {
    /// What a pipeline step may configure (`Void` for passes without options).
    associatedtype Options: Sendable = Void
    /// The stable id used in pipelines and logs (`fold-batchnorm`).
    static var id: String { get }
    /// The options a step without options means.
    static var defaultOptions: Options { get }
    init(options: Options)
    /// Rewrites `graph`; returns true when it changed something. Passes with results beyond the
    /// graph (what `prune-magnitude` zeroed) record them in `log`.
    func run(on graph: Graph, log: PassLog) throws -> Bool
}

extension GraphPass where Options == Void {
    public static var defaultOptions: Void { () }
    public init() { self.init(options: ()) }
}

extension GraphPass {
    /// Runs the pass alone, discarding what it logs.
    @discardableResult
    public func run(on graph: Graph) throws -> Bool { try run(on: graph, log: PassLog()) }
}

/// What a pipeline run did: rounds per stage, how often each pass changed the graph, and the
/// results passes report beyond the graph.
public final class PassLog: @unchecked Sendable {
    /// Pass id → number of runs that changed the graph.
    public internal(set) var changes: [String: Int] = [:]
    /// Rounds each stage took to settle, in stage order.
    public internal(set) var rounds: [Int] = []
    /// Every kernel `prune-magnitude` selected, in graph order.
    public internal(set) var pruned: [PrunedWeight] = []
    /// What `prune-channels` removed, when it ran.
    public internal(set) var channelPruning: ChannelPruning?

    public init() {}
}

/// Pass ids → implementations, and the pipelines keraslite uses.
public enum PassRegistry {
    public static let passes: [String: any GraphPass.Type] = Dictionary(uniqueKeysWithValues: [
        RemoveIdentity.self, FoldPad.self, FoldBatchNorm.self, FuseActivation.self, PruneMagnitude.self, PruneChannels.self,
    ].map { ($0.id, $0 as any GraphPass.Type) })

    /// The ids of the standard lowering stage before a backend (`PassPipeline.standard`).
    public static let standardPipeline = PassPipeline.standardIds

    /// Builds pass `id` configured with `options` (nil: its defaults).
    static func make(_ id: String, options: (any Sendable)?) throws -> any GraphPass {
        guard let type = passes[id] else { throw GraphError.invalid("unknown pass '\(id)'") }
        return try make(type, options: options)
    }

    private static func make<Pass: GraphPass>(_ type: Pass.Type, options: (any Sendable)?) throws -> any GraphPass {
        guard let options else { return Pass(options: Pass.defaultOptions) }
        guard let typed = options as? Pass.Options else {
            throw GraphError.invalid("pass '\(Pass.id)' takes \(Pass.Options.self) options, not \(Swift.type(of: options))")
        }
        return Pass(options: typed)
    }

    /// Runs the passes named by `ids` as one stage to a fixed point, then verifies the graph.
    public static func run(_ ids: [String], on graph: Graph) throws {
        try PassPipeline(ids).run(on: graph)
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
