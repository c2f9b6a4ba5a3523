import GraphIR
import HTML
import Keras
import TFLiteReports

/// The `inspect --html` page of a Keras model, and the Keras sections the diff page reuses.
extension HTMLReport {
    /// The page for a Keras model from reports already computed; `sparsity` nil means the weights
    /// were not read (the section says so).
    public static func inspect(keras model: KerasModel, report: InspectReport, sparsity: SparsityReport?) -> String {
        let layers = flattened(report.layers)
        let graph = kerasGraph(model.graph)
        let page = HTMLPage(
            title: "inspect · " + fileName(report.path),
            subtitle: "\(report.path) — \(report.format), \(report.modelClass) “\(model.name)”",
            sections: [
                HTMLPage.Section(id: "summary", title: "Summary", body: kerasSummary(model: model, report: report, layerCount: layers.count)),
                HTMLPage.Section(id: "optypes", title: "Op types", body: kerasOpTypes(model: model, layers: layers),
                                 note: "Layers by class with their share of the weight bytes; graph ops by kind."),
                HTMLPage.Section(id: "sizes", title: "Sizes", body: kerasSizeChart(layers: layers, total: report.weightBytes),
                                 note: "Weight bytes per layer with weights, as stored in the file."),
                sparsitySection(sparsity, unavailable: "The weights were not read (--metadata-only)."),
                HTMLPage.Section(id: "ops", title: "Layers", body: kerasLayerTable(layers),
                                 note: "\(formatCount(layers.count)) layers as Keras lists them (nested models indented). Click a heading to sort."),
                HTMLPage.Section(id: "graph", title: "Graph", body: graphBody(graph, idPrefix: "graph"),
                                 note: "keraslite's graph IR as loaded (before conversion passes): \(formatCount(model.graph.ops.count)) ops; "
                                     + "each box shows the op kind and the Keras layer. Hover for shapes and details."),
            ])
        return page.render()
    }

    /// Reads `model` for the page: zero counts and the sparsity section unless `countZeros` is false.
    public static func inspect(keras model: KerasModel, countZeros: Bool = true, threshold: Float = defaultThreshold) throws -> String {
        let report = try InspectReport(model: model, countZeros: countZeros)
        let sparsity = countZeros ? try SparsityReport(model: model, threshold: threshold) : nil
        return inspect(keras: model, report: report, sparsity: sparsity)
    }

    // MARK: Keras


    /// The layers depth first, nested models' layers after their container.
    static func flattened(_ layers: [InspectReport.Layer], depth: Int = 0) -> [(layer: InspectReport.Layer, depth: Int)] {
        layers.flatMap { [($0, depth)] + flattened($0.sublayers, depth: depth + 1) }
    }

    static func kerasSummary(model: KerasModel, report: InspectReport, layerCount: Int) -> String {
        let version = report.kerasVersion.map { "Keras \($0)" } ?? "not recorded"
        var facts: [(String, String)] = [
            ("Format", report.format),
            ("Model", report.modelClass),
            ("Written by", version + (report.backend.map { " (\($0))" } ?? "")),
            ("File size", formatBytes(report.sizeBytes)),
            ("Parameters", formatCount(report.params)),
            ("Weights", formatBytes(report.weightBytes)),
            ("Layers", formatCount(layerCount)),
            ("Graph ops", formatCount(report.opCount)),
        ]
        if let zeros = report.zeros, report.params > 0 {
            facts.append(("Exact zeros", formatPercent(Double(zeros) / Double(report.params))))
        }
        if !report.convertible {
            facts.append(("Convertible", "no: " + report.blockers.map { "\($0.layer) (\($0.className))" }.joined(separator: ", ")))
        }
        let tensors = report.inputs.map { ("input", $0.name, $0.dtype, $0.shape?.text ?? "?") }
            + report.outputs.map { ("output", $0.name, $0.dtype, $0.shape?.text ?? "?") }
        return HTMLPage.facts(facts) + tensorTable(tensors)
    }

