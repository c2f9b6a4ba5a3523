import GraphIR
import Testing
@testable import Passes

/// `prune-channels` on hand-built graphs with known weights: the residual Add joins its producers,
/// Flatten expands a Dense's rows per position, model outputs and untraced ops keep channels whole,
/// round-to, and the consumers' rows follow the kept channels.
@Suite struct PruneChannelsTests {
    func constant(_ name: String, _ shape: [Int], _ value: (Int) -> Float) -> Tensor {
        Tensor(name: name, shape: shape.map(Optional.some), constant: ConstantData(values: (0..<shape.reduce(1, *)).map(value)))
    }

    /// x[1, 4, 4, 2] → conv a (2→4) ; conv b (4→4) ; add(a, b) → flatten → dense c (64→3) → output.
    func residualFlattenGraph() throws -> Graph {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [1, 4, 4, 2])
        graph.inputs = [x]
        // Output channel o of a has weights of magnitude o+1 (so channels 2, 3 are the largest); b the reverse.
        let a = try graph.append(Op(name: "a", kind: .conv2d, inputs: [x, constant("a/kernel", [1, 1, 2, 4]) { Float($0 % 4 + 1) }],
                                    attributes: Attributes { $0[.strides] = [1, 1]; $0[.dilations] = [1, 1]; $0[.padding] = "same" }, origin: .init(layer: "a", className: "Conv2D")))
        let b = try graph.append(Op(name: "b", kind: .conv2d, inputs: a + [constant("b/kernel", [1, 1, 4, 4]) { Float(4 - $0 % 4) / 100 }],
                                    attributes: Attributes { $0[.strides] = [1, 1]; $0[.dilations] = [1, 1]; $0[.padding] = "same" }, origin: .init(layer: "b", className: "Conv2D")))
        let sum = try graph.append(Op(name: "add", kind: .add, inputs: a + b, origin: .init(layer: "add", className: "Add")))
        let flat = try graph.append(Op(name: "flat", kind: .reshape, inputs: sum, attributes: Attributes { $0[.shape] = [64] },
                                       origin: .init(layer: "flat", className: "Flatten")))
        let c = try graph.append(Op(name: "c", kind: .fullyConnected, inputs: flat + [constant("c/kernel", [64, 3]) { Float($0) }],
                                    origin: .init(layer: "c", className: "Dense")))
        graph.outputs = c
        return graph
    }

    @Test func residualAddPrunesItsProducersTogetherAndFlattenRowsFollow() throws {
        let graph = try residualFlattenGraph()
        let result = try PruneChannels(options: .init(fraction: 0.5)).prune(graph)
        let group = try #require(result.groups.first { $0.layers.contains("a") })
        #expect(group.layers == ["a", "b"] && group.before == 4 && group.after == 2)
        // a's |w| per channel: 2·(o+1); b's: 4·(4−o)/100 — summed, channels 2 and 3 win.
        let aKernel = try graph.ops[0].inputs[1].constant!.values()
        #expect(graph.ops[0].inputs[1].shape == [1, 1, 2, 2])
        #expect(aKernel == [3, 4, 3, 4])
        // b lost input and output channels: rows 2, 3 and columns 2, 3 of [4, 4].
        #expect(try graph.ops[1].inputs[1].constant!.values() == [0.02, 0.01, 0.02, 0.01])
        // The Dense behind Flatten keeps rows position·4 + {2, 3} of its 64.
        let dense = try graph.ops[4].inputs[1].constant!.values()
        let rows = (0..<16).flatMap { [$0 * 4 + 2, $0 * 4 + 3] }
        #expect(graph.ops[4].inputs[1].shape == [32, 3])
        #expect(dense == rows.flatMap { row in (0..<3).map { Float(row * 3 + $0) } })
        #expect(graph.ops[3].attributes[.shape] == [32])
        #expect(graph.ops[3].outputs[0].shape == [1, 32] && graph.ops[4].outputs[0].shape == [1, 3])
        // The model output keeps its width; the Keras widths to rewrite are a's and b's.
        #expect(result.groups.first { $0.layers == ["c"] }?.keptBecause != nil)
        #expect(result.layers.map(\.layer) == ["a", "b"] && result.layers.allSatisfy { $0.key == "filters" && $0.after == 2 })
        #expect(graph.verify().isEmpty)
    }

    @Test func roundToAndExcludeAndUntracedOps() throws {
        var graph = try residualFlattenGraph()
        var result = try PruneChannels(options: .init(fraction: 0.5, roundTo: 3)).prune(graph)
        #expect(result.groups.first { $0.layers.contains("a") }?.after == 3)
        graph = try residualFlattenGraph()
        result = try PruneChannels(options: .init(fraction: 0.5, exclude: ["b"])).prune(graph)
        let group = try #require(result.groups.first { $0.layers.contains("a") })
        #expect(group.after == 4 && group.keptBecause == "excluded")
        #expect(result.weights.isEmpty)
        // A transpose reading a's channels: the group is kept whole.
        graph = try residualFlattenGraph()
        let sum = graph.ops[2].outputs
        _ = try graph.append(Op(name: "t", kind: .transpose, inputs: sum, attributes: Attributes { $0[.permutation] = [0, 3, 1, 2] }))
        graph.outputs.append(graph.ops.last!.outputs[0])
        result = try PruneChannels(options: .init(fraction: 0.5)).prune(graph)
        #expect(result.groups.first { $0.layers.contains("a") }?.after == 4)
    }
}
