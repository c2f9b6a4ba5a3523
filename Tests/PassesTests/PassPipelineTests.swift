import Testing
@testable import GraphIR
@testable import Passes

/// Pipelines are data (stages of pass ids with options) run to a fixed point under a round cap.
@Suite struct PassPipelineTests {
    /// x → dense(k) → identity → activation(relu) → output.
    func denseDropoutRelu() throws -> Graph {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 64])
        graph.inputs = [x]
        let kernel = Tensor(name: "k", shape: [64, 32], constant: ConstantData(values: (0..<2048).map { Float($0 % 97) - 48 }))
        let dense = try graph.append(Op(name: "dense", kind: .fullyConnected, inputs: [x, kernel]))
        let dropout = try graph.append(Op(name: "dropout", kind: .identity, inputs: dense))
        graph.outputs = try graph.append(Op(name: "relu", kind: .activation, inputs: dropout, attributes: ["function": .string("relu")]))
        return graph
    }

    /// A pass that always reports a change, to hit the round cap.
    struct Restless: GraphPass {
        static let id = "restless"
        init(options: Void) {}
        func run(on graph: Graph, log: PassLog) throws -> Bool { true }
    }

    @Test func standardStageRunsUntilNothingChanges() throws {
        let graph = try denseDropoutRelu()
        let log = try PassPipeline.standard.run(on: graph)
        #expect(graph.ops.map(\.kind) == [.fullyConnected])
        #expect(graph.ops[0].attributes[.fusedActivation] == .relu)
        // Round 1 removes the identity and fuses the relu; round 2 finds nothing and ends the stage.
        #expect(log.rounds == [2])
        #expect(log.changes == ["remove-identity": 1, "fuse-activation": 1])
    }

    @Test func pruningStageRunsOnceWithItsOptionsAndLogsWhatItZeroed() throws {
        let graph = try denseDropoutRelu()
        let log = try PassPipeline.pruning(PruningOptions(target: .sparsity(0.25), minParams: 0)).run(on: graph)
        #expect(log.rounds == [1, 2])
        #expect(log.pruned.map(\.tensor) == ["k"])
        #expect(log.pruned[0].zerosAfter == 512)
        #expect(try graph.ops[0].inputs[1].constant!.values().filter { $0 == 0 }.count == 512)
        #expect(PassPipeline.pruning(PruningOptions()).description
                == "[prune-magnitude] → [remove-identity, fold-pad, fold-batchnorm, fuse-activation] ×≤8")
    }

    @Test func roundCapAndOptionTypesAreEnforced() throws {
        let graph = try denseDropoutRelu()
        #expect(try PassPipeline.settle([Restless()], maxRounds: 1, on: graph, log: PassLog()) == 1)
        #expect(throws: GraphError.invalid("passes restless still change the graph after 3 rounds")) {
            try PassPipeline.settle([Restless()], maxRounds: 3, on: graph, log: PassLog())
        }
        let wrongOptions = PassPipeline(stages: [.init([.init("prune-magnitude", options: 0.5)])])
        #expect(throws: GraphError.self) { try wrongOptions.run(on: graph) }
        #expect(throws: GraphError.invalid("unknown pass 'no-such-pass'")) { try PassPipeline(["no-such-pass"]).run(on: graph) }
    }
}
