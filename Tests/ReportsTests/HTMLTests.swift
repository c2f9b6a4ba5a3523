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

/// `inspect --html`: the page has one table row per layer/operator, one graph box per op (plus
/// the graph's inputs and outputs), one arrow per producer → consumer link, no external resource,
/// and every name from the file escaped.
@Suite struct HTMLTests {
    static let tfliteFixture = Fixtures.root.appendingPathComponent("Tests/TFLiteTests/Fixtures/tf_digits_mlp.tflite").path

    /// Occurrences of `needle` in `text`.
    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// Table rows of the layer/operator table (`<tr class="op …">`).
    func opRows(_ page: String) -> Int { count("<tr class=\"op\"", in: page) + count("<tr class=\"op ", in: page) }
    func graphNodes(_ page: String) -> Int { count("<g class=\"node\"", in: page) + count("<g class=\"node ", in: page) }
    func graphEdges(_ page: String) -> Int { count("<path class=\"edge\"", in: page) + count("<path class=\"edge ", in: page) }

    func expectSelfContained(_ page: String) {
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("http://") && !page.contains("https://"), "the page must not reference the network")
        #expect(!page.contains(" src=") && !page.contains("<link"), "no external scripts, images or stylesheets")
        for id in ["summary", "optypes", "sizes", "sparsity", "ops", "graph"] {
            #expect(page.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        #expect(count("<script>", in: page) == 1)
    }

    /// Distinct producer → consumer links of non-constant tensors, graph inputs and outputs included,
    /// derived with `Graph.producer(of:)`.
    func links(_ graph: Graph) -> Int {
        var pairs = Set<[String]>()
        func source(_ tensor: Tensor) -> String? {
            if let producer = graph.producer(of: tensor) { return "op " + producer.name }
            return graph.inputs.contains { $0 === tensor } ? "input " + tensor.name : nil
        }
        for op in graph.ops {
            for input in op.inputs where !input.isConstant { if let from = source(input) { pairs.insert([from, "op " + op.name]) } }
        }
        for (index, output) in graph.outputs.enumerated() { if let from = source(output) { pairs.insert([from, "output \(index)"]) } }
        return pairs.count
    }

    @Test func kerasPage() throws {
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k3.h5"))
        let report = try InspectReport(model: model, countZeros: true)
        let page = HTMLReport.inspect(keras: model, report: report, sparsity: try SparsityReport(model: model, threshold: 1e-3))
        expectSelfContained(page)
        let layers = HTMLReport.flattened(report.layers)
        #expect(layers.count == 9)
        #expect(opRows(page) == layers.count)
        #expect(graphNodes(page) == model.graph.ops.count + model.graph.inputs.count + model.graph.outputs.count)
        #expect(graphEdges(page) == links(model.graph))
        #expect(count("<div class=\"bar-row", in: page) == layers.filter { $0.layer.weightBytes > 0 }.count)
        #expect(count("<div class=\"hist-bin", in: page) == WeightStatistics.histogramLabels.count)
        #expect(page.contains("<table class=\"sortable ops\">"))
        #expect(page.contains("<svg class=\"graph\""))
        #expect(page.contains("38,346"), "parameters with thousands separators")
    }

    @Test func kerasPageWithoutWeights() throws {
        let model = try KerasFile.load(path: Fixtures.sample("multi_io_k3.keras"))
        let page = HTMLReport.inspect(keras: model, report: try InspectReport(model: model, countZeros: false), sparsity: nil)
        expectSelfContained(page)
        #expect(!page.contains("class=\"hist"), "no histogram without the weights")
        #expect(page.contains("--metadata-only"))
        // Nested Sequential `sub` and its layers, the shared layer once.
        #expect(opRows(page) == HTMLReport.flattened(try InspectReport(model: model, countZeros: false).layers).count)
        #expect(graphNodes(page) == model.graph.ops.count + 2 + 2)
        #expect(graphEdges(page) == links(model.graph))
    }

    @Test func tflitePage() throws {
        let file = try TFLiteFile(path: Self.tfliteFixture)
        let page = try HTMLReport.inspect(tflite: file)
        expectSelfContained(page)
        let main = try #require(file.subgraphs.first)
        #expect(opRows(page) == main.operators.count)
        #expect(graphNodes(page) == main.operators.count + main.inputs.count + main.outputs.count)
        // input → FC → FC → SOFTMAX → output.
        #expect(graphEdges(page) == 4)
        #expect(count("<div class=\"bar-row", in: page) == 2)
        #expect(page.contains("2,368"), "MACs with thousands separators")
    }

