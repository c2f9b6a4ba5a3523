import HTML
import TFLite

extension HTMLReport {
    /// The page for a `.tflite` file (its first subgraph); `sparsity` nil leaves the sparsity
    /// section empty.
    public static func inspect(tflite report: TFLiteInspectReport, sparsity: SparsityReport?) -> String {
        let file = report.file
        var sections = [HTMLPage.Section(id: "summary", title: "Summary", body: tfliteSummary(report))]
        let warnings = report.warnings
        if !warnings.isEmpty {
            sections.append(HTMLPage.Section(id: "warnings", title: "Warnings", body: HTMLPage.warnings(warnings)))
        }
        guard let main = file.subgraphs.first else {
            sections.append(HTMLPage.Section(id: "ops", title: "Operators", body: "", note: "The file has no subgraph."))
            return HTMLPage(title: "inspect · " + fileName(file.path), subtitle: file.path, sections: sections).render()
        }
        let zeros = tensorZeros(sparsity)
        let more = file.subgraphs.count > 1 ? " The file has \(file.subgraphs.count) subgraphs; the first is shown." : ""
        sections += [
            HTMLPage.Section(id: "optypes", title: "Op types", body: tfliteOpTypes(report, main),
                             note: "Operators by builtin with their weights and multiply-accumulates; weights by dtype."),
            HTMLPage.Section(id: "sizes", title: "Sizes", body: tfliteSizeChart(report, main),
                             note: "Bytes of the constant tensors each operator reads (a shared constant counts for each reader)."),
            sparsitySection(sparsity, unavailable: "The weights were not read."),
            HTMLPage.Section(id: "ops", title: "Operators", body: tfliteOperatorTable(report, main, zeros: zeros),
                             note: "\(formatCount(main.operators.count)) operators in execution order.\(more) Click a heading to sort."),
            HTMLPage.Section(id: "graph", title: "Graph", body: graphBody(tfliteGraph(main), idPrefix: "graph"),
                             note: "Operators with the tensors between them (constants left out). Hover for tensors and options."),
        ]
        return HTMLPage(title: "inspect · " + fileName(file.path),
                        subtitle: "\(file.path) — tflite (schema \(file.version))", sections: sections).render()
    }

    /// Reads `file` for the page, the sparsity section included.
    public static func inspect(tflite file: TFLiteFile, threshold: Float = defaultThreshold) throws -> String {
        inspect(tflite: TFLiteInspectReport(file: file), sparsity: try SparsityReport(tflite: file, threshold: threshold))
    }

    // MARK: TFLite sections

    /// Exact zeros and element counts per weight tensor name (the first of equal names).
    package static func tensorZeros(_ sparsity: SparsityReport?) -> [String: (zeros: Int, total: Int)] {
        var result: [String: (zeros: Int, total: Int)] = [:]
        for tensor in sparsity?.tensors ?? [] where result[tensor.name] == nil { result[tensor.name] = (tensor.zeros, tensor.total) }
        return result
    }

    package static func tensorText(_ tensor: TFLiteFile.TensorInfo) -> String {
        "\(tensor.name): \(tensor.type)[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
    }

    /// The part of a TensorFlow tensor name before the first `;` (the converter joins fused names).
    package static func shortTensorName(_ name: String) -> String {
        name.split(separator: ";", maxSplits: 1).first.map(String.init) ?? name
    }

    package static func tensor(_ index: Int, in subgraph: TFLiteFile.SubgraphInfo) -> TFLiteFile.TensorInfo? {
        subgraph.tensors.indices.contains(index) ? subgraph.tensors[index] : nil
    }

    /// Constant inputs of `op` (weights, biases, shape constants), each once.
    package static func constantInputs(_ op: TFLiteFile.OperatorInfo, in subgraph: TFLiteFile.SubgraphInfo) -> [TFLiteFile.TensorInfo] {
        var seen = Set<Int>()
        return op.inputs.compactMap { tensor($0, in: subgraph) }.filter { $0.isConstant && seen.insert($0.index).inserted }
    }