    static func kerasLayerTable(_ layers: [(layer: InspectReport.Layer, depth: Int)]) -> String {
        let rows = layers.enumerated().map { index, item -> HTMLTable.Row in
            let layer = item.layer
            let indent = item.depth > 0 ? "<span style=\"padding-left:\(item.depth * 16)px\"></span>" : ""
            let shared = layer.calls > 1 ? "<span class=\"tag\" title=\"shared: called \(layer.calls) times\">×\(layer.calls)</span>" : ""
            let category = HTML.category(of: layer.type)
            return HTMLTable.Row(cells: [
                .count(index),
                .markup(indent + HTML.escape(layer.name) + shared, classes: ["name", "mono"]),
                .markup("<span class=\"swatch \(category)\"></span>" + HTML.escape(layer.type), classes: ["nowrap"]),
                .text(layer.outputShapes.map(\.text).joined(separator: " "), classes: ["mono"]),
                .count(layer.params),
                .bytes(layer.weightBytes, blankZero: true),
                .percent(layer.params > 0 ? layer.zeros : nil, of: layer.params),
            ], classes: ["op", "depth-\(item.depth)"] + (layer.sublayers.isEmpty ? [] : ["nested"]),
               attributes: [("data-name", layer.name)])
        }
        return HTMLTable(columns: [HTMLTable.Column("#", numeric: true), HTMLTable.Column("layer"), HTMLTable.Column("class"),
                                   HTMLTable.Column("output shape"), HTMLTable.Column("params", numeric: true),
                                   HTMLTable.Column("weights", numeric: true), HTMLTable.Column("zeros", numeric: true, tooltip: "exact zeros among the weights")],
                         rows: rows, classes: ["ops"]).render()
    }

    static func kerasSizeChart(layers: [(layer: InspectReport.Layer, depth: Int)], total: Int, id: String = "size-bars") -> String {
        let bars = layers.filter { $0.layer.sublayers.isEmpty && $0.layer.weightBytes > 0 }.map { item in
            let layer = item.layer
            let share = total > 0 ? ", " + formatPercent(Double(layer.weightBytes) / Double(total)) + " of the weights" : ""
            return HTMLBarChart.Bar(label: layer.name, value: Double(layer.weightBytes), valueText: formatBytes(layer.weightBytes),
                                    tooltip: "\(layer.name) (\(layer.type)): \(formatCount(layer.params)) params, \(formatBytes(layer.weightBytes))\(share)",
                                    classes: [HTML.category(of: layer.type)])
        }
        return HTMLBarChart(id: id, bars: bars, emptyText: "No layer has weights.").render()
    }

    static func kerasOpTypes(model: KerasModel, layers: [(layer: InspectReport.Layer, depth: Int)]) -> String {
        var byClass: [String: (count: Int, params: Int, bytes: Int)] = [:]
        for item in layers where item.layer.sublayers.isEmpty {
            byClass[item.layer.type, default: (0, 0, 0)].count += 1
            byClass[item.layer.type, default: (0, 0, 0)].params += item.layer.params
            byClass[item.layer.type, default: (0, 0, 0)].bytes += item.layer.weightBytes
        }
        let totalBytes = byClass.values.reduce(0) { $0 + $1.bytes }
        let classRows = byClass.sorted { ($0.value.bytes, $0.value.count, $1.key) > ($1.value.bytes, $1.value.count, $0.key) }.map { name, value in
            HTMLTable.Row(cells: [
                .markup("<span class=\"swatch\"></span>" + HTML.escape(name)),
                .count(value.count), .count(value.params), .bytes(value.bytes, blankZero: true),
                .share(totalBytes > 0 ? Double(value.bytes) / Double(totalBytes) : 0),
            ], classes: ["optype", HTML.category(of: name)])
        }
        var byKind: [String: Int] = [:]
        for op in model.graph.ops { byKind[op.kind.rawValue, default: 0] += 1 }
        let kindRows = byKind.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { kind, count in
            HTMLTable.Row(cells: [.markup("<span class=\"swatch\"></span>" + HTML.escape(kind), classes: ["mono"]), .count(count)],
                          classes: ["opkind", HTML.category(of: kind)])
        }
        return "<div class=\"side-by-side\"><div><h3>Layers by class</h3>\n"
            + HTMLTable(columns: [HTMLTable.Column("class"), HTMLTable.Column("layers", numeric: true), HTMLTable.Column("params", numeric: true),
                                  HTMLTable.Column("weights", numeric: true), HTMLTable.Column("share of weights", numeric: true)],
                        rows: classRows, classes: ["optypes"], scrolls: classRows.count > 16).render()
            + "</div><div><h3>Graph ops by kind</h3>\n"
            + HTMLTable(columns: [HTMLTable.Column("op kind"), HTMLTable.Column("ops", numeric: true)],
                        rows: kindRows, classes: ["opkinds"], scrolls: kindRows.count > 16).render()
            + "</div></div>\n"
    }

