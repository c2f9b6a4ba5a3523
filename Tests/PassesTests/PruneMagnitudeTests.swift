import GraphIR
import Testing
@testable import Passes

/// `prune-magnitude` on hand-built graphs whose kernels hold known values: which weights go,
/// exact per-layer counts, the 2:4 pattern, the global RMS normalisation, and what is left alone.
@Suite struct PruneMagnitudeTests {
    /// x[?, 8] → dense(8→8, kernel values 1…64 shuffled) → dense(8→4, values ×1000) → output.
    func twoDenseGraph() throws -> (Graph, [Float], [Float]) {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 8])
        graph.inputs = [x]
        let first: [Float] = (0..<64).map { (i: Int) -> Float in
            let magnitude = Float((i * 37) % 64 + 1)
            return i % 2 == 0 ? magnitude : -magnitude
        }
        let second: [Float] = (0..<32).map { (i: Int) -> Float in Float((i * 13) % 32 + 1) * 1000 }
        let a = try graph.append(Op(name: "a", kind: .fullyConnected,
                                    inputs: [x, Tensor(name: "a/kernel", shape: [8, 8], constant: ConstantData(values: first))],
                                    origin: .init(layer: "a", className: "Dense")))
        let b = try graph.append(Op(name: "b", kind: .fullyConnected,
                                    inputs: a + [Tensor(name: "b/kernel", shape: [8, 4], constant: ConstantData(values: second))],
                                    origin: .init(layer: "b", className: "Dense")))
        graph.outputs = b
        return (graph, first, second)
    }

    @Test func perLayerZeroesExactlyTheSmallestMagnitudes() throws {
        let (graph, first, _) = try twoDenseGraph()
        let original = graph.ops[0].inputs[1].constant!
        let result = try PruneMagnitude(options: .init(target: .sparsity(0.25), minParams: 0)).prune(graph)
        #expect(result.map(\.layer) == ["a", "b"])
        #expect(result[0].zerosAfter == 16 && result[1].zerosAfter == 8)
        let pruned = try graph.ops[0].inputs[1].constant!.values()
        for (value, old) in zip(pruned, first) {
            #expect(value == (abs(old) <= 16 ? 0 : old), "|w| ≤ 16 are the 16 smallest of 1…64")
        }
        #expect(result[0].original === original, "the original constant is reported, not modified")
        #expect(try original.values() == first)
    }

    @Test func twoFourKeepsTheTwoLargestOfEveryFourInputs() throws {
        let (graph, first, _) = try twoDenseGraph()
        _ = try PruneMagnitude(options: .init(pattern: .twoFour, minParams: 0)).prune(graph)
        let pruned = try graph.ops[0].inputs[1].constant!.values()   // I × O = 8 × 8, input axis 0
        for output in 0..<8 {
            for group in stride(from: 0, to: 8, by: 4) {
                let indices = (group..<(group + 4)).map { $0 * 8 + output }
                let kept = indices.filter { pruned[$0] != 0 }
                let largest = indices.sorted { abs(first[$0]) > abs(first[$1]) }.prefix(2)
                #expect(Set(kept) == Set(largest))
            }
        }
    }

    @Test func globalScopeNormalisesEachLayer() throws {
        // Raw magnitudes would empty layer a (≤ 64) before touching b (≥ 1000); after dividing
        // by each layer's RMS both lose about half.
        let (graph, _, _) = try twoDenseGraph()
        let result = try PruneMagnitude(options: .init(target: .sparsity(0.5), scope: .global, minParams: 0)).prune(graph)
        let total = result.reduce(0) { $0 + $1.zerosAfter }
        #expect(abs(total - 48) <= 1)
        #expect(result.allSatisfy { Double($0.zerosAfter) / Double($0.params) > 0.3 && Double($0.zerosAfter) / Double($0.params) < 0.7 })
    }

    @Test func selectionRules() throws {
        let (graph, _, second) = try twoDenseGraph()
        // a has 64 weights (< 100): left alone by min-params; b excluded by name.
        var result = try PruneMagnitude(options: .init(target: .sparsity(0.5), exclude: ["b"], minParams: 100)).prune(graph)
        #expect(result.isEmpty)
        result = try PruneMagnitude(options: .init(target: .sparsity(0.5), minParams: 0, skipOutputLayers: true)).prune(graph)
        #expect(result.map(\.layer) == ["a"])
        #expect(try graph.ops[1].inputs[1].constant!.values() == second)
        result = try PruneMagnitude(options: .init(target: .threshold(20), minParams: 0)).prune(graph)
        #expect(result[0].zerosAfter >= 19 * 2 / 2)
        result = try PruneMagnitude(options: .init(target: .sparsity(0), minParams: 0, perLayer: ["b": 0.75])).prune(graph)
        #expect(result.first { $0.layer == "b" }!.zerosAfter == 24)
    }
}
