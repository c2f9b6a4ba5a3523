import Foundation
import GraphIR
import Interpreter
import Kernels
import Keras
import TestSupport
import Testing
import TFLite
@testable import Calibration

/// Full-integer conversion of real samples, checked on the written file (read back by the
/// verifying reader) against the constraints LiteRT's int8 kernels check in Prepare.
@Suite struct Int8ConversionTests {
    /// Converts a sample to int8, calibrated on its committed inputs.
    private func convert(_ sample: String, io: QuantizedIOType = .float32, keepFloat: Set<String> = []) throws -> TFLiteFile {
        let keras = try KerasFile.load(path: Fixtures.sample(sample))
        let stem = String(sample.split(separator: ".")[0])
        let inputs = Fixtures.sample(stem + (sample.hasPrefix("multi_io") ? ".inputs.npz" : ".inputs.npy"))
        let samples = try CalibrationSamples.load(path: inputs, inputs: keras.graph.inputs)
        let options = QuantizationOptions(mode: .int8, keepFloat: keepFloat, io: io) { floatModel in
            try Calibrator().ranges(forModel: floatModel, samples: samples)
        }
        let result = try TFLiteConverter.convert(keras.graph, options: .init(quantization: options))
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        return try TFLiteFile(data: Data(result.bytes), path: sample)
    }

    private func parameters(_ tensor: TFLiteFile.TensorInfo) -> (Float, Int64)? {
        guard let q = tensor.quantization, q.scales.count == 1 else { return nil }
        return (q.scales[0], q.zeroPoints[0])
    }

    /// The float model is calibrated with a dynamic batch (several samples per executor call) while
    /// the written file keeps batch 1, and the ranges are those of the written float model itself.
    @Test func calibrationRunsTheFloatModelWithADynamicBatch() throws {
        let keras = try KerasFile.load(path: Fixtures.sample("small_resnet_k2.h5"))
        let samples = try CalibrationSamples.load(path: Fixtures.sample("small_resnet_k2.inputs.npy"), inputs: keras.graph.inputs)
        final class Seen: @unchecked Sendable { let lock = NSLock(); var models: [TFLiteFile] = [] }
        let seen = Seen()
        let options = QuantizationOptions(mode: .int8) { floatModel in
            seen.lock.withLock { seen.models.append(floatModel) }
            return try Calibrator().ranges(forModel: floatModel, samples: samples)
        }
        let result = try TFLiteConverter.convert(keras.graph, options: .init(quantization: options))
        #expect(samples.count >= 2)
        try #require(seen.models.count == 1)
        let calibrated = seen.models[0], written = try #require(result.floatModel)
        let input = calibrated.subgraphs[0].inputs[0]
        #expect(calibrated.subgraphs[0].tensors[input].shapeSignature?.first == -1)
        #expect(written.subgraphs[0].tensors[input].shape.first == 1 && written.subgraphs[0].tensors[input].shapeSignature == nil)
        #expect(calibrated.subgraphs[0].tensors.map(\.name) == written.subgraphs[0].tensors.map(\.name))
        let batched = try Calibrator().ranges(forModel: calibrated, samples: samples)
        let oneByOne = try Calibrator().ranges(forModel: written, samples: samples)
        #expect(Set(batched.keys) == Set(oneByOne.keys) && !batched.isEmpty)
        for (index, range) in oneByOne {
            let other = try #require(batched[index])
            let scale = max(1, abs(range.min), abs(range.max))
            #expect(abs(other.min - range.min) <= 1e-5 * scale && abs(other.max - range.max) <= 1e-5 * scale, "tensor \(index)")
        }
    }

