import Foundation
import GraphIR
import Kernels
import NumPy
import Keras
import Passes
import Testing
import TestSupport
@testable import Interpreter

/// The interpreter's API: errors that name the op, input checks, batching, the observation hook,
/// NPY/NPZ files, and whole sample models against the outputs Keras saved next to them.
@Suite struct InterpreterAPITests {
    @Test func everyOpKindHasAKernel() {
        for kind in OpKind.allCases { #expect(KernelTable.table[kind] != nil, "no kernel for \(kind.rawValue)") }
    }

    @Test func unsupportedAttributeIsAnErrorNamingTheOp() throws {
        let resize = try oneOpGraph(.resize, input: [nil, 2, 2, 1], ["scale": .ints([2, 2]), "method": .string("bicubic")])
        #expect(throws: ExecutionError.unsupported(.interpreter, at: "'op' (resize)", "resize method 'bicubic'")) {
            try Interpreter(graph: resize)
        }
        // An attribute the op's schema does not declare fails verification instead of being ignored.
        let conv = try oneOpGraph(.conv2d, input: [nil, 4, 4, 1], constants: [constant("k", [1, 1, 1, 1], [1])],
                                  ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same")])
        conv.ops[0].attributes = ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same"),
                                  "data_format": .string("channels_first")]
        #expect(conv.verify().contains { $0.contains("'op' (conv2d)") && $0.contains("data_format") })
        // Weights computed by the graph are not supported: an error, not a trap.
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 2]), k = Tensor(name: "k", shape: [nil, 2])
        graph.inputs = [x, k]
        graph.outputs = try graph.append(Op(name: "dense", kind: .fullyConnected, inputs: [x, k]))
        #expect(throws: ExecutionError.self) { try Interpreter(graph: graph) }
        // Quantized tensors are not run as float.
        let quantized = try oneOpGraph(.activation, input: [nil, 2], ["function": .string("relu")])
        quantized.inputs[0].quantization = Quantization(scales: [0.1], zeroPoints: [0])
        #expect(throws: ExecutionError.self) { try Interpreter(graph: quantized) }
    }

    @Test func inputsAreCheckedAgainstTheGraph() throws {
        let graph = try oneOpGraph(.activation, input: [nil, 3], ["function": .string("relu")])
        let interpreter = try Interpreter(graph: graph)
        #expect(throws: ExecutionError.self) { try interpreter.run([try TensorValue(shape: [1, 4], values: [1, 2, 3, 4])]) }
        #expect(throws: ExecutionError.self) { try interpreter.run(["y": try TensorValue(shape: [1, 3], values: [1, 2, 3])]) }
        #expect(throws: ExecutionError.self) { try interpreter.run([String: TensorValue]()) }
        #expect(throws: KernelError.self) { try TensorValue(shape: [2, 2], values: [1]) }
        // Any batch size, by name.
        let y = try interpreter.run(["x": try TensorValue(shape: [2, 3], values: [-1, 2, -3, 4, -5, 6])])
        #expect(y["op"]?.values == [0, 2, 0, 4, 0, 6])
    }

    @Test func observeSeesEveryTensorAndBatchesAgree() throws {
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k3.h5"))
        try PassRegistry.run(PassRegistry.standardPipeline, on: model.graph)
        let interpreter = try Interpreter(graph: model.graph)
        let x = try NPY.read(path: Fixtures.sample("digits_cnn_k3.inputs.npy")).tensor
        var seen: [String] = []
        let whole = try interpreter.run(["input_layer": x]) { tensor, value in
            seen.append(tensor.name)
            #expect(value.shape.first == x.shape[0])
        }
        #expect(seen == model.graph.inputs.map(\.name) + model.graph.ops.map(\.outputs[0].name))
        // Other batch sizes change only BLAS' summation order.
        let batched = try interpreter.run(["input_layer": x], batchSize: 3)
        #expect(batched["dense_1"]?.shape == [4, 10])
        expectClose(batched["dense_1"]!.values, whole["dense_1"]!.values, tolerance: 1e-6)
    }

    @Test(arguments: ["digits_cnn_k2.h5", "digits_cnn_k3.keras", "small_resnet_k3.keras", "small_vgg_k3.h5", "seed_mobilenetv2_k3.h5"])
    func sampleMatchesKerasOutputs(name: String) throws {
        let stem = String(name.split(separator: ".")[0])
        let expected = try NPY.read(path: Fixtures.sample("\(stem).outputs.npy"))
        for passes in [true, false] {
            let model = try KerasFile.load(path: Fixtures.sample(name))
            if passes { try PassRegistry.run(PassRegistry.standardPipeline, on: model.graph) }
            let interpreter = try Interpreter(graph: model.graph)
            let x = try NPY.read(path: Fixtures.sample("\(stem).inputs.npy")).tensor
            let y = try interpreter.run([interpreter.inputNames[0]: x])[interpreter.outputNames[0]]!
            #expect(y.shape == expected.shape)
            let scale = max(1, expected.values.map(abs).max() ?? 0)
            let worst = zip(y.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * scale, "\(name) passes=\(passes): max error \(worst)")
        }
    }
}
