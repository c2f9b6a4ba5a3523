import Calibration
import GraphIR
import JSON
import Keras
import Passes
import TestSupport
import Testing
@testable import Analysis
@testable import Diff
@testable import HTML
@testable import Reports
@testable import TFLiteReports

@Suite("Sensitivity report")
struct SensitivityReportTests {
    /// The trained digits CNN on the 360 committed test images, every kernel selected, level 0 measured too.
    /// (On its 4 committed inputs dense's error at 50% is below its error at 25%: pruning more need not
    /// move the outputs more, and on a few confident samples the noise dominates.)
    static let measured = Result { try measure() }

    static func measure() throws -> SensitivityReport {
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        let samples = try CalibrationSamples.load(path: Fixtures.sample("digits_test_x.npy"), inputs: model.graph.inputs)
        let options = SensitivityReport.Options(levels: [0, 0.25, 0.5, 0.75, 0.9], target: 0.5,
                                                selection: PruningOptions(minParams: 0), batchSize: 100)
        return try SensitivityReport(graph: model.graph, path: "digits_cnn_k2.h5", input: "digits_test_x.npy", samples: samples,
                                     options: options)
    }

    @Test func errorsAreZeroUnprunedAndGrowWithTheLevel() throws {
        let report = try Self.measured.get()
        #expect(report.layers.map(\.name) == ["conv2d", "conv2d_1", "dense", "dense_1"])
        #expect(report.rows.count == 4 * 5)
        #expect(report.samples == 360)
        for layer in report.layers {
            let rows = report.rows.filter { $0.layer == layer.name }
            #expect(rows.map(\.level) == [0, 0.25, 0.5, 0.75, 0.9])
            #expect(rows[0].relativeL2 == 0 && rows[0].maxAbsError == 0 && rows[0].top1Agreement == 1, "\(layer.name)")
            for (lower, higher) in zip(rows, rows.dropFirst()) {
                #expect(higher.relativeL2 >= lower.relativeL2, "\(layer.name) \(lower.level) → \(higher.level)")
                #expect(higher.zeros >= lower.zeros)
            }
            let last = try #require(rows.last)
            #expect(last.relativeL2 > 0 && last.maxAbsError > 0, "\(layer.name) at 0.9")
            #expect(last.zeros == Int((0.9 * Double(layer.params)).rounded()))
        }
    }

    @Test(arguments: [0.0, 0.3, 0.5, 0.8])
    func planReachesTheTarget(target: Double) throws {
        var report = try Self.measured.get()
        report.plan = SensitivityReport.plan(layers: report.layers, rows: report.rows, target: target)
        let plan = report.plan
        #expect(plan.reached)
        #expect(Double(plan.zeros) >= target * Double(plan.params))
        #expect(plan.params == report.layers.reduce(0) { $0 + $1.params })
        #expect(plan.choices.allSatisfy { [0, 0.25, 0.5, 0.75, 0.9].contains($0.level) })
        if target == 0 { #expect(plan.choices.allSatisfy { $0.level == 0 }) }
        // The plan JSON is what `prune --plan` reads: {"layers": {name: number in [0, 1)}}.
        let layers = try #require(report.planJSON["layers"]?.object)
        #expect(Set(layers.keys) == Set(report.layers.map(\.name)))
        #expect(layers.values.allSatisfy { ($0.double ?? -1) >= 0 && ($0.double ?? 1) < 1 })
    }

    @Test func anUnreachableTargetSaysSo() throws {
        let layers = [SensitivityReport.Layer(name: "a", kernels: ["a/kernel"], params: 100, zeros: 0)]
        let rows = [SensitivityReport.Row(layer: "a", level: 0.5, zeros: 50,
                                          outputs: [.init(name: "y", maxAbsError: 1, relativeL2: 0.1, top1Agreement: nil)])]
        let plan = SensitivityReport.plan(layers: layers, rows: rows, target: 0.6)
        #expect(!plan.reached && plan.choices[0].level == 0.5 && plan.sparsity == 0.5)
    }

    @Test func greedyRaisesTheCheapestLayerPerWeightThenUndoesOvershoot() throws {
        func row(_ layer: String, _ level: Double, _ zeros: Int, _ error: Double) -> SensitivityReport.Row {
            .init(layer: layer, level: level, zeros: zeros, outputs: [.init(name: "y", maxAbsError: error, relativeL2: error, top1Agreement: nil)])
        }
        let layers = [SensitivityReport.Layer(name: "a", kernels: ["a/kernel"], params: 100, zeros: 0),
                      SensitivityReport.Layer(name: "b", kernels: ["b/kernel"], params: 1000, zeros: 0)]
        let rows = [row("a", 0.5, 50, 0.01), row("a", 0.9, 90, 0.5), row("b", 0.5, 500, 0.02), row("b", 0.9, 900, 0.9)]
        // Per zeroed weight b costs 4e-5 and a 2e-4: b goes to 50% first, then a, reaching 550 of 1100.
        let plan = SensitivityReport.plan(layers: layers, rows: rows, target: 0.5)
        #expect(plan.choices.map(\.level) == [0.5, 0.5] && plan.zeros == 550 && plan.reached)
        #expect(abs(plan.estimatedRelativeL2 - 0.03) < 1e-12)
        // a is cheapest first (2e-5 per weight), then b; b alone (500 ≥ 495) suffices, so a goes back to 0.
        let cheapA = [row("a", 0.5, 50, 0.001), row("a", 0.9, 90, 0.5), row("b", 0.5, 500, 0.02), row("b", 0.9, 900, 0.9)]
        let undone = SensitivityReport.plan(layers: layers, rows: cheapA, target: 0.45)
        #expect(undone.choices.map(\.level) == [0, 0.5] && undone.zeros == 500)
    }

    @Test func restoringLeavesEveryConstantAsBefore() throws {
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        let before = try model.graph.constants.map { ($0.name, ObjectIdentifier($0.constant!), try $0.constant!.values()) }
        let samples = try CalibrationSamples.load(path: Fixtures.sample("digits_cnn_k2.inputs.npy"), inputs: model.graph.inputs)
        _ = try SensitivityReport(graph: model.graph, path: "m", input: "x", samples: samples,
                                  options: .init(levels: [0.5, 0.9], selection: PruningOptions(minParams: 0)))
        let after = try model.graph.constants.map { ($0.name, ObjectIdentifier($0.constant!), try $0.constant!.values()) }
        #expect(before.map(\.0) == after.map(\.0))
        #expect(before.map(\.1) == after.map(\.1))  // the very same constant objects
        for (old, new) in zip(before, after) { #expect(old.2 == new.2, "\(old.0)") }
    }

    @Test func selectionOptionsAndErrors() throws {
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        let samples = try CalibrationSamples.load(path: Fixtures.sample("digits_cnn_k2.inputs.npy"), inputs: model.graph.inputs)
        let report = try SensitivityReport(graph: model.graph, path: "m", input: "x", samples: samples,
                                           options: .init(levels: [0.5], selection: PruningOptions(exclude: ["dense"], minParams: 0,
                                                                                                   skipFirstConv: true, skipOutputLayers: true)))
        #expect(report.layers.map(\.name) == ["conv2d_1"])
        #expect(report.text().contains("conv2d_1"))
        #expect(throws: SensitivityError.self) {
            try SensitivityReport(graph: model.graph, path: "m", input: "x", samples: samples,
                                  options: .init(selection: PruningOptions(minParams: 1_000_000)))
        }
        #expect(throws: SensitivityError.self) {
            try SensitivityReport(graph: model.graph, path: "m", input: "x", samples: samples, options: .init(levels: [1.0]))
        }
    }
}