    @Test func residualCNNFollowsLiteRTsInt8Constraints() throws {
        let file = try convert("small_resnet_k2.h5")
        let graph = file.subgraphs[0]
        let tensors = graph.tensors
        var seen = Set<String>()
        for op in graph.operators {
            seen.insert(op.name)
            let output = tensors[op.outputs[0]]
            switch op.name {
            case "MAX_POOL_2D", "PAD", "RESHAPE", "AVERAGE_POOL_2D":
                #expect(parameters(output)! == parameters(tensors[op.inputs[0]])!, "\(op.name) rescales")
            case "SOFTMAX":
                #expect(parameters(output)! == (1.0 / 256, -128))
            case "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED":
                let input = tensors[op.inputs[0]], weights = tensors[op.inputs[1]], bias = tensors[op.inputs[2]]
                #expect(weights.type == "int8" && bias.type == "int32")
                let weightScales = weights.quantization!.scales
                #expect(weights.quantization!.zeroPoints.allSatisfy { $0 == 0 })
                let channels = op.name == "DEPTHWISE_CONV_2D" ? weights.shape[3] : weights.shape[0]
                #expect(weightScales.count == channels, "per-channel weights")
                let inputScale = parameters(input)!.0
                for (biasScale, weightScale) in zip(bias.quantization!.scales, weightScales) {
                    #expect(abs(biasScale - inputScale * weightScale) <= 1e-6 * biasScale)
                }
                #expect(op.version == (op.name == "FULLY_CONNECTED" ? 4 : 3))
            default: break
            }
            if op.name != "DEQUANTIZE" { #expect(output.type == "int8", "\(op.name) output \(output.type)") }
        }
        #expect(seen.isSuperset(of: ["QUANTIZE", "CONV_2D", "ADD", "MAX_POOL_2D", "SOFTMAX", "DEQUANTIZE"]), "\(seen)")
        #expect(tensors[graph.inputs[0]].type == "float32" && tensors[graph.outputs[0]].type == "float32")
        #expect(!tensors.contains { $0.type == "float32" && $0.isConstant }, "a float weight was left behind")
    }

    @Test func keepFloatKeepsOnlyTheNamedLayer() throws {
        // block1_conv2 (its output is named after the folded block1_bn2) stays float; the conv
        // before it and the ADD after it stay int8, with DEQUANTIZE/QUANTIZE in between.
        let graph = try convert("small_resnet_k2.h5", keepFloat: ["block1_conv2"]).subgraphs[0]
        let outputs = Dictionary(uniqueKeysWithValues: graph.operators.map { (graph.tensors[$0.outputs[0]].name, $0) })
        #expect(graph.tensors[outputs["block1_bn2"]!.outputs[0]].type == "float32")
        #expect(graph.tensors[outputs["block1_relu1"]!.outputs[0]].type == "int8")
        #expect(graph.tensors[outputs["block1_out"]!.outputs[0]].type == "int8")
        #expect(outputs["block1_relu1/dequantize"]?.name == "DEQUANTIZE" && outputs["block1_bn2/quantize"]?.name == "QUANTIZE")
        let kernel = graph.tensors[outputs["block1_bn2"]!.inputs[1]]
        #expect(kernel.type == "float32" && kernel.isConstant)
    }

    @Test func concatenationInputsShareTheOutputParameters() throws {
        let file = try convert("multi_io_k2.h5")
        let graph = file.subgraphs[0]
        let concatenations = graph.operators.filter { $0.name == "CONCATENATION" }
        #expect(!concatenations.isEmpty)
        for op in concatenations {
            let output = parameters(graph.tensors[op.outputs[0]])!
            for input in op.inputs { #expect(parameters(graph.tensors[input])! == output) }
        }
        #expect(graph.inputs.count == 2 && graph.outputs.count == 2)
    }

    @Test(arguments: [QuantizedIOType.int8, .uint8])
    func integerInputsAndOutputs(io: QuantizedIOType) throws {
        let file = try convert("digits_cnn_k2.h5", io: io)
        let graph = file.subgraphs[0]
        let input = graph.tensors[graph.inputs[0]], output = graph.tensors[graph.outputs[0]]
        #expect(input.type == io.rawValue && output.type == io.rawValue)
        #expect(output.quantization!.scales == [1.0 / 256])
        #expect(output.quantization!.zeroPoints == [io == .uint8 ? 0 : -128])
        let quantizeOps = graph.operators.filter { $0.name == "QUANTIZE" }.count
        #expect(quantizeOps == (io == .uint8 ? 2 : 0))
        #expect(!graph.operators.contains { $0.name == "DEQUANTIZE" })
        if io == .uint8 {
            // The first op shifts uint8 to int8: same scale, zero point − 128.
            let first = graph.operators[0]
            let shifted = graph.tensors[first.outputs[0]]
            #expect(shifted.quantization!.scales == input.quantization!.scales)
            #expect(shifted.quantization!.zeroPoints[0] == input.quantization!.zeroPoints[0] - 128)
        }
    }

    @Test(arguments: ["small_resnet_k2.h5", "multi_io_k3.h5"])
    func theInMemoryFloatModelCalibratesAsItsFile(sample: String) throws {
        // int8 conversion calibrates the lowered float model in memory (TFLiteFile(model:)); its
        // ranges equal those of the same model serialized and read back, bit for bit.
        let stem = sample.replacingOccurrences(of: ".h5", with: "")
        let inputs = Fixtures.sample(stem + (stem.hasPrefix("multi_io") ? ".inputs.npz" : ".inputs.npy"))
        let floatBytes = try TFLiteConverter.convert(try KerasFile.load(path: Fixtures.sample(sample)).graph).bytes
        let keras = try KerasFile.load(path: Fixtures.sample(sample))
        let samples = try CalibrationSamples.load(path: inputs, inputs: keras.graph.inputs)
        let calibrator = Calibrator(method: .percentile)
        let options = QuantizationOptions(mode: .int8, calibrate: { try calibrator.ranges(forModel: $0, samples: samples) })
        let result = try TFLiteConverter.convert(keras.graph, options: .init(quantization: options))
        let inMemory = try #require(result.floatModel)
        #expect(inMemory.path == "float model")
        let fromFile = try calibrator.ranges(forModel: try TFLiteFile(data: Data(floatBytes), path: "float"), samples: samples)
        #expect(try calibrator.ranges(forModel: inMemory, samples: samples) == fromFile)
    }

    @Test func minmaxRangesAreTheValuesKerasGraphProduces() throws {
        // The float .tflite's output range on the executor equals the IR interpreter's (an
        // independent implementation) on the same samples, in batches of 3 and 1.
        let keras = try KerasFile.load(path: Fixtures.sample("digits_mlp_k2.h5"))
        let samples = try CalibrationSamples.load(path: Fixtures.sample("digits_mlp_k2.inputs.npy"), inputs: keras.graph.inputs)
        let floatModel = try TFLiteConverter.convert(keras.graph).bytes
        let file = try TFLiteFile(data: Data(floatModel), path: "float")
        let ranges = try Calibrator(batchSize: 3).ranges(forModel: file, samples: samples)
        let outputs = try Interpreter(graph: keras.graph).run(samples.inputs)
        let expected = outputs.values.first!.values
        let range = ranges[file.subgraphs[0].outputs[0]]!
        #expect(abs(range.min - expected.min()!) <= 1e-5 && abs(range.max - expected.max()!) <= 1e-5, "\(range)")
        #expect(ranges.count >= file.subgraphs[0].operators.count, "every operator output has a range")
    }

    @Test func calibrationDataMustFitTheInputs() throws {
        let keras = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        #expect(throws: CalibrationError.self) {
            _ = try CalibrationSamples.load(path: Fixtures.sample("digits_mlp_k2.inputs.npy"), inputs: keras.graph.inputs)
        }
        let multi = try KerasFile.load(path: Fixtures.sample("multi_io_k2.h5"))
        do {
            _ = try CalibrationSamples.load(path: Fixtures.sample("digits_cnn_k2.inputs.npy"), inputs: multi.graph.inputs)
            Issue.record("a .npy was accepted for a two-input model")
        } catch let error as CalibrationError {
            #expect(error.description.contains("2 inputs"))
        }
        let samples = try CalibrationSamples.load(path: Fixtures.sample("multi_io_k2.inputs.npz"), inputs: multi.graph.inputs)
        #expect(samples.count == 4 && Set(samples.inputs.keys) == ["a", "b"])
    }
}
