import Foundation
import JSON
import Keras
import TestSupport
import Testing
@testable import Analysis
@testable import Diff
@testable import HTML
@testable import Reports
@testable import TFLiteReports

/// `diff --html`: one structure row per aligned op classed by its kind, one weight row per paired
/// weight, both graphs with one box per op (plus the input and output pills) and the alignment's
/// highlights, no external resource, every name escaped.
@Suite struct HTMLDiffTests {
    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The class lists of every `<tag class="…">` whose classes include `cls`, in page order.
    func classLists(_ page: String, tag: String, having cls: String) -> [Set<String>] {
        page.components(separatedBy: "<\(tag) class=\"").dropFirst().compactMap { rest in
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            let classes = Set(rest[..<end].split(separator: " ").map(String.init))
            return classes.contains(cls) ? classes : nil
        }
    }

    /// The A and B graphs' markup.
    func graphs(_ page: String) throws -> (a: String, b: String) {
        let section = try #require(page.components(separatedBy: "<section id=\"graph\">").last)
        let parts = section.components(separatedBy: "<div class=\"side side-b graph-b\">")
        try #require(parts.count == 2)
        return (parts[0], parts[1])
    }

    func expectSelfContained(_ page: String) {
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("http://") && !page.contains("https://"), "the page must not reference the network")
        #expect(!page.contains(" src=") && !page.contains("<link"), "no external scripts, images or stylesheets")
        for id in ["summary", "structure", "weights", "sizes", "sparsity", "optypes", "graph"] {
            #expect(page.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        #expect(count("<script>", in: page) == 1)
        #expect(count("<style>", in: page) == 1 && page.contains(".verdict.equal{"), "the diff styles are in the page's one stylesheet")
        #expect(page.contains("sync-pair") && page.contains("document.documentElement.classList.add(\"js\")"))
    }

    /// Checks the page against the diff; `inputs`/`outputs` are the pills each graph has.
    func check(_ diff: ModelDiff, inputs: (Int, Int), outputs: (Int, Int)) throws -> String {
        let page = HTMLReport.diff(diff)
        expectSelfContained(page)
        let kinds: Set<String> = ["same", "changed", "added", "removed"]
        let ops = classLists(page, tag: "tr", having: "op")
        #expect(ops.count == diff.rows.count)
        for (row, classes) in zip(diff.rows, ops) {
            #expect(classes.intersection(kinds) == [row.kind.rawValue], "row \(row.a?.name ?? row.b?.name ?? "")")
        }
        let weights = classLists(page, tag: "tr", having: "weight")
        #expect(weights.count == diff.weights.count)
        for (weight, classes) in zip(diff.weights, weights) {
            #expect(classes.contains(weight.withinTolerance ? "same" : "changed"), "\(weight.nameA)")
        }
        let unmatched = classLists(page, tag: "tr", having: "unmatched")
        #expect(unmatched.filter { $0.contains("removed") }.count == diff.unmatchedWeightsA.count)
        #expect(unmatched.filter { $0.contains("added") }.count == diff.unmatchedWeightsB.count)

        let (graphA, graphB) = try graphs(page)
        let nodesA = classLists(graphA, tag: "g", having: "node"), nodesB = classLists(graphB, tag: "g", having: "node")
        #expect(nodesA.filter { !$0.contains("io") }.count == diff.a.ops)
        #expect(nodesB.filter { !$0.contains("io") }.count == diff.b.ops)
        #expect(nodesA.filter { $0.contains("input") }.count == inputs.0 && nodesB.filter { $0.contains("input") }.count == inputs.1)
        #expect(nodesA.filter { $0.contains("output") }.count == outputs.0 && nodesB.filter { $0.contains("output") }.count == outputs.1)
        #expect(nodesA.filter { $0.contains("removed") }.count == diff.removed.count)
        #expect(nodesB.filter { $0.contains("added") }.count == diff.added.count)
        #expect(nodesA.filter { $0.contains("added") }.isEmpty && nodesB.filter { $0.contains("removed") }.isEmpty)
        #expect(nodesA.filter { $0.contains("changed") }.count == diff.changed.count)
        #expect(nodesB.filter { $0.contains("changed") }.count == diff.changed.count)
        #expect(count("<svg class=\"graph\"", in: page) == 2)
        #expect(graphA.contains("id=\"graph-a-arrow") && graphB.contains("id=\"graph-b-arrow"), "arrowhead ids unique per graph")

        // The size charts: one aligned row per op that reads weights on either side, in both.
        let barsA = count("<div class=\"bar-row", in: page.components(separatedBy: "id=\"size-bars-b\"")[0])
        let barsB = count("<div class=\"bar-row", in: page.components(separatedBy: "id=\"size-bars-b\"").last!)
        #expect(barsA == barsB && barsA > 0)
        #expect(count("<div class=\"hist-bin", in: page) == 2 * WeightStatistics.histogramLabels.count)
        #expect(page.contains("<p class=\"verdict \(diff.equal ? "equal" : "different")\">"))
        return page
    }

    @Test func sameStructureDifferentWeights() throws {
        let diff = try ModelDiff(pathA: Fixtures.sample("digits_cnn_k2.h5"), pathB: Fixtures.sample("digits_cnn_k3.h5"))
        let page = try check(diff, inputs: (1, 1), outputs: (1, 1))
        #expect(classLists(page, tag: "tr", having: "op").allSatisfy { $0.contains("same") })
        #expect(classLists(page, tag: "tr", having: "weight").allSatisfy { $0.contains("changed") })
        // Ops whose weights differ are marked in the table (kept by the "only differences" switch) and the graphs.
        let withWeights = diff.rows.filter { row in
            HTMLReport.DiffContext.weights(of: diff.viewA.nodes[row.a!.index]).isEmpty == false
        }.count
        #expect(classLists(page, tag: "tr", having: "wdiff").count == withWeights)
        let (graphA, graphB) = try graphs(page)
        #expect(classLists(graphA, tag: "g", having: "wdiff").count == withWeights)
        #expect(classLists(graphB, tag: "g", having: "wdiff").count == withWeights)
        #expect(page.contains("id=\"structure-only-diff\"") && page.contains("id=\"weights-only-diff\""))
    }

