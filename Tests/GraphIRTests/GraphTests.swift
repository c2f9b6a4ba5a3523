import Testing
@testable import GraphIR

@Suite struct GraphTests {
    /// input → conv2d → activation(relu) → output, with a lazily loaded kernel.
    func smallGraph(loads: Counter = Counter()) throws -> Graph {
        let graph = Graph(name: "tiny")
        let x = Tensor(name: "x", shape: [nil, 4, 4, 1])
        graph.inputs = [x]
        let kernel = Tensor(name: "conv/kernel", shape: [3, 3, 1, 2], constant: ConstantData(count: 18, storedBytes: 72) {
            loads.count += 1
            return Array(repeating: 0.5, count: 18)
        })
        let conv = try graph.append(Op(name: "conv", kind: .conv2d, inputs: [x, kernel],
                                       attributes: ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same")]))
        let relu = try graph.append(Op(name: "relu", kind: .activation, inputs: conv, attributes: ["function": .string("relu")]))
        graph.outputs = relu
        return graph
    }

    final class Counter: @unchecked Sendable { var count = 0 }

    @Test func printerIsStable() throws {
        let expected = """
        graph tiny
          input  x: f32[?,4,4,1]
          const  conv/kernel: f32[3,3,1,2]
          %conv = conv2d(x, conv/kernel) {dilations=[1,1], padding=same, strides=[1,1]} : f32[?,4,4,2]
          %relu = activation(conv) {function=relu} : f32[?,4,4,2]
          output relu

        """
        #expect(try smallGraph().printed() == expected)
    }

    @Test func validGraphVerifies() throws {
        #expect(try smallGraph().verify().isEmpty)
    }

    @Test func verifierFindsBrokenGraphs() throws {
        let graph = try smallGraph()
        graph.ops.swapAt(0, 1)  // relu before conv: reads a tensor not yet produced
        #expect(graph.verify().contains { $0.contains("before anything produces it") })

        let stale = try smallGraph()
        stale.ops[0].outputs[0].shape = [nil, 9, 9, 2]  // stored shape disagrees with inference
        #expect(stale.verify().contains { $0.contains("inference gives") })

        let duplicate = try smallGraph()
        duplicate.ops[1].name = "conv"
        #expect(duplicate.verify().contains { $0.contains("used twice") })

        let dangling = try smallGraph()
        dangling.outputs = [Tensor(name: "nowhere", shape: [1])]
        #expect(dangling.verify().contains { $0.contains("never produced") })
    }

    @Test func constantsLoadLazilyAndOnce() throws {
        let loads = Counter()
        let graph = try smallGraph(loads: loads)
        #expect(loads.count == 0)
        let kernel = graph.constants[0].constant!
        _ = try kernel.values()
        _ = try kernel.values()
        #expect(loads.count == 1)
        #expect(graph.constantElementCount == 18)
    }

    @Test func producerAndConsumersAreDerived() throws {
        let graph = try smallGraph()
        let conv = graph.ops[0]
        #expect(graph.producer(of: conv.outputs[0]) === conv)
        #expect(graph.consumers(of: conv.outputs[0]).map(\.name) == ["relu"])
        #expect(graph.producer(of: graph.inputs[0]) == nil)
    }

    @Test func arityIsChecked() {
        let graph = Graph(name: "g")
        #expect(throws: GraphError.self) {
            try graph.append(Op(name: "bad", kind: .subtract, inputs: [Tensor(name: "a", shape: [1])]))
        }
    }
}