    @Test func escapeHandlesMarkupAndControlCharacters() {
        #expect(HTML.escape("<a href='x'>&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
        #expect(HTML.escape("tab\tnew\nline\u{0}\u{1B}") == "tab\tnew\nline\u{FFFD}\u{FFFD}")
        #expect(HTML.escape("conv2d/kernel:0 ×2 ≤") == "conv2d/kernel:0 ×2 ≤")
        #expect(HTML.attribute("title", "a\"b") == " title=\"a&quot;b\"")
        #expect(HTML.abbreviate("abcdefghij", to: 5) == "ab…ij")
        #expect(HTML.number(12.5) == "12.5" && HTML.number(3) == "3" && HTML.number(-0.001) == "0")
    }

    @Test func hostileNamesAreEscapedEverywhere() throws {
        let hostile = "<script>alert(\"x\")</script>&'"
        let input = Tensor(name: hostile + "in", shape: [nil, 4])
        let graph = Graph(name: hostile, inputs: [input])
        let op = Op(name: hostile, kind: .relu, inputs: [input], origin: Op.Origin(layer: hostile, className: "<ReLU>"))
        let outputs = try graph.append(op)
        graph.outputs = outputs
        let drawing = HTMLReport.kerasGraph(graph)
        let svg = HTMLGraph(nodes: drawing.nodes, edges: drawing.edges, idPrefix: "x\"><script>").render()
        let table = HTMLTable(columns: [HTMLTable.Column(hostile)], rows: [HTMLTable.Row(cells: [.text(hostile)], classes: ["op"])]).render()
        let bars = HTMLBarChart(id: hostile, bars: [HTMLBarChart.Bar(label: hostile, value: 1, valueText: hostile, tooltip: hostile)]).render()
        let page = HTMLPage(title: hostile, subtitle: hostile, sections: [HTMLPage.Section(id: hostile, title: hostile, body: svg + table + bars, note: hostile)]).render()
        #expect(!page.contains("<script>alert"), "a name must never become markup")
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(count("<script>", in: page) == 1, "only the page's own script")
        #expect(graphNodes(svg) == 3 && graphEdges(svg) == 2)
    }

    /// A ResNet/DenseNet-like graph of 250 boxes: the layout keeps boxes in a rank apart, edges
    /// run downwards from the bottom of their source to the top of their target.
    @Test func layoutOfALargeGraph() {
        var nodes = [HTMLGraph.Node(title: "input", subtitle: "x", tooltip: "", classes: ["io"])]
        var edges: [HTMLGraph.Edge] = []
        for index in 1..<250 {
            nodes.append(HTMLGraph.Node(title: index % 7 == 0 ? "add" : "conv2d", subtitle: "block_\(index / 7)_layer_\(index)", tooltip: ""))
            edges.append(HTMLGraph.Edge(from: index - 1, to: index))
            if index % 7 == 0 { edges.append(HTMLGraph.Edge(from: index - 6, to: index)) }  // residual
            if index % 25 == 0 { edges.append(HTMLGraph.Edge(from: index - 20, to: index)) }  // long skip
            if index % 11 == 0 { edges.append(HTMLGraph.Edge(from: index - 3, to: index)) }
        }
        let start = Date()
        let layout = HTMLGraph.layout(nodes: nodes, edges: edges)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(layout.frames.count == nodes.count && layout.routes.count == edges.count)
        var byRank: [Int: [(x: Double, y: Double, width: Double, height: Double)]] = [:]
        for (index, frame) in layout.frames.enumerated() { byRank[layout.ranks[index], default: []].append(frame) }
        for frames in byRank.values {
            let sorted = frames.sorted { $0.x < $1.x }
            for (left, right) in zip(sorted, sorted.dropFirst()) { #expect(left.x + left.width <= right.x + 0.01, "boxes overlap") }
        }
        for (edge, route) in zip(edges, layout.routes) {
            let source = layout.frames[edge.from], target = layout.frames[edge.to]
            #expect(route.first!.y == source.y + source.height && route.last!.y == target.y)
            #expect(route.first!.x >= source.x && route.first!.x <= source.x + source.width)
            #expect(route.last!.x >= target.x && route.last!.x <= target.x + target.width)
            #expect(zip(route, route.dropFirst()).allSatisfy { $0.y <= $1.y }, "edges run downwards")
            #expect(layout.ranks[edge.from] < layout.ranks[edge.to])
        }
        #expect(layout.frames.allSatisfy { $0.x >= 0 && $0.x + $0.width <= layout.width })
    }

    @Test func backwardEdgesAndEmptyGraphsDoNotCrash() {
        let nodes = (0..<3).map { HTMLGraph.Node(title: "op\($0)", subtitle: "", tooltip: "") }
        let svg = HTMLGraph(nodes: nodes, edges: [HTMLGraph.Edge(from: 2, to: 0), HTMLGraph.Edge(from: 0, to: 1), HTMLGraph.Edge(from: 1, to: 1),
                                                  HTMLGraph.Edge(from: 0, to: 7)]).render()
        #expect(graphNodes(svg) == 3)
        #expect(HTMLGraph(nodes: [], edges: []).render().contains("<svg"))
    }
}
