import Testing
@testable import GraphIR

/// `Graph.setInputShapes` (`convert --input-shape`): sizes after the batch, checked against the
/// model's input, then every shape re-inferred; and conv_lstm2d's shape function.
@Suite struct InputShapeTests {
    func constant(_ name: String, _ shape: [Int]) -> Tensor {
        Tensor(name: name, shape: shape, constant: ConstantData(values: Array(repeating: 0.1, count: shape.reduce(1, *))))
    }

    /// x [?, ?, 4] → lstm(5 units, sequences) : [?, ?, 5].
    func lstmGraph() throws -> Graph {
        let x = Tensor(name: "x", shape: [nil, nil, 4])
        let graph = Graph(name: "g", inputs: [x])
        let outputs = try graph.append(Op(name: "lstm", kind: .lstm, inputs: [x, constant("k", [4, 20]), constant("r", [5, 20])],
                                          attributes: ["activation": .string("tanh"), "recurrent_activation": .string("sigmoid"),
                                                       "return_sequences": .bool(true)]))
        graph.outputs = [outputs[0]]
        return graph
    }

    @Test func fixesTheLengthAndReinfers() throws {
        let graph = try lstmGraph()
        #expect(graph.outputs[0].shape == [nil, nil, 5])
        try graph.setInputShapes(["x": [6, 4]])
        #expect(graph.inputs[0].shape == [nil, 6, 4])
        #expect(graph.outputs[0].shape == [nil, 6, 5])
        try graph.setBatch(1)  // the batch stays setBatch's
        #expect(graph.outputs[0].shape == [1, 6, 5])
        try graph.setInputShapes(["x": [6, 4]])  // the same sizes again: nothing contradicts
        #expect(graph.outputs[0].shape == [1, 6, 5])
    }

    @Test func refusesWhatDoesNotFitTheInput() throws {
        let graph = try lstmGraph()
        func problem(_ shapes: [String: [Int]]) -> String {
            do { try graph.setInputShapes(shapes); return "" } catch { return "\(error)" }
        }
        #expect(problem(["y": [6, 4]]).contains("no input 'y' (its inputs: x [?,?,4])"))
        #expect(problem(["x": [6]]).contains("has 2 dimensions after the batch, 1 given"))
        #expect(problem(["x": [1, 6, 4]]).contains("has 2 dimensions after the batch, 3 given"))
        #expect(problem(["x": [0, 4]]).contains("sizes must be positive, got 0"))
        #expect(problem(["x": [6, 5]]).contains("fixes dimension 2 at 4, not 5"))
        #expect(graph.inputs[0].shape == [nil, nil, 4], "a refused --input-shape changes nothing")
    }

    @Test func convLSTM2DShapes() throws {
        let x = Tensor(name: "x", shape: [nil, 4, 9, 8, 2])
        func shapes(_ attributes: Attributes, kernel: [Int] = [3, 3, 2, 12]) throws -> [Shape] {
            try Graph(name: "g").append(Op(name: "op", kind: .convLstm2d, inputs: [x, constant("k", kernel), constant("r", [3, 3, 3, 12])],
                                           attributes: attributes)).map(\.shape)
        }
        var attributes: Attributes = ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("valid"),
                                      "activation": .string("tanh"), "recurrent_activation": .string("sigmoid")]
        #expect(try shapes(attributes) == [[nil, 7, 6, 3], [nil, 7, 6, 3], [nil, 7, 6, 3]])
        attributes[.returnSequences] = true
        attributes[.padding] = "same"
        attributes[.strides] = [2, 2]
        #expect(try shapes(attributes) == [[nil, 4, 5, 4, 3], [nil, 5, 4, 3], [nil, 5, 4, 3]])
        #expect(throws: GraphError.self) { try shapes(attributes, kernel: [3, 3, 2, 8]) }  // 4·3 gate channels needed
        #expect(throws: GraphError.self) { try shapes(attributes, kernel: [3, 3, 1, 12]) }  // 2 input channels
    }
}
