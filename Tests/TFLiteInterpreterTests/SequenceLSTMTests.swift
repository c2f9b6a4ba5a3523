import Foundation
import GraphIR
import Interpreter
import Kernels
import Testing
import TFLite
@testable import TFLiteInterpreter

/// An lstm op over x [?, steps, features] with deterministic weights in [−0.5, 0.5).
private func lstmGraph(features: Int, units: Int, steps: Int, returnSequences: Bool = false, goBackwards: Bool = false,
                       activation: ActivationFunction = .tanh, gates: ActivationFunction = .sigmoid, returnState: Bool = false) throws -> Graph {
    var seed: UInt32 = 12345
    func values(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return Float(seed >> 8) / Float(1 << 24) - 0.5
        }
    }
    let graph = Graph(name: "lstm")
    let x = Tensor(name: "x", shape: [nil, steps, features])
    let kernel = Tensor(name: "lstm/kernel", shape: [features, 4 * units], constant: ConstantData(values: values(features * 4 * units)))
    let recurrent = Tensor(name: "lstm/recurrent_kernel", shape: [units, 4 * units], constant: ConstantData(values: values(units * 4 * units)))
    let bias = Tensor(name: "lstm/bias", shape: [4 * units], constant: ConstantData(values: values(4 * units)))
    graph.inputs = [x]
    let outputs = try graph.append(Op(name: "lstm", kind: .lstm, inputs: [x, kernel, recurrent, bias], attributes: Attributes {
        $0[.cellActivation] = activation
        $0[.recurrentActivation] = gates
        $0[.returnSequences] = returnSequences
        $0[.goBackwards] = goBackwards
    }))
    graph.outputs = returnState ? outputs : [outputs[0]]
    return graph
}

private func input(batch: Int, steps: Int, features: Int) throws -> TensorValue {
    try TensorValue(shape: [batch, steps, features], values: (0..<(batch * steps * features)).map { sinf(Float($0) * 0.7) })
}

