import Foundation
import GraphIR
import JSON
import Keras
import TestSupport
import Testing
@testable import Analysis
@testable import Diff
@testable import HTML
@testable import Reports
@testable import TFLiteReports

/// Every committed sample (and the third-party Keras 2.0.5 file) against Samples/expected.json,
/// which scripts/make_samples.py filled with what Keras and numpy say — never with keraslite output.
@Suite struct SampleExpectationsTests {
    static let root = Fixtures.root
    static let samples = root.appendingPathComponent("Samples")

    static let expected: [String: JSON] = {
        let text = (try? String(contentsOf: samples.appendingPathComponent("expected.json"), encoding: .utf8)) ?? "{}"
        return (try? JSON.parse(text).object) ?? [:]
    }()

    static var keys: [String] { expected.keys.sorted() }

    static func path(for key: String) -> String {
        key.hasPrefix("realworld/")
            ? Fixtures.shared(key)
            : samples.appendingPathComponent(key).path
    }

    static func load(_ key: String) throws -> KerasModel {
        let config = key.hasSuffix(".weights.h5")
            ? samples.appendingPathComponent(key.replacingOccurrences(of: ".weights.h5", with: ".json")).path : nil
        return try KerasFile.load(path: path(for: key), configPath: config)
    }

    static func shape(_ json: JSON?) -> Shape? { json?.array?.map(\.int) }

    @Test func expectationsCoverEverySample() throws {
        #expect(Self.keys.count >= 15)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.samples.path)
            .filter { $0.hasSuffix(".h5") || $0.hasSuffix(".keras") }
        for file in files { #expect(Self.expected[file] != nil, "\(file) has no expectations") }
    }

    @Test(arguments: keys) func inspectEqualsKeras(key: String) throws {
        let expected = try #require(Self.expected[key])
        let model = try Self.load(key)
        let report = try InspectReport(model: model, countZeros: true)
        #expect(report.params == expected["count_params"]?.int, "count_params")
        #expect(report.kerasVersion == expected["keras_version"]?.string)
        // The script labels the weights-only pair "keras-h5-weights-only"; its container is keras-h5.
        #expect(expected["format"]?.string?.hasPrefix(report.format) == true)
        #expect(report.sizeBytes == expected["size_bytes"]?.int)

        let ours = Dictionary(uniqueKeysWithValues: report.layers.map { ($0.name, $0) })
        for layer in expected["layers"]?.array ?? [] {
            let name = try #require(layer["name"]?.string)
            let mine = try #require(ours[name], "layer \(name) missing")
            #expect(mine.params == layer["params"]?.int, "\(name) params")
            if let shape = Self.shape(layer["output_shape"]), layer["calls"]?.int ?? 1 <= 1 {
                #expect(mine.outputShapes.first == shape, "\(name) output shape")
            }
        }
        let expectedOutputs = (expected["outputs"]?.array ?? []).compactMap { Self.shape($0["shape"]) }
        #expect(report.outputs.map(\.shape) == expectedOutputs)
        let expectedInputs = (expected["inputs"]?.array ?? []).compactMap { Self.shape($0["shape"]) }
        #expect(report.inputs.map(\.shape) == expectedInputs)
    }

    @Test(arguments: keys) func sparsityEqualsNumpy(key: String) throws {
        let expected = try #require(Self.expected[key])
        let report = try SparsityReport(model: try Self.load(key), threshold: 1e-3)
        #expect(report.total == expected["total"]?.int)
        #expect(report.zeros == expected["zeros"]?.int)
        #expect(report.nearZero == expected["near_zero"]?.int)
        // Weight names differ between Keras versions; the multiset of (size, zeros, near-zero) must not.
        let ours = report.tensors.map { [$0.total, $0.zeros, $0.nearZero] }.sorted { $0.lexicographicallyPrecedes($1) }
        let theirs = (expected["weights"]?.array ?? []).map { [$0["size"]?.int ?? -1, $0["zeros"]?.int ?? -1, $0["near_zero"]?.int ?? -1] }
            .sorted { $0.lexicographicallyPrecedes($1) }
        #expect(ours == theirs)
    }

    /// The same model written by Keras 2 and Keras 3, as .h5 and .keras, gives the same IR apart from names.
    @Test func dialectsAgreeOnStructure() throws {
        for group in [["digits_cnn_k2.h5", "digits_cnn_k3.h5", "digits_cnn_k3.keras"],
                      ["multi_io_k2.h5", "multi_io_k3.h5", "multi_io_k3.keras"],
                      ["seed_mobilenetv2_k2.h5", "seed_mobilenetv2_k3.h5", "seed_mobilenetv2_k3.keras"],
                      ["small_resnet_k2.h5", "small_resnet_k3.keras"]] {
            let graphs = try group.map { try Self.load($0).graph }
            let signatures = graphs.map { graph in graph.ops.map { "\($0.kind.rawValue)\($0.outputs.map(\.shape.text))" } }
            for signature in signatures.dropFirst() { #expect(signature == signatures[0], "\(group)") }
        }
    }
}
