import Foundation
import GraphIR
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
        #expect(throws: InterpreterError.unsupported(op: "op", kind: "resize", detail: "resize method 'bicubic'")) {
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
        #expect(throws: InterpreterError.self) { try Interpreter(graph: graph) }
        // Quantized tensors are not run as float.
        let quantized = try oneOpGraph(.activation, input: [nil, 2], ["function": .string("relu")])
        quantized.inputs[0].quantization = Quantization(scales: [0.1], zeroPoints: [0])
        #expect(throws: InterpreterError.self) { try Interpreter(graph: quantized) }
    }

    @Test func inputsAreCheckedAgainstTheGraph() throws {
        let graph = try oneOpGraph(.activation, input: [nil, 3], ["function": .string("relu")])
        let interpreter = try Interpreter(graph: graph)
        #expect(throws: InterpreterError.self) { try interpreter.run([try TensorValue(shape: [1, 4], values: [1, 2, 3, 4])]) }
        #expect(throws: InterpreterError.self) { try interpreter.run(["y": try TensorValue(shape: [1, 3], values: [1, 2, 3])]) }
        #expect(throws: InterpreterError.self) { try interpreter.run([String: TensorValue]()) }
        #expect(throws: InterpreterError.self) { try TensorValue(shape: [2, 2], values: [1]) }
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

    @Test func npyRoundTripAndOtherDTypes() throws {
        let value = try TensorValue(shape: [2, 3], values: [1, -2.5, 3, 0, .infinity, 1e-30])
        let bytes = NPY.encode(value)
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect((bytes.count - value.count * 4) % 64 == 0, "header padded to 64 bytes")
        let decoded = try NPY.decode(Data(bytes))
        #expect(decoded.dtype == "<f4" && decoded.tensor == value)
        #expect(try NPY.decode(Data(NPY.encode(try TensorValue(shape: [], values: [7])))).shape == [])

        func file(_ descr: String, _ shape: String, _ payload: [UInt8], fortran: Bool = false) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
            header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + payload)
        }
        // float64 2.5 and −1 (little endian), uint8 255, big-endian int16 −2, float16 1.5 (0x3E00), bool.
        let f8 = try NPY.decode(file("<f8", "(2,)", [0, 0, 0, 0, 0, 0, 4, 64, 0, 0, 0, 0, 0, 0, 240, 191]))
        #expect(f8.values == [2.5, -1] && f8.shape == [2])
        #expect(try NPY.decode(file("|u1", "(1, 1)", [255])).values == [255])
        #expect(try NPY.decode(file(">i2", "(1,)", [0xFF, 0xFE])).values == [-2])
        #expect(try NPY.decode(file("<f2", "(1,)", [0x00, 0x3E])).values == [1.5])
        #expect(try NPY.decode(file("|b1", "(2,)", [1, 0])).values == [1, 0])
        #expect(throws: NPYError.fortranOrder) { try NPY.decode(file("<f4", "(1, 2)", [UInt8](repeating: 0, count: 8), fortran: true)) }
        #expect(throws: NPYError.truncated(expected: 8, actual: 4)) { try NPY.decode(file("<f4", "(2,)", [0, 0, 0, 0])) }
        #expect(throws: NPYError.unsupportedDType("<c8")) { try NPY.decode(file("<c8", "(1,)", [UInt8](repeating: 0, count: 8))) }
        #expect(throws: NPYError.self) { try NPY.decode(Data("not numpy".utf8)) }
    }

    @Test func npzRoundTrip() throws {
        let a = try TensorValue(shape: [1, 2], values: [1, 2]), b = try TensorValue(shape: [3], values: [4, 5, 6])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-\(UUID().uuidString).npz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(try NPZ.encode([("alpha", a), ("beta", b)])).write(to: URL(fileURLWithPath: path))
        let arrays = try NPZ.read(path: path)
        #expect(arrays.map(\.name) == ["alpha", "beta"])
        #expect(arrays[0].array.tensor == a && arrays[1].array.tensor == b)
        // numpy's own .npz (the committed multi-input samples).
        let inputs = try NPZ.read(path: Fixtures.sample("multi_io_k3.inputs.npz"))
        #expect(inputs.count == 2 && inputs.allSatisfy { $0.array.shape.first == 4 })
    }
}
