import Testing
import Keras
import TestSupport
@testable import TFLite

/// `--keep-float` selects operators by the Keras layers their IR op computes, including layers a
/// pass merged into it (a folded BatchNormalization, a fused activation or Add's ReLU).
@Suite struct KeepFloatTests {
    func dynamic(keeping layers: Set<String>) throws -> [UInt8] {
        let keras = try KerasFile.load(path: Fixtures.sample("small_resnet_k2.h5"))
        let options = TFLiteConverter.Options(quantization: QuantizationOptions(mode: .dynamic, minElements: 0, keepFloat: layers))
        return try TFLiteConverter.convert(keras.graph, options: options).bytes
    }

    @Test func mergedLayersSelectTheOpTheyWereMergedInto() throws {
        let none = try dynamic(keeping: [])
        let conv = try dynamic(keeping: ["block1_conv2"])
        #expect(conv != none)
        // block1_bn2 is folded into block1_conv2: keeping either keeps the same operator float.
        #expect(try dynamic(keeping: ["block1_bn2"]) == conv)
        // conv1_conv → conv1_bn → conv1_relu become one CONV_2D: any of the three names selects it.
        let stem = try dynamic(keeping: ["conv1_conv"])
        #expect(stem != none)
        #expect(try dynamic(keeping: ["conv1_bn"]) == stem)
        #expect(try dynamic(keeping: ["conv1_relu"]) == stem)
        // block1_add's ReLU (block1_out) is fused into it; the Add's own name is still a layer of the model.
        #expect(throws: Never.self) { try dynamic(keeping: ["block1_add"]) }
        #expect(throws: ConversionError.self) { try dynamic(keeping: ["no_such_layer"]) }
    }
}
