import GraphIR

/// A pipeline as data: stages of pass steps (id + options). Each stage runs its passes in order,
/// round after round, until a round changes nothing — a fixed point — or throws after
/// `maxRounds` rounds that all changed the graph. A pass that must act once (pruning would prune
/// its own result again) is a stage of its own with `maxRounds: 1`.
///
///     PassPipeline.standard:  [remove-identity, fold-pad, fold-batchnorm, fuse-activation] ×≤8
///     PassPipeline.pruning(o): [prune-magnitude(o)] ×1, then the standard stage
public struct PassPipeline: Sendable, CustomStringConvertible {
    /// One pass and its options (nil: the pass's defaults).
    public struct Step: Sendable {
        public var id: String
        public var options: (any Sendable)?
        public init(_ id: String, options: (any Sendable)? = nil) {
            self.id = id
            self.options = options
        }
    }

    public struct Stage: Sendable {
        public var steps: [Step]
        public var maxRounds: Int
        public init(_ steps: [Step], maxRounds: Int = 8) {
            self.steps = steps
            self.maxRounds = maxRounds
        }
    }

    public var stages: [Stage]

    public init(stages: [Stage]) { self.stages = stages }

    /// One fixed-point stage of the passes named by `ids`, without options.
    public init(_ ids: [String]) { self.init(stages: [Stage(ids.map { Step($0) })]) }

    /// Order matters: identities go first so that Dropout between a conv and its BatchNormalization
    /// does not block folding, and folding comes before fusion so that conv → BN → ReLU becomes one
    /// fused conv.
    static let standardIds = ["remove-identity", "fold-pad", "fold-batchnorm", "fuse-activation"]

    /// The standard lowering stage before a backend.
    public static let standard = PassPipeline(standardIds)

    /// Magnitude pruning with `options`, once, then the standard stage.
    public static func pruning(_ options: PruningOptions) -> PassPipeline {
        pruning(magnitude: options)
    }

    /// Channel pruning, then magnitude pruning of what remains (each once, when given), then the
    /// standard stage.
    public static func pruning(magnitude: PruningOptions? = nil, channels: ChannelPruningOptions? = nil) -> PassPipeline {
        let first = channels.map { [Stage([Step(PruneChannels.id, options: $0)], maxRounds: 1)] } ?? []
        let second = magnitude.map { [Stage([Step(PruneMagnitude.id, options: $0)], maxRounds: 1)] } ?? []
        return PassPipeline(stages: first + second + standard.stages)
    }

    public var description: String {
        stages.map { stage in
            "[" + stage.steps.map(\.id).joined(separator: ", ") + "]" + (stage.maxRounds == 1 ? "" : " ×≤\(stage.maxRounds)")
        }.joined(separator: " → ")
    }

    /// Runs every stage on `graph`, then verifies it; returns what the passes did.
    @discardableResult
    public func run(on graph: Graph) throws -> PassLog {
        let log = PassLog()
        for stage in stages {
            let passes = try stage.steps.map { try PassRegistry.make($0.id, options: $0.options) }
            log.rounds.append(try Self.settle(passes, maxRounds: stage.maxRounds, on: graph, log: log))
        }
        if let problem = graph.verify().first { throw GraphError.invalid("after \(self): \(problem)") }
        return log
    }

    /// Runs `passes` in order, round after round, until a round changes nothing; returns the number of
    /// rounds. With `maxRounds` 1 the passes run once; otherwise a last round that still changes throws.
    static func settle(_ passes: [any GraphPass], maxRounds: Int, on graph: Graph, log: PassLog) throws -> Int {
        var round = 0
        while true {
            round += 1
            var changed = false
            for pass in passes where try pass.run(on: graph, log: log) {
                log.changes[type(of: pass).id, default: 0] += 1
                changed = true
            }
            if !changed || maxRounds == 1 { return round }
            guard round < maxRounds else {
                let ids = passes.map { type(of: $0).id }.joined(separator: ", ")
                throw GraphError.invalid("passes \(ids) still change the graph after \(round) rounds")
            }
        }
    }
}