    package static func isWeight(_ tensor: TFLiteFile.TensorInfo) -> Bool {
        tensor.isConstant && (tensor.quantization != nil || !["int32", "int64"].contains(tensor.type))
    }

    package static func tfliteSummary(_ report: TFLiteInspectReport) -> String {
        let file = report.file
        let metadataBytes = file.metadata.reduce(0) { $0 + $1.bytes }
        var facts: [(String, String)] = [
            ("Format", "tflite (schema \(file.version))"),
            ("Written by", file.description ?? "not recorded"),
            ("File size", formatBytes(file.sizeBytes)),
            ("Min. runtime", file.minRuntimeVersion ?? "not recorded"),
            ("Parameters", formatCount(report.params)),
            ("Weights", formatBytes(max(0, file.bufferBytes - metadataBytes))),
            ("Graph", formatBytes(max(0, file.sizeBytes - file.bufferBytes))),
            ("Metadata", formatBytes(metadataBytes)),
        ]
        var rows: [(role: String, name: String, dtype: String, shape: String)] = []
        if let main = file.subgraphs.first {
            facts.append(("Operators", formatCount(main.operators.count)))
            facts.append(("MACs", formatCount(main.operators.compactMap { report.macs($0, in: main) }.reduce(0, saturatingAdd))))
            facts.append(("Peak activations", "≈ " + formatBytes(report.peakActivationBytes(main))))
            func shape(_ tensor: TFLiteFile.TensorInfo) -> String {
                "[" + (tensor.shapeSignature ?? tensor.shape).map { $0 < 0 ? "?" : String($0) }.joined(separator: ",") + "]"
            }
            rows = main.inputs.compactMap { tensor($0, in: main) }.map { ("input", $0.name, $0.type, shape($0)) }
                + main.outputs.compactMap { tensor($0, in: main) }.map { ("output", $0.name, $0.type, shape($0)) }
        }
        if file.subgraphs.count > 1 { facts.append(("Subgraphs", formatCount(file.subgraphs.count))) }
        for signature in file.signatures {
            facts.append(("Signature " + signature.key, "(" + signature.inputs.map(\.name).joined(separator: ", ") + ") → ("
                          + signature.outputs.map(\.name).joined(separator: ", ") + ")"))
        }
        return HTMLPage.facts(facts) + tensorTable(rows)
    }

    package static func tfliteOperatorTable(_ report: TFLiteInspectReport, _ main: TFLiteFile.SubgraphInfo,
                                    zeros: [String: (zeros: Int, total: Int)]) -> String {
        let rows = main.operators.map { op -> HTMLTable.Row in
            let constants = constantInputs(op, in: main)
            let weights = constants.filter(isWeight)
            let params = weights.reduce(0) { saturatingAdd($0, $1.elementCount) }
            let counted = weights.compactMap { zeros[$0.name] }
            let options = op.options.filter { !($0.0 == "activation" && $0.1 == "NONE") }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            let output = op.outputs.first.flatMap { tensor($0, in: main) }
            let outputText = output.map { "\($0.name) \($0.type)[" + $0.shape.map(String.init).joined(separator: ",") + "]" } ?? "–"
            let category = HTML.category(of: op.name)
            return HTMLTable.Row(cells: [
                .count(op.index),
                .markup("<span class=\"swatch \(category)\"></span>" + HTML.escape(op.name)
                        + (op.version > 1 ? "<span class=\"tag\">v\(op.version)</span>" : ""), classes: ["mono", "nowrap"]),
                .text(options, classes: ["mono", "dim"]),
                .text(outputText, classes: ["name", "mono"]),
                .count(params),
                .bytes(constants.reduce(0) { saturatingAdd($0, $1.dataBytes) }, blankZero: true),
                .optionalCount(report.macs(op, in: main)),
                .percent(counted.isEmpty ? nil : counted.reduce(0) { saturatingAdd($0, $1.zeros) }, of: counted.reduce(0) { saturatingAdd($0, $1.total) }),
            ], classes: ["op"] + (op.isCustom ? ["custom"] : []), attributes: [("data-name", op.name)])
        }
        return HTMLTable(columns: [HTMLTable.Column("#", numeric: true), HTMLTable.Column("op"), HTMLTable.Column("options"),
                                   HTMLTable.Column("output"), HTMLTable.Column("params", numeric: true),
                                   HTMLTable.Column("weights", numeric: true, tooltip: "bytes of the constant inputs"),
                                   HTMLTable.Column("MACs", numeric: true, tooltip: "multiply-accumulates"),
                                   HTMLTable.Column("zeros", numeric: true, tooltip: "exact zeros among the weights")],
                         rows: rows, classes: ["ops"]).render()
    }

