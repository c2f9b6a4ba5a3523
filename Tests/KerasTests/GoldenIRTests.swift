import Foundation
import GraphIR
import TestSupport
import Testing
@testable import Keras

/// The printed IR of each sample against a reviewed golden file in Tests/KerasTests/Golden.
/// After an intended change: KERASLITE_UPDATE_GOLDEN=1 swift test --filter GoldenIRTests, then review the diff.
@Suite struct GoldenIRTests {
    static let root = Fixtures.root
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let cases: [(file: String, config: String?)] = [
        ("Samples/digits_cnn_k2.h5", nil), ("Samples/digits_cnn_k3.h5", nil), ("Samples/digits_cnn_k3.keras", nil),
        ("Samples/digits_cnn_k3_compiled.h5", nil), ("Samples/digits_mlp_k2.h5", nil),
        ("Samples/digits_mlp_k2.weights.h5", "Samples/digits_mlp_k2.json"),
        ("Samples/multi_io_k2.h5", nil), ("Samples/multi_io_k3.h5", nil), ("Samples/multi_io_k3.keras", nil),
        ("Samples/seed_mobilenetv2_k2.h5", nil), ("Samples/seed_mobilenetv2_k3.h5", nil), ("Samples/seed_mobilenetv2_k3.keras", nil),
        ("Samples/small_resnet_k2.h5", nil), ("Samples/small_resnet_k3.keras", nil), ("Samples/small_vgg_k3.h5", nil),
        (Fixtures.realworld, nil),
    ]

    @Test(arguments: cases.map(\.file)) func printedIRMatchesGolden(file: String) throws {
        let config = Self.cases.first { $0.file == file }?.config.map { Self.root.appendingPathComponent($0).path }
        let path = file.hasPrefix("/") ? file : Self.root.appendingPathComponent(file).path
        let model = try KerasFile.load(path: path, configPath: config)
        #expect(model.graph.verify().isEmpty)
        let printed = model.graph.printed()
        let goldenFile = Self.golden.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent + ".ir")
        if ProcessInfo.processInfo.environment["KERASLITE_UPDATE_GOLDEN"] == "1" {
            try printed.write(to: goldenFile, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: goldenFile, encoding: .utf8)
        #expect(printed == expected, "IR of \(file) differs from \(goldenFile.lastPathComponent)")
    }
}
