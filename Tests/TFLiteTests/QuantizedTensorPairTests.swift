import Foundation
import GraphIR
import Testing
import Keras
import TestSupport
@testable import TFLite

/// Full-integer conversion pairs each float activation with its int8 version by tensor index, so a
/// quantization report needs no name conventions.
@Suite struct QuantizedTensorPairTests {
    func int8(_ sample: String, io: QuantizedIOType = .float32) throws -> TFLiteConverter.Result {
        let keras = try KerasFile.load(path: Fixtures.sample(sample))
        var quantization = QuantizationOptions(mode: .int8, io: io)
        quantization.calibrate = { file in
            Dictionary(uniqueKeysWithValues: file.subgraphs[0].tensors.indices.map { ($0, ValueRange(min: -4, max: 4)) })
        }
        return try TFLiteConverter.convert(keras.graph, options: .init(quantization: quantization))
    }

    @Test(arguments: [QuantizedIOType.float32, .int8, .uint8])
    func pairsFloatTensorsWithTheirQuantizedVersions(io: QuantizedIOType) throws {
        let result = try int8("multi_io_k2.h5", io: io)
        let float = try #require(result.floatModel).subgraphs[0]
        let quantized = try TFLiteFile(data: Data(result.bytes), path: "int8").subgraphs[0]
        #expect(!result.quantizedTensors.isEmpty)
        #expect(Set(result.quantizedTensors.map(\.quantizedTensor)).count == result.quantizedTensors.count)
        for pair in result.quantizedTensors {
            let source = float.tensors[pair.floatTensor], version = quantized.tensors[pair.quantizedTensor]
            #expect(source.type == "float32" && !source.isConstant)
            #expect(["int8", "uint8"].contains(version.type) && !version.isConstant)
            // The names still say which is which (the report no longer relies on them).
            #expect([source.name, source.name + "/quantize", source.name + "/int8"].contains(version.name))
        }
        // Every model input is compared, under its own name.
        for input in float.inputs {
            #expect(result.quantizedTensors.contains { $0.floatTensor == input && $0.layer == float.tensors[input].name })
        }
    }

    @Test func theLayerIsTheKerasLayerNotTheSharedCallsTensorName() throws {
        let result = try int8("multi_io_k2.h5")
        let float = try #require(result.floatModel).subgraphs[0]
        let second = try #require(result.quantizedTensors.first { float.tensors[$0.floatTensor].name == "shared@1" })
        #expect(second.layer == "shared")  // what --keep-float takes
    }
}