    package static func tfliteSizeChart(_ report: TFLiteInspectReport, _ main: TFLiteFile.SubgraphInfo, id: String = "size-bars") -> String {
        let total = main.tensors.filter(\.isConstant).reduce(0) { $0 + $1.dataBytes }
        let bars = main.operators.compactMap { op -> HTMLBarChart.Bar? in
            let bytes = constantInputs(op, in: main).reduce(0) { $0 + $1.dataBytes }
            guard bytes > 0 else { return nil }
            let name = op.outputs.first.flatMap { tensor($0, in: main) }.map { shortTensorName($0.name) } ?? ""
            let share = total > 0 ? ", " + formatPercent(Double(bytes) / Double(total)) + " of the constants" : ""
            return HTMLBarChart.Bar(label: "\(op.index) \(op.name) \(name)", value: Double(bytes), valueText: formatBytes(bytes),
                                    tooltip: "#\(op.index) \(op.name) → \(name): \(formatBytes(bytes))\(share)",
                                    classes: [HTML.category(of: op.name)])
        }
        return HTMLBarChart(id: id, bars: bars, emptyText: "No operator reads constant tensors.").render()
    }

    package static func tfliteOpTypes(_ report: TFLiteInspectReport, _ main: TFLiteFile.SubgraphInfo) -> String {
        var byOp: [String: (count: Int, params: Int, bytes: Int, macs: Int)] = [:]
        for op in main.operators {
            let constants = constantInputs(op, in: main)
            byOp[op.name, default: (0, 0, 0, 0)].count += 1
            byOp[op.name, default: (0, 0, 0, 0)].params = saturatingAdd(byOp[op.name]!.params, constants.filter(isWeight).reduce(0) { saturatingAdd($0, $1.elementCount) })
            byOp[op.name, default: (0, 0, 0, 0)].bytes = saturatingAdd(byOp[op.name]!.bytes, constants.reduce(0) { saturatingAdd($0, $1.dataBytes) })
            byOp[op.name, default: (0, 0, 0, 0)].macs = saturatingAdd(byOp[op.name]!.macs, report.macs(op, in: main) ?? 0)
        }
        let totalBytes = byOp.values.reduce(0) { saturatingAdd($0, $1.bytes) }
        let opRows = byOp.sorted { ($0.value.bytes, $0.value.count, $1.key) > ($1.value.bytes, $1.value.count, $0.key) }.map { name, value in
            HTMLTable.Row(cells: [
                .markup("<span class=\"swatch\"></span>" + HTML.escape(name), classes: ["mono"]),
                .count(value.count), .count(value.params), .bytes(value.bytes, blankZero: true),
                .share(totalBytes > 0 ? Double(value.bytes) / Double(totalBytes) : 0),
                value.macs > 0 ? .count(value.macs) : .optionalCount(nil),
            ], classes: ["optype", HTML.category(of: name)])
        }
        var byType: [String: (count: Int, bytes: Int)] = [:]
        for tensor in main.tensors where isWeight(tensor) {
            byType[tensor.type, default: (0, 0)].count = saturatingAdd(byType[tensor.type, default: (0, 0)].count, tensor.elementCount)
            byType[tensor.type, default: (0, 0)].bytes = saturatingAdd(byType[tensor.type, default: (0, 0)].bytes, tensor.dataBytes)
        }
        let typeRows = byType.sorted { ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key) }.map { type, value in
            HTMLTable.Row(cells: [.text(type, classes: ["mono"]), .count(value.count), .bytes(value.bytes)], classes: ["dtype"])
        }
        return "<div class=\"side-by-side\" style=\"grid-template-columns:2fr 1fr\"><div><h3>Operators by builtin</h3>\n"
            + HTMLTable(columns: [HTMLTable.Column("op"), HTMLTable.Column("ops", numeric: true), HTMLTable.Column("params", numeric: true),
                                  HTMLTable.Column("weights", numeric: true), HTMLTable.Column("share of weights", numeric: true),
                                  HTMLTable.Column("MACs", numeric: true)],
                        rows: opRows, classes: ["optypes"], scrolls: opRows.count > 16).render()
            + "</div><div><h3>Weights by dtype</h3>\n"
            + HTMLTable(columns: [HTMLTable.Column("dtype"), HTMLTable.Column("params", numeric: true), HTMLTable.Column("bytes", numeric: true)],
                        rows: typeRows, classes: ["dtypes"], scrolls: false).render()
            + "</div></div>\n"
    }

    /// Subgraph operators as drawing input: one node per graph input, operator and output; one
    /// edge per distinct producer → consumer pair of a non-constant tensor.
    package static func tfliteGraph(_ main: TFLiteFile.SubgraphInfo) -> (nodes: [HTMLGraph.Node], edges: [HTMLGraph.Edge]) {
        var nodes: [HTMLGraph.Node] = []
        var source: [Int: Int] = [:]  // tensor index → node producing it
        for index in main.inputs {
            guard let input = tensor(index, in: main) else { continue }
            source[index] = source[index] ?? nodes.count
            nodes.append(HTMLGraph.Node(title: "input", subtitle: input.name, tooltip: "input " + tensorText(input),
                                        classes: ["io", "input", "cat-io"]))
        }
        let firstOperator = nodes.count
        for (position, op) in main.operators.enumerated() {
            for index in op.outputs where index >= 0 && source[index] == nil { source[index] = firstOperator + position }
        }
        var edges: [HTMLGraph.Edge] = []
        var seen = Set<[Int]>()
        func connect(_ index: Int, to target: Int) {
            guard let input = tensor(index, in: main), !input.isConstant, let from = source[index], from != target,
                  seen.insert([from, target]).inserted else { return }
            edges.append(HTMLGraph.Edge(from: from, to: target, tooltip: tensorText(input)))
        }
        for op in main.operators {
            let node = nodes.count
            var tooltip = ["#\(op.index) \(op.name)" + (op.version > 1 ? " v\(op.version)" : "") + (op.isCustom ? " (custom)" : "")]
            for (name, value) in op.options where !(name == "activation" && value == "NONE") { tooltip.append("  \(name) = \(value)") }
            for index in op.inputs {
                guard let input = tensor(index, in: main) else { continue }
                tooltip.append((input.isConstant ? "const " : "in ") + tensorText(input))
            }
            for index in op.outputs { if let output = tensor(index, in: main) { tooltip.append("→ " + tensorText(output)) } }
            let name = op.outputs.first.flatMap { tensor($0, in: main) }.map { shortTensorName($0.name) } ?? ""
            nodes.append(HTMLGraph.Node(title: op.name, subtitle: name, tooltip: tooltip.joined(separator: "\n"),
                                        classes: [HTML.category(of: op.name)]))
            for index in op.inputs { connect(index, to: node) }
        }
        for index in main.outputs {
            guard let output = tensor(index, in: main) else { continue }
            let node = nodes.count
            nodes.append(HTMLGraph.Node(title: "output", subtitle: output.name, tooltip: "output " + tensorText(output),
                                        classes: ["io", "output", "cat-io"]))
            connect(index, to: node)
        }
        return (nodes, edges)
    }
}