    /// The IR graph as drawing input: one node per graph input, op and output (in that order);
    /// one edge per distinct producer → consumer pair of a non-constant tensor.
    static func kerasGraph(_ graph: Graph) -> (nodes: [HTMLGraph.Node], edges: [HTMLGraph.Edge]) {
        func tensorText(_ tensor: Tensor) -> String { "\(tensor.name): \(tensor.dtype.shortName)\(tensor.shape.text)" }
        var nodes: [HTMLGraph.Node] = []
        var source: [ObjectIdentifier: Int] = [:]  // tensor → node producing it
        for input in graph.inputs {
            source[ObjectIdentifier(input)] = source[ObjectIdentifier(input)] ?? nodes.count
            nodes.append(HTMLGraph.Node(title: "input", subtitle: input.name, tooltip: "input " + tensorText(input),
                                        classes: ["io", "input", "cat-io"]))
        }
        var edges: [HTMLGraph.Edge] = []
        var seen = Set<[Int]>()
        func connect(_ tensor: Tensor, to target: Int) {
            guard let from = source[ObjectIdentifier(tensor)], seen.insert([from, target]).inserted else { return }
            edges.append(HTMLGraph.Edge(from: from, to: target, tooltip: tensorText(tensor)))
        }
        for op in graph.ops {
            let node = nodes.count
            var title = op.kind.rawValue
            if op.kind == .activation, let function = op.attributes["function"] { title += " · \(function)" }
            var tooltip = ["\(op.name) = \(op.kind.rawValue)"]
            if let origin = op.origin { tooltip.append("layer \(origin.layer) (\(origin.className))") }
            for name in op.attributes.sortedNames { tooltip.append("  \(name) = \(op.attributes[name]!)") }
            for input in op.inputs where input.isConstant { tooltip.append("weight " + tensorText(input)) }
            for output in op.outputs { tooltip.append("→ " + tensorText(output)) }
            nodes.append(HTMLGraph.Node(title: title, subtitle: op.origin?.layer ?? op.name, tooltip: tooltip.joined(separator: "\n"),
                                        classes: [HTML.category(of: op.kind.rawValue)]))
            for input in op.inputs where !input.isConstant { connect(input, to: node) }
            for output in op.outputs { source[ObjectIdentifier(output)] = source[ObjectIdentifier(output)] ?? node }
        }
        let names = graph.modelOutputNames
        for (index, output) in graph.outputs.enumerated() {
            let node = nodes.count
            let name = index < names.count ? names[index] : output.name
            nodes.append(HTMLGraph.Node(title: "output", subtitle: name, tooltip: "output \(name): " + tensorText(output),
                                        classes: ["io", "output", "cat-io"]))
            connect(output, to: node)
        }
        return (nodes, edges)
    }
}