/// max |a − b| / max(1, max |b|).
private func relativeError(_ a: TensorValue, _ b: TensorValue) -> Float {
    guard a.shape == b.shape else { return .infinity }
    let scale = max(1, b.values.map(abs).max() ?? 0)
    return zip(a.values, b.values).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

private func builtins(_ file: TFLiteFile) -> [(name: String, version: Int)] {
    file.subgraphs[0].operators.map { ($0.name, $0.version) }
}

extension TFLiteInterpreterTests {
    /// lstm → UNIDIRECTIONAL_SEQUENCE_LSTM: the lowering, the executor's kernel against the graph
    /// interpreter (one recurrent core, two weight layouts), hybrid dynamic range and int8.
    @Suite struct SequenceLSTMTests {
        private func convert(_ graph: Graph, batch: Int? = 2, _ quantization: QuantizationOptions = QuantizationOptions(),
                             options: TFLiteExecutor.Options = .init()) throws -> (TFLiteConverter.Result, TFLiteExecutor) {
            let result = try TFLiteConverter.convert(graph, options: .init(batch: batch, quantization: quantization))
            let file = try TFLiteFile(data: Data(result.bytes), path: "lstm.tflite")
            return (result, try TFLiteExecutor(file: file, options: options))
        }

        @Test(arguments: [(false, false, ActivationFunction.tanh), (true, false, .tanh), (false, true, .relu), (true, true, .linear)])
        func fusedOperatorMatchesTheGraphInterpreter(_ returnSequences: Bool, _ goBackwards: Bool, _ activation: ActivationFunction) throws {
            let graph = try lstmGraph(features: 3, units: 5, steps: 7, returnSequences: returnSequences, goBackwards: goBackwards,
                                      activation: activation)
            let x = try input(batch: 2, steps: 7, features: 3)
            let expected = try Interpreter(graph: graph).run([x])[0]
            let (result, executor) = try convert(graph)
            let ops = builtins(executor.file).map(\.name)
            #expect(ops.filter { $0 == "UNIDIRECTIONAL_SEQUENCE_LSTM" }.count == 1)
            #expect(ops.count == 1 + (goBackwards ? 1 : 0) + (returnSequences ? 0 : 2), "\(ops)")
            #expect(result.minRuntimeVersion == (goBackwards || !returnSequences ? "1.14.0" : "1.13.1"))
            // Two variable states without buffers, [batch, units].
            let states = executor.file.subgraphs[0].tensors.filter(\.isVariable)
            #expect(states.count == 2 && states.allSatisfy { $0.shape == [2, 5] && !$0.isConstant })
            let output = try executor.run([x])[0]
            #expect(relativeError(output, expected) <= 1e-5, "\(relativeError(output, expected))")
            // Each run starts from zero states.
            #expect(try executor.run([x])[0] == output)
        }

        @Test func layersLiteRTCannotComputeExactlyStayUnrolled() throws {
            for graph in [try lstmGraph(features: 3, units: 4, steps: 5, gates: .hardSigmoid),
                          try lstmGraph(features: 3, units: 4, steps: 5, activation: .sigmoid),
                          try lstmGraph(features: 3, units: 4, steps: 5, returnState: true)] {
                let x = try input(batch: 2, steps: 5, features: 3)
                let expected = try Interpreter(graph: graph).run([x])
                let (result, executor) = try convert(graph)
                #expect(result.operatorCounts["UNIDIRECTIONAL_SEQUENCE_LSTM"] == nil)
                #expect(result.operatorCount > 20)
                for (ours, theirs) in zip(try executor.run([x]), expected) { #expect(relativeError(ours, theirs) <= 1e-5) }
            }
            // A dynamic batch cannot size the variable states: unrolled.
            let (result, _) = try convert(try lstmGraph(features: 3, units: 4, steps: 5), batch: nil)
            #expect(result.operatorCounts["UNIDIRECTIONAL_SEQUENCE_LSTM"] == nil)
        }

        @Test func dynamicRangeMakesWideLSTMsHybrid() throws {
            let graph = try lstmGraph(features: 32, units: 32, steps: 6, goBackwards: true)
            let x = try input(batch: 2, steps: 6, features: 32)
            let expected = try Interpreter(graph: graph).run([x])[0]
            let dynamic = QuantizationOptions(mode: .dynamic)
            let (result, hybrid) = try convert(graph, dynamic)
            #expect(builtins(hybrid.file).contains { $0.name == "UNIDIRECTIONAL_SEQUENCE_LSTM" && $0.version == 3 })
            #expect(result.minRuntimeVersion == "2.3.0")
            let lstm = hybrid.file.subgraphs[0].operators.first { $0.name == "UNIDIRECTIONAL_SEQUENCE_LSTM" }!
            #expect(lstm.options.contains { $0.0 == "activation" && $0.1 == "TANH" })
            let weights = lstm.inputs[1...8].map { hybrid.file.subgraphs[0].tensors[$0] }
            #expect(weights.allSatisfy { $0.type == "int8" && $0.quantization?.scales.count == 1 })
            let emulated = try hybrid.run([x])[0]
            let (_, plain) = try convert(try lstmGraph(features: 32, units: 32, steps: 6, goBackwards: true), dynamic,
                                         options: .init(emulateHybridKernels: false))
            let dequantized = try plain.run([x])[0]
            #expect(relativeError(emulated, expected) <= 2e-2 && relativeError(dequantized, expected) <= 2e-2)
            // The hybrid kernel quantizes each step's input and state rows, as LiteRT's does.
            #expect(emulated != dequantized)

            // Below 1024 values in any gate weight, all eight stay float (version 1), as TensorFlow decides.
            let (_, small) = try convert(try lstmGraph(features: 8, units: 32, steps: 6), dynamic)
            #expect(builtins(small.file).contains { $0.name == "UNIDIRECTIONAL_SEQUENCE_LSTM" && $0.version == 1 })
        }

        @Test func int8KeepsTheLSTMFloatWithOneWarning() throws {
            let graph = try lstmGraph(features: 4, units: 6, steps: 5)
            let x = try input(batch: 2, steps: 5, features: 4)
            let expected = try Interpreter(graph: graph).run([x])[0]
            let calibrate: @Sendable (TFLiteFile) throws -> [Int: ValueRange] = { view in
                var ranges: [Int: ValueRange] = [:]
                _ = try TFLiteExecutor(file: view).run([x]) { index, _, value, _ in
                    ranges[index] = ValueRange(min: value.values.min() ?? 0, max: value.values.max() ?? 0)
                }
                return ranges
            }
            let (result, executor) = try convert(graph, QuantizationOptions(mode: .int8, calibrate: calibrate))
            #expect(result.warnings.count == 1 && result.warnings[0].contains("UNIDIRECTIONAL_SEQUENCE_LSTM"), "\(result.warnings)")
            #expect(builtins(executor.file).contains { $0.name == "UNIDIRECTIONAL_SEQUENCE_LSTM" && $0.version == 1 })
            #expect(relativeError(try executor.run([x])[0], expected) <= 2e-2)
        }
    }
}
