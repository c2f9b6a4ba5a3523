import Foundation
import GraphIR
import JSON
import Keras
import TFLite
import TestSupport
import Testing
@testable import Analysis
@testable import Diff
@testable import HTML
@testable import Reports
@testable import TFLiteReports

@Suite struct ModelDiffTests {
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-diff-\(UUID().uuidString)-\(name)").path
    }

    /// Writes keraslite's .tflite of a sample to a temporary file.
    static func converted(_ sample: String) throws -> String {
        let model = try KerasFile.load(path: Fixtures.sample(sample))
        let result = try TFLiteConverter.convert(model.graph)
        let path = temporary(sample + ".tflite")
        try Data(result.bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: ["digits_cnn_k3.h5", "multi_io_k3.keras", "small_resnet_k2.h5", "digits_mlp_k2.h5"])
    func fileAgainstItselfIsEqual(sample: String) throws {
        let diff = try ModelDiff(pathA: Fixtures.sample(sample), pathB: Fixtures.sample(sample))
        #expect(diff.equal, "\(diff.text())")
        #expect(diff.rows.count > 0 && diff.rows.allSatisfy { $0.kind == .same })
        let model = try KerasFile.load(path: Fixtures.sample(sample))
        #expect(diff.a.params == model.params)
        #expect(diff.weights.allSatisfy { $0.maxAbsDiff == 0 && $0.cosine.map { abs($0 - 1) < 1e-9 } == true })
    }

    @Test(arguments: ["digits_cnn_k3.h5", "multi_io_k2.h5", "small_resnet_k3.keras", "seed_mobilenetv2_k2.h5"])
    func kerasFileAndItsConversionAreEqual(sample: String) throws {
        let tflite = try Self.converted(sample)
        defer { try? FileManager.default.removeItem(atPath: tflite) }
        let diff = try ModelDiff(pathA: Fixtures.sample(sample), pathB: tflite)
        #expect(diff.equal, "\(diff.text())")
        #expect(diff.level == "TFLite operators")
        #expect(diff.unmatchedWeightsA.isEmpty && diff.unmatchedWeightsB.isEmpty)
        let file = try TFLiteFile(path: tflite)
        #expect(diff.b.ops == file.subgraphs[0].operators.count)
    }

    @Test func sameModelFromTwoKerasVersionsDiffersOnlyInWeights() throws {
        // digits_cnn_k2 and _k3 are the same architecture trained separately by Keras 2 and 3.
        let diff = try ModelDiff(pathA: Fixtures.sample("digits_cnn_k2.h5"), pathB: Fixtures.sample("digits_cnn_k3.h5"))
        #expect(!diff.equal)
        #expect(diff.rows.allSatisfy { $0.kind == .same }, "\(diff.text())")
        #expect(diff.differingWeights.count == diff.weights.count)
        #expect(diff.verdict.hasPrefix("different:"))
    }

    @Test func differentArchitecturesReportAddedAndRemovedOps() throws {
        let diff = try ModelDiff(pathA: Fixtures.sample("digits_mlp_k2.h5"), pathB: Fixtures.sample("digits_cnn_k3.h5"))
        #expect(!diff.equal)
        #expect(!diff.added.isEmpty || !diff.removed.isEmpty)
        let aligned = diff.rows.compactMap(\.a).map(\.index)
        #expect(aligned == Array(0..<diff.a.ops), "every op of A appears once, in order")
        #expect(diff.rows.compactMap(\.b).map(\.index).sorted() == Array(0..<diff.b.ops), "every op of B appears once")
    }

    // MARK: views built by hand: exact numbers

    static func view(_ nodes: [(String, String)], weights: [[Float]], dtype: String = "float32") -> DiffView {
        var view = DiffView(path: "x", format: "test", level: .tflite, sizeBytes: 0, fileParams: 0)
        for (index, values) in weights.enumerated() {
            view.weights.append(DiffView.Weight(name: "w\(index)", shape: [values.count], dtype: dtype, quantization: nil,
                                                count: values.count, values: { values }))
        }
        for (index, (name, type)) in nodes.enumerated() {
            let weightRef = index < weights.count
                ? DiffView.TensorRef(name: "w\(index)", shape: "[\(weights[index].count)]", dtype: dtype, weight: index) : nil
            let activation = DiffView.TensorRef(name: name, shape: "[1,4]", dtype: "float32")
            view.nodes.append(DiffView.Node(name: name, type: type, attributes: [:], inputs: [activation, weightRef],
                                            outputs: [activation]))
        }
        return view
    }

    @Test func weightMetricsAreComputedExactly() throws {
        let a = Self.view([("fc", "FULLY_CONNECTED")], weights: [[3, 4, 0, 0]])
        let b = Self.view([("fc", "FULLY_CONNECTED")], weights: [[3, 4, 0, 0.5]])
        let diff = try ModelDiff(a, b, tolerance: 0)
        let weight = try #require(diff.weights.first)
        #expect(weight.maxAbsDiff == 0.5)
        #expect(abs(weight.relL2! - 0.1) < 1e-12)                 // 0.5 / 5
        #expect(abs(weight.cosine! - 25 / (5 * 25.25.squareRoot())) < 1e-12)
        #expect(weight.zerosA == 0.5 && weight.zerosB == 0.25)
        #expect(!diff.equal)
        #expect(try ModelDiff(a, b, tolerance: 0.5).equal)
        #expect(try !ModelDiff(a, b, tolerance: 0.49).equal)
    }

    @Test func alignmentKeepsOrderAndPrefersNames() throws {
        let a = Self.view([("in", "CONV_2D"), ("x", "ADD"), ("y", "ADD"), ("out", "SOFTMAX")], weights: [])
        let b = Self.view([("in", "CONV_2D"), ("y", "ADD"), ("out", "SOFTMAX"), ("z", "RESHAPE")], weights: [])
        let diff = try ModelDiff(a, b, tolerance: 0)
        #expect(diff.removed.map { $0.a!.name } == ["x"], "the ADD named y pairs with y, not x")
        #expect(diff.added.map { $0.b!.name } == ["z"])
        #expect(diff.rows.filter { $0.kind == .same }.count == 3)
    }

    @Test func reorderedIndependentBranchesStillPair() throws {
        // TensorFlow writes a residual block's shortcut conv first; keraslite writes it last.
        let a = Self.view([("b1_1", "CONV_2D"), ("b1_2", "CONV_2D"), ("b1_0", "CONV_2D")], weights: [[1, 2], [3, 4, 5], [6, 7, 8, 9]])
        let b = Self.view([("model/b1_0_1/Conv2D;x", "CONV_2D"), ("model/b1_1_1/Conv2D", "CONV_2D"), ("model/b1_2_1/Conv2D", "CONV_2D")],
                          weights: [[6, 7, 8, 9], [1, 2], [3, 4, 5]])
        let diff = try ModelDiff(a, b, tolerance: 0)
        #expect(diff.equal, "\(diff.text())")
        #expect(diff.rows.map { [$0.a?.name ?? "", $0.b?.name ?? ""] } == [
            ["b1_1", "model/b1_1_1/Conv2D"], ["b1_2", "model/b1_2_1/Conv2D"], ["b1_0", "model/b1_0_1/Conv2D;x"]])
        #expect(ModelDiff.namesMatch("conv2_block1_0_bn", "functional_1/conv2_block1_0_bn_1/batchnorm/add_1;x"))
        #expect(!ModelDiff.namesMatch("conv2_block1_0", "functional_1/conv2_block1_0_bn_1/batchnorm"))
    }

    @Test func dtypeAndShapeChangesAreStructureChanges() throws {
        let a = Self.view([("fc", "FULLY_CONNECTED")], weights: [[1, 2, 3, 4]])
        let b = Self.view([("fc", "FULLY_CONNECTED")], weights: [[1, 2, 3, 4]], dtype: "int8")
        let diff = try ModelDiff(a, b, tolerance: 0)
        #expect(diff.changed.count == 1)
        #expect(diff.changed[0].changes.contains { $0.contains("dtype float32 → int8") }, "\(diff.changed[0].changes)")
        let c = Self.view([("fc", "FULLY_CONNECTED")], weights: [[1, 2, 3]])
        let shapes = try ModelDiff(a, c, tolerance: 1)
        #expect(!shapes.equal)
        #expect(shapes.weights.first?.maxAbsDiff == nil)
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let diff = try ModelDiff(pathA: Fixtures.sample("digits_cnn_k2.h5"), pathB: Fixtures.sample("digits_cnn_k3.h5"))
        let json = try JSON.parse(diff.json.serialized())
        for key in ["equal", "structure", "weights", "summary", "a", "b", "level", "tolerance", "notes"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        for key in ["added", "removed", "changed"] { #expect(json["structure"]?[key]?.array != nil) }
        let first = try #require(json["weights"]?.array?.first)
        for key in ["name", "max_abs_diff", "rel_l2", "cosine"] { #expect(first[key] != nil, "weights lack \(key)") }
        #expect(json["equal"]?.bool == false)
    }

    @Test func errorsNameTheFile() throws {
        let bad = Self.temporary("broken.tflite")
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[4...7] = [0x54, 0x46, 0x4c, 0x33]   // "TFL3" with nonsense around it
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect {
            try ModelDiff(pathA: Fixtures.sample("digits_cnn_k3.h5"), pathB: bad)
        } throws: { "\($0)".hasPrefix(bad) }
    }
}