    @Test func differentArchitectures() throws {
        let diff = try ModelDiff(pathA: Fixtures.sample("digits_mlp_k2.h5"), pathB: Fixtures.sample("digits_cnn_k3.h5"))
        #expect(!diff.added.isEmpty && !diff.unmatchedWeightsB.isEmpty)
        let page = try check(diff, inputs: (1, 1), outputs: (1, 1))
        #expect(page.contains("<span class=\"count-added\">\(diff.added.count)</span>"))
        // Arrows into added boxes are drawn as added.
        let (_, graphB) = try graphs(page)
        #expect(count("<path class=\"edge added\"", in: graphB) >= diff.added.count)
    }

    @Test func kerasFileAndItsConversionAreEqual() throws {
        let tflite = try ModelDiffTests.converted("small_resnet_k3.keras")
        defer { try? FileManager.default.removeItem(atPath: tflite) }
        let diff = try ModelDiff(pathA: Fixtures.sample("small_resnet_k3.keras"), pathB: tflite)
        #expect(diff.equal)
        let page = try check(diff, inputs: (1, 1), outputs: (1, 1))
        #expect(classLists(page, tag: "tr", having: "op").allSatisfy { $0.contains("same") && !$0.contains("wdiff") })
        #expect(classLists(page, tag: "g", having: "node").allSatisfy { $0.isDisjoint(with: ["changed", "added", "removed", "wdiff"]) })
    }

    @Test func hostileNamesAreEscaped() throws {
        let hostile = "<script>alert(\"x\")</script>&'"
        func view(_ ops: Int, weightValue: Float) -> DiffView {
            var view = DiffView(path: hostile + ".tflite", format: hostile, level: .tflite, sizeBytes: 10, fileParams: 4)
            view.notes = [hostile]
            view.weights = [DiffView.Weight(name: hostile + "w", shape: [4], dtype: "float32", quantization: nil, count: 4,
                                            values: { [0, 1, 2, weightValue] })]
            var previous = DiffView.TensorRef(name: hostile + "input", shape: "[1,4]", dtype: "float32")
            for index in 0..<ops {
                let output = DiffView.TensorRef(name: hostile + "\(index)", shape: "[1,4]", dtype: "float32")
                let weight = DiffView.TensorRef(name: hostile + "w", shape: "[4]", dtype: "float32", quantization: hostile, weight: 0)
                view.nodes.append(DiffView.Node(name: hostile + "\(index)", type: hostile, attributes: [hostile: hostile],
                                                inputs: [previous, index == 0 ? weight : nil], outputs: [output]))
                previous = output
            }
            return view
        }
        let diff = try ModelDiff(view(2, weightValue: 3), view(3, weightValue: 4), tolerance: 0)
        #expect(diff.added.count == 1)
        let page = try check(diff, inputs: (1, 1), outputs: (1, 1))
        #expect(!page.contains("<script>alert"), "a name must never become markup")
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
    }

    @Test func commonScopeIsTheModelsTopLevelName() {
        typealias Context = HTMLReport.DiffContext
        #expect(Context.commonScope(["m/a/Relu;m/a/BiasAdd", "m/b/Conv2D", "m/c", "StatefulPartitionedCall:0"]) == "m/")
        #expect(Context.commonScope(["conv2d", "dense", "dense_1"]) == "")
        #expect(Context.commonScope(["m/a", "m/b"]) == "", "two names are too few to tell")
        #expect(Context.commonScope(["m/a", "n/b", "o/c", "m/d"]) == "", "fewer than three quarters")
        #expect(Context.commonScope(["m/", "m/", "m/"]) == "", "a scope must leave a name")
    }

    @Test func storedBytesFollowTheDtype() {
        func weight(_ dtype: String, _ count: Int) -> DiffView.Weight {
            DiffView.Weight(name: "w", shape: [count], dtype: dtype, quantization: nil, count: count, values: { [] })
        }
        #expect(HTMLReport.storedBytes(weight("float32", 10)) == 40)
        #expect(HTMLReport.storedBytes(weight("int8", 10)) == 10)
        #expect(HTMLReport.storedBytes(weight("float16", 10)) == 20)
        #expect(HTMLReport.storedBytes(weight("int64", 3)) == 24)
        #expect(HTMLReport.storedBytes(weight("int4", 5)) == 3)
    }

    @Test func sparsityCountsMatchWeightStatistics() {
        var values: [Float] = [0, -0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, .nan, .infinity, -.infinity,
                               .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        values += WeightStatistics.histogramEdges.flatMap { [$0.nextDown, $0.nextUp, -$0] }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let exponent = Float.random(in: -12...3, using: &generator)
            values.append(Float(pow(10, Double(exponent))) * (Bool.random(using: &generator) ? 1 : -1))
        }
        var stats = HTMLReport.SideSparsity()
        stats.add(values, threshold: 1e-3)
        var expected = [Int]()
        WeightStatistics.accumulateHistogram(values, into: &expected)
        #expect(stats.histogram == expected)
        #expect(stats.zeros == WeightStatistics.countZeros(values))
        #expect(stats.nearZero == WeightStatistics.countNearZero(values, threshold: 1e-3))
        #expect(stats.total == values.count)
    }
}
