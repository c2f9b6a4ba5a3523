import HTML
import TFLite

/// `keraslite inspect --html`: one self-contained HTML page per model — summary, op-type
/// breakdown, per-layer size bars, sparsity histogram, the layer (or operator) table and the graph
/// drawn as boxes and arrows.
///
/// Sections carry stable ids (`summary`, `warnings`, `optypes`, `sizes`, `sparsity`, `ops`,
/// `graph`); the table has one `<tr class="op">` per layer (nested layers included) or operator,
/// the graph one `<g class="node">` per op plus one per graph input and output. The section
/// builders below are what the diff page reuses.
public enum HTMLReport {
    /// The near-zero threshold of the sparsity section, as `keraslite sparsity`'s default.
    public static let defaultThreshold: Float = 1e-3

    // MARK: Shared section builders

    package static func fileName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// The sparsity section: totals, the log-decade magnitude histogram (exact zeros and bins at or
    /// below the threshold coloured), the compression estimate and the per-tensor table.
    package static func sparsitySection(_ sparsity: SparsityReport?, unavailable: String, id: String = "sparsity") -> HTMLPage.Section {
        guard let sparsity else { return HTMLPage.Section(id: id, title: "Sparsity", body: "", note: unavailable) }
        let threshold = "\(sparsity.threshold)"
        func share(_ part: Int) -> String { sparsity.total > 0 ? " (" + formatPercent(Double(part) / Double(sparsity.total)) + ")" : "" }
        let saving = sparsity.compressedBytes > 0 ? 1 - Double(sparsity.compressedBytesPruned) / Double(sparsity.compressedBytes) : 0
        var body = HTMLPage.facts([
            ("Weight values", formatCount(sparsity.total)),
            ("Weight tensors", formatCount(sparsity.tensors.count)),
            ("Exact zeros", formatCount(sparsity.zeros) + share(sparsity.zeros)),
            ("|w| ≤ \(threshold)", formatCount(sparsity.nearZero) + share(sparsity.nearZero)),
            ("zlib, as stored", formatBytes(sparsity.compressedBytes) + " of " + formatBytes(sparsity.storedBytes)),
            ("zlib, |w| ≤ \(threshold) zeroed", formatBytes(sparsity.compressedBytesPruned) + " (−" + formatPercent(saving) + ")"),
        ])
        body += "<h3>Magnitude histogram (|w|, log-decade bins)</h3>\n"
        body += "<div class=\"legend\"><span class=\"hist-key zero\"><i style=\"background:var(--removed)\"></i>exact zero</span>"
            + "<span><i style=\"background:var(--changed)\"></i>|w| ≤ \(HTML.escape(threshold))</span>"
            + "<span><i style=\"background:var(--accent)\"></i>larger</span></div>\n"
        body += histogram(sparsity).render()
        body += "<details class=\"tensors\"><summary>Weight tensors (\(formatCount(sparsity.tensors.count)))</summary>\n"
        let rows = sparsity.tensors.map { tensor in
            HTMLTable.Row(cells: [
                .text(tensor.name, classes: ["name", "mono"]),
                .text("[" + tensor.shape.map(String.init).joined(separator: ",") + "]", classes: ["mono"]),
                .count(tensor.total),
                .percent(tensor.zeros, of: tensor.total),
                .percent(tensor.nearZero, of: tensor.total),
            ], classes: ["tensor"])
        }
        body += HTMLTable(columns: [HTMLTable.Column("tensor"), HTMLTable.Column("shape"), HTMLTable.Column("elements", numeric: true),
                                    HTMLTable.Column("zeros", numeric: true), HTMLTable.Column("|w| ≤ \(threshold)", numeric: true)],
                          rows: rows, classes: ["tensors"]).render()
        body += "</details>\n"
        return HTMLPage.Section(id: id, title: "Sparsity", body: body,
                                note: "Every stored weight value, biases and normalization statistics included.")
    }

    /// The histogram of a sparsity report: bin 0 is exact zeros (`zero`), bins whose upper edge is
    /// at most the threshold are `near`.
    package static func histogram(_ sparsity: SparsityReport) -> HTMLHistogram {
        let bins = zip(WeightStatistics.histogramLabels, sparsity.histogram).enumerated().map { index, pair in
            var classes: [String] = []
            if index == 0 {
                classes = ["zero"]
            } else if index - 1 < WeightStatistics.histogramEdges.count, WeightStatistics.histogramEdges[index - 1] <= sparsity.threshold {
                classes = ["near"]
            }
            return HTMLHistogram.Bin(label: pair.0, count: pair.1, classes: classes)
        }
        return HTMLHistogram(bins: bins)
    }

    /// The graph section's content: the colour legend and the drawing.
    package static func graphBody(_ graph: (nodes: [HTMLGraph.Node], edges: [HTMLGraph.Edge]), idPrefix: String) -> String {
        let used = Set(graph.nodes.flatMap(\.classes).filter { $0.hasPrefix("cat-") })
        return HTMLPage.legend(used) + HTMLGraph(nodes: graph.nodes, edges: graph.edges, idPrefix: idPrefix).render()
    }

    /// Inputs/outputs as a small table: role, name, dtype, shape.
    package static func tensorTable(_ rows: [(role: String, name: String, dtype: String, shape: String)]) -> String {
        guard !rows.isEmpty else { return "" }
        return "<h3>Inputs and outputs</h3>\n" + HTMLTable(
            columns: [HTMLTable.Column(""), HTMLTable.Column("name"), HTMLTable.Column("dtype"), HTMLTable.Column("shape")],
            rows: rows.map { row in
                HTMLTable.Row(cells: [.text(row.role, classes: ["dim"]), .text(row.name, classes: ["name", "mono"]),
                                      .text(row.dtype, classes: ["mono"]), .text(row.shape, classes: ["mono"])],
                              classes: ["io"])
            },
            classes: ["io"], scrolls: false).render()
    }
}
