import Foundation
import GraphIR
import Testing
@testable import TFLite

/// A recurrent layer over an unknown number of steps converts once `--input-shape` fixes it
/// (`TFLiteConverter.Options.inputShapes`), and without it fails naming the option to use.
@Suite struct InputShapeConversionTests {
    func constant(_ name: String, _ shape: [Int]) -> Tensor {
        Tensor(name: name, shape: shape, constant: ConstantData(values: (0..<shape.reduce(1, *)).map { Float($0 % 5) * 0.1 }))
    }

    func lstmGraph() throws -> Graph {
        let x = Tensor(name: "x", shape: [nil, nil, 4])
        let graph = Graph(name: "g", inputs: [x])
        let outputs = try graph.append(Op(name: "lstm", kind: .lstm, inputs: [x, constant("k", [4, 12]), constant("r", [3, 12])],
                                          attributes: ["activation": .string("tanh"), "recurrent_activation": .string("sigmoid")]))
        graph.outputs = [outputs[0]]
        return graph
    }

    @Test func unknownLengthSuggestsInputShape() throws {
        do {
            _ = try TFLiteConverter.convert(try lstmGraph())
            Issue.record("an unknown length converted")
        } catch {
            #expect("\(error)".contains("sequence length of its input 'x' [1,?,4] is unknown"), "\(error)")
            #expect("\(error)".contains("--input-shape x=N,4"), "\(error)")
        }
    }

    @Test func inputShapeFixesTheLength() throws {
        var options = TFLiteConverter.Options()
        options.inputShapes = ["x": [6, 4]]
        let result = try TFLiteConverter.convert(try lstmGraph(), options: options)
        let file = try TFLiteFile(data: Data(result.bytes), path: "lstm.tflite")
        let subgraph = file.subgraphs[0]
        #expect(subgraph.tensors[subgraph.inputs[0]].shape == [1, 6, 4])
        #expect(subgraph.tensors[subgraph.outputs[0]].shape == [1, 3])
        // With the length fixed the LSTM lowers to LiteRT's fused op (6 steps inside it).
        #expect(result.operatorCounts["UNIDIRECTIONAL_SEQUENCE_LSTM"] == 1)
        #expect(file.subgraphs[0].tensors.contains { $0.isVariable && $0.shape == [1, 3] })
    }
}
