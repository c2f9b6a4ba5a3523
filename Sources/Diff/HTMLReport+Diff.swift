import HTML
import Keras
import TFLiteReports

/// `keraslite diff --html`: the two models of a `ModelDiff` on one self-contained page, side by
/// side, with what differs highlighted.
///
/// Sections carry stable ids: `summary` (both sides' facts and the verdict), `structure` (the
/// aligned op table: one `<tr class="op KIND">` per aligned row, KIND one of same, changed, added,
/// removed), `weights` (one `<tr class="weight same|changed">` per paired weight, then the
/// unmatched ones as `<tr class="unmatched removed|added">`), `sizes` (stored weight bytes per
/// aligned op, A and B on a shared scale), `sparsity` (both sides' |w| histograms on a shared
/// scale), `optypes` (op counts per type, A vs B) and `graph` (two SVG graphs, `.graph-a` and
/// `.graph-b`, nodes classed added/removed/changed from the alignment and `wdiff` where only the
/// weights differ).
extension HTMLReport {
    /// The page for `diff`. Reads each weight of both models once more for the sparsity section
    /// (one tensor at a time); a weight that cannot be decoded is named in the section instead.
    public static func diff(_ diff: ModelDiff, threshold: Float = defaultThreshold) -> String {
        let context = DiffContext(diff)
        let page = HTMLPage(
            title: "diff · \(fileName(diff.a.path)) ↔ \(fileName(diff.b.path))",
            subtitle: "A \(diff.a.path) — B \(diff.b.path) — compared as \(diff.level)",
            sections: [
                HTMLPage.Section(id: "summary", title: "Summary", body: diffSummary(context)),
                HTMLPage.Section(id: "structure", title: "Structure", body: diffStructure(context),
                                 note: "The ops of A and B aligned in execution order (\(diff.level)): same, changed (what changed is listed), "
                                     + "added in B, removed from A. Click a heading to sort." + scopeNote(context)),
                HTMLPage.Section(id: "weights", title: "Weights", body: diffWeights(context),
                                 note: "Weights paired through the aligned ops, then by name, compared after dequantization; "
                                     + "highlighted where the largest difference exceeds the tolerance (\(diff.tolerance == 0 ? "0, exact" : scientific(diff.tolerance)))."),
                HTMLPage.Section(id: "sizes", title: "Sizes", body: diffSizes(context),
                                 note: "Stored bytes of the weights each aligned op reads (dtype width × elements; a shared weight counts for each reader), "
                                     + "A left and B right on one scale."),
                diffSparsity(context, threshold: threshold),
                HTMLPage.Section(id: "optypes", title: "Op types", body: diffOpTypes(context),
                                 note: "Ops per type on each side and the weight bytes they read."),
                HTMLPage.Section(id: "graph", title: "Graph", body: diffGraphs(context),
                                 note: "Both models as boxes and arrows (constants left out), A left and B right; scrolling one scrolls the other. "
                                     + "Hover a box for its tensors, attributes and what changed."),
            ])
        var html = page.render()
        if let head = html.range(of: "</style>\n</head>") {
            html.replaceSubrange(head.lowerBound..<head.lowerBound, with: diffCSS)
        }
        let marker = "document.documentElement.classList.add(\"js\");"
        if let end = html.range(of: marker, options: .backwards) {
            html.replaceSubrange(end.lowerBound..<end.lowerBound, with: diffScript)
        }
        return html
    }

    // MARK: What the sections share

    static func scopeNote(_ context: DiffContext) -> String {
        let scopes = [("A", context.scopeA), ("B", context.scopeB)].filter { !$0.1.isEmpty }
        guard !scopes.isEmpty else { return "" }
        if scopes.count == 2, scopes[0].1 == scopes[1].1 { return " Names are shown without their common scope “\(scopes[0].1)”." }
        return " Names are shown without their common scope (" + scopes.map { "\($0.0) “\($0.1)”" }.joined(separator: ", ") + ")."
    }

    /// The diff with its views and the lookups the sections need.
    struct DiffContext {
        var diff: ModelDiff
        var viewA: DiffView { diff.viewA }
        var viewB: DiffView { diff.viewB }
        /// Per node of A (of B): the aligned row's kind.
        var kindA: [ModelDiff.Row.Kind]
        var kindB: [ModelDiff.Row.Kind]
        /// Per node of A (of B): the row index in `diff.rows`.
        var rowOfA: [Int]
        var rowOfB: [Int]
        /// Per weight of A (of B): the index of its comparison in `diff.weights`.
        var comparisonOfA: [Int?]
        var comparisonOfB: [Int?]
        /// The model scope every op name of A (of B) starts with ("seed_mobilenetv2/" in
        /// TensorFlow's names), left out of the names shown; empty when there is none.
        var scopeA: String
        var scopeB: String

        init(_ diff: ModelDiff) {
            self.diff = diff
            kindA = Array(repeating: .removed, count: diff.viewA.nodes.count)
            kindB = Array(repeating: .added, count: diff.viewB.nodes.count)
            rowOfA = Array(repeating: -1, count: diff.viewA.nodes.count)
            rowOfB = Array(repeating: -1, count: diff.viewB.nodes.count)
            for (index, row) in diff.rows.enumerated() {
                if let a = row.a, kindA.indices.contains(a.index) { kindA[a.index] = row.kind; rowOfA[a.index] = index }
                if let b = row.b, kindB.indices.contains(b.index) { kindB[b.index] = row.kind; rowOfB[b.index] = index }
            }
            var byNameA: [String: Int] = [:], byNameB: [String: Int] = [:]
            for (index, weight) in diff.weights.enumerated() {
                if byNameA[weight.nameA] == nil { byNameA[weight.nameA] = index }
                if byNameB[weight.nameB] == nil { byNameB[weight.nameB] = index }
            }
            comparisonOfA = diff.viewA.weights.map { byNameA[$0.name] }
            comparisonOfB = diff.viewB.weights.map { byNameB[$0.name] }
            scopeA = Self.commonScope(diff.viewA.nodes.map(\.name))
            scopeB = Self.commonScope(diff.viewB.nodes.map(\.name))
        }

        /// The first path component (`seed_mobilenetv2/`) that at least three quarters of the names
        /// (their parts before the first `;`) start with and go on after; empty for fewer than
        /// three names or when there is none. TensorFlow names the last output `Identity` or
        /// `StatefulPartitionedCall:0`, hence not all.
        static func commonScope(_ names: [String]) -> String {
            guard names.count > 2 else { return "" }
            var counts: [Substring: Int] = [:]
            for name in names {
                let head = name.split(separator: ";", maxSplits: 1).first ?? Substring(name)
                guard let slash = head.firstIndex(of: "/"), slash != head.startIndex, head.index(after: slash) != head.endIndex else { continue }
                counts[head[...slash], default: 0] += 1
            }
            guard let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), best.value * 4 >= names.count * 3 else { return "" }
            return String(best.key)
        }

        /// A name for a table cell or label: without the side's scope, TensorFlow's fused names
        /// cut at the first `;`, at most `width` characters.
        func short(_ name: String, side: String, width: Int = 56) -> String {
            let scope = side == "A" ? scopeA : scopeB
            var text = name
            if !scope.isEmpty, text.hasPrefix(scope), text.count > scope.count { text.removeFirst(scope.count) }
            return displayName(text, width: width)
        }

        /// The distinct weights a node reads.
        static func weights(of node: DiffView.Node) -> [Int] {
            var seen = Set<Int>()
            return node.inputs.compactMap { $0?.weight }.filter { seen.insert($0).inserted }
        }

        /// The comparisons of the weights an aligned row's ops read (through A's weights, else B's).
        func comparisons(_ row: ModelDiff.Row) -> [ModelDiff.WeightComparison] {
            var indices: [Int] = []
            if let a = row.a, viewA.nodes.indices.contains(a.index) {
                indices = Self.weights(of: viewA.nodes[a.index]).compactMap { comparisonOfA.indices.contains($0) ? comparisonOfA[$0] : nil }
            } else if let b = row.b, viewB.nodes.indices.contains(b.index) {
                indices = Self.weights(of: viewB.nodes[b.index]).compactMap { comparisonOfB.indices.contains($0) ? comparisonOfB[$0] : nil }
            }
            return indices.map { diff.weights[$0] }
        }

        /// Stored bytes of the weights a node reads.
        static func weightBytes(_ node: DiffView.Node, _ view: DiffView) -> Int {
            weights(of: node).reduce(0) { total, index in
                view.weights.indices.contains(index) ? total + storedBytes(view.weights[index]) : total
            }
        }
    }

    /// Bytes of a weight as stored: elements × the dtype's width (4 bits for int4).
    static func storedBytes(_ weight: DiffView.Weight) -> Int {
        let bits: Int
        switch weight.dtype.lowercased() {
        case "float64", "int64", "uint64", "complex64": bits = 64
        case "complex128": bits = 128
        case "float16", "bfloat16", "int16", "uint16": bits = 16
        case "int8", "uint8", "bool": bits = 8
        case "int4": bits = 4
        case "int2": bits = 2
        default: bits = 32
        }
        return (weight.count * bits + 7) / 8
    }

    /// `A` or `B` as a small badge, then the file name.
    static func sideHeading(_ side: String, _ path: String, extra: String = "") -> String {
        "<h3 class=\"side-head\"><span class=\"badge side-\(side.lowercased())\">\(side)</span>\(HTML.escape(fileName(path)))"
            + (extra.isEmpty ? "" : " <span class=\"dim\">\(HTML.escape(extra))</span>") + "</h3>\n"
    }

    /// A CSS-only "only differences" switch for the table that follows it in the same parent.
    static func onlyDifferencesSwitch(id: String, label: String) -> String {
        "<input type=\"checkbox\" class=\"only-diff\" id=\"\(id)\"><label class=\"only-diff-label\" for=\"\(id)\">\(HTML.escape(label))</label>\n"
    }

    static func typeWithQuantization(_ dtype: String, _ quantization: String?) -> String {
        dtype + (quantization.map { " " + $0 } ?? "")
    }

    // MARK: Summary

    static func diffSummary(_ context: DiffContext) -> String {
        let diff = context.diff
        let equal = diff.equal
        var html = "<p class=\"verdict \(equal ? "equal" : "different")\">\(equal ? "✓ " : "✗ ")\(HTML.escape(diff.verdict))</p>\n"
        func weightBytes(_ view: DiffView) -> Int { view.weights.reduce(0) { $0 + storedBytes($1) } }
        let a = diff.a, b = diff.b
        // Parameters as compared differ from the file's own count only after BatchNorm folding.
        let showCompared = a.comparedParams != a.params || b.comparedParams != b.params
        func rows(_ side: ModelDiff.Side, _ view: DiffView) -> [(String, String)] {
            [("Format", side.format), ("File size", formatBytes(side.sizeBytes)), ("Parameters", formatCount(side.params))]
                + (showCompared ? [("Compared parameters", formatCount(side.comparedParams))] : [])
                + [("Ops", formatCount(side.ops)), ("Weights", formatCount(view.weights.count)),
                   ("Weight bytes", formatBytes(weightBytes(view)))]
        }
        let rowsA = rows(a, context.viewA), rowsB = rows(b, context.viewB)
        func facts(_ own: [(String, String)], _ other: [(String, String)]) -> String {
            HTMLPage.facts(zip(own, other).map { mine, theirs in
                (mine.0, mine.1 == theirs.1 ? HTML.escape(mine.1) : "<span class=\"changed\">\(HTML.escape(mine.1))</span>")
            }, markup: true)
        }
        html += "<div class=\"side-by-side sides\"><div class=\"side side-a\">" + sideHeading("A", a.path)
            + "<p class=\"path mono\">\(HTML.escape(a.path))</p>\n" + facts(rowsA, rowsB)
            + "</div><div class=\"side side-b\">" + sideHeading("B", b.path)
            + "<p class=\"path mono\">\(HTML.escape(b.path))</p>\n" + facts(rowsB, rowsA) + "</div></div>\n"
        let same = diff.rows.filter { $0.kind == .same }.count
        func count(_ value: Int, _ kind: String) -> String {
            value == 0 ? "0" : "<span class=\"count-\(kind)\">\(formatCount(value))</span>"
        }
        html += "<h3>Differences</h3>\n" + HTMLPage.facts([
            ("Ops same", formatCount(same)),
            ("Ops changed", count(diff.changed.count, "changed")),
            ("Ops added (B)", count(diff.added.count, "added")),
            ("Ops removed (A)", count(diff.removed.count, "removed")),
            ("Weights paired", formatCount(diff.weights.count)),
            ("Weights differing", count(diff.differingWeights.count, "changed")),
            ("Weights unmatched", count(diff.unmatchedWeightsA.count + diff.unmatchedWeightsB.count, "removed")),
        ], markup: true)
        if !diff.notes.isEmpty {
            html += "<ul class=\"diff-notes\">" + diff.notes.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>\n"
        }
        return html
    }

    // MARK: Structure

    static func diffStructure(_ context: DiffContext) -> String {
        let diff = context.diff
        guard !diff.rows.isEmpty else { return "<p class=\"note\">Neither model has ops.</p>\n" }
        let symbols: [ModelDiff.Row.Kind: String] = [.same: "=", .changed: "~", .added: "+", .removed: "−"]
        let rows = diff.rows.map { row -> HTMLTable.Row in
            func name(_ op: ModelDiff.OpRef?, _ side: String) -> HTMLTable.Cell {
                guard let op else { return .text("", classes: ["name", "mono"]) }
                return .text(context.short(op.name, side: side, width: 40), classes: ["name", "mono"], tooltip: op.name)
            }
            func type(_ op: ModelDiff.OpRef?) -> HTMLTable.Cell {
                guard let op else { return .text("") }
                return .markup("<span class=\"swatch \(HTML.category(of: op.type))\"></span>" + HTML.escape(op.type), classes: ["nowrap", "mono"])
            }
            let changes = row.changes.map { change -> String in
                var text = change
                for scope in Set([context.scopeA, context.scopeB]) where !scope.isEmpty {
                    text = text.replacingOccurrences(of: " " + scope, with: " ")
                }
                return "<div>\(HTML.escape(text))</div>"
            }.joined()
            let comparisons = context.comparisons(row)
            let differing = comparisons.filter { !$0.withinTolerance }
            let weightCell: HTMLTable.Cell
            if comparisons.isEmpty {
                weightCell = .markup("", sortValue: -1, classes: ["num"])
            } else if differing.isEmpty {
                weightCell = .markup("<span class=\"dim\">\(comparisons.count) equal</span>", sortValue: 0, classes: ["num"])
            } else {
                let worst = differing.map { $0.relL2 ?? .infinity }.max() ?? .infinity
                let worstText = worst.isFinite ? "rel L2 ≤ " + scientific(worst) : "shape differs"
                weightCell = .markup("<span class=\"changed\">\(differing.count) of \(comparisons.count) differ</span>",
                                     sortValue: worst.isFinite ? worst : 1e300, classes: ["num"], tooltip: worstText)
            }
            let kind = row.kind
            let classes = ["op", kind.rawValue] + (differing.isEmpty ? [] : ["wdiff"])
            return HTMLTable.Row(cells: [
                .text(symbols[kind] ?? "", classes: ["state"], tooltip: kind.rawValue),
                .optionalCount(row.a?.index), type(row.a), name(row.a, "A"),
                .optionalCount(row.b?.index), type(row.b), name(row.b, "B"),
                .markup(changes, classes: ["changes", "mono"], tooltip: row.changes.isEmpty ? nil : row.changes.joined(separator: "\n")),
                weightCell,
            ], classes: classes, attributes: [("data-name", row.a?.name ?? row.b?.name ?? "")])
        }
        let same = diff.rows.filter { $0.kind == .same }.count
        var html = "<div class=\"legend kinds\"><span class=\"changed\"><i></i>changed \(diff.changed.count)</span>"
            + "<span class=\"added\"><i></i>added in B \(diff.added.count)</span>"
            + "<span class=\"removed\"><i></i>removed from A \(diff.removed.count)</span><span><i class=\"plain\"></i>same \(same)</span></div>\n"
        html += onlyDifferencesSwitch(id: "structure-only-diff", label: "only differences")
        html += HTMLTable(columns: [
            HTMLTable.Column("", tooltip: "= same, ~ changed, + added in B, − removed from A"),
            HTMLTable.Column("#A", numeric: true), HTMLTable.Column("A op"), HTMLTable.Column("A name"),
            HTMLTable.Column("#B", numeric: true), HTMLTable.Column("B op"), HTMLTable.Column("B name"),
            HTMLTable.Column("changes"),
            HTMLTable.Column("weights", numeric: true, tooltip: "the op's paired weights: how many differ beyond the tolerance, worst relative L2"),
        ], rows: rows, classes: ["ops", "structure"]).render()
        return html
    }

    // MARK: Weights

    static func diffWeights(_ context: DiffContext) -> String {
        let diff = context.diff
        var html = ""
        if diff.weights.isEmpty {
            html += "<p class=\"note\">No weights were paired.</p>\n"
        } else {
            let rows = diff.weights.map { weight -> HTMLTable.Row in
                var name = HTML.escape(context.short(weight.nameA, side: "A", width: 60))
                if weight.nameB != weight.nameA {
                    name += "<div class=\"dim\">↔ \(HTML.escape(context.short(weight.nameB, side: "B", width: 60)))</div>"
                }
                let shape = weight.shapeA == weight.shapeB ? shapeText(weight.shapeA)
                    : "\(shapeText(weight.shapeA)) → \(shapeText(weight.shapeB))"
                let dtype = weight.dtypeA == weight.dtypeB ? weight.dtypeA : "\(weight.dtypeA) → \(weight.dtypeB)"
                func metric(_ value: Double?, _ text: (Double) -> String, differs: Bool) -> HTMLTable.Cell {
                    guard let value else { return .markup("—", sortValue: -1, classes: ["num", "dim"]) }
                    return .markup(HTML.escape(text(value)), sortValue: value.isFinite ? value : 1e300,
                                   classes: ["num"] + (differs ? ["changed"] : []))
                }
                let zeros: HTMLTable.Cell
                if let za = weight.zerosA, let zb = weight.zerosB {
                    zeros = .markup(HTML.escape("\(formatPercent(za)) → \(formatPercent(zb))"), sortValue: zb - za,
                                    classes: ["num"] + (za != zb ? ["changed"] : []))
                } else {
                    zeros = .markup("—", sortValue: -2, classes: ["num", "dim"])
                }
                let differs = !weight.withinTolerance
                return HTMLTable.Row(cells: [
                    .markup(name, classes: ["name", "mono"], tooltip: weight.nameA == weight.nameB ? weight.nameA : "\(weight.nameA)\n↔ \(weight.nameB)"),
                    .text(shape, classes: ["mono"] + (weight.shapeA != weight.shapeB ? ["changed"] : [])),
                    .text(dtype, classes: ["mono", "nowrap"] + (weight.dtypeA != weight.dtypeB ? ["changed"] : [])),
                    .count(weight.count),
                    metric(weight.maxAbsDiff, scientific, differs: differs),
                    metric(weight.relL2, scientific, differs: differs),
                    metric(weight.cosine, { fixed($0, 6) }, differs: differs),
                    zeros,
                ], classes: ["weight", differs ? "changed" : "same"], attributes: [("data-name", weight.nameA)])
            }
            let differing = diff.differingWeights.count
            html += "<div class=\"legend kinds\"><span class=\"changed\"><i></i>differ \(differing)</span>"
                + "<span><i class=\"plain\"></i>equal \(diff.weights.count - differing)</span></div>\n"
            html += onlyDifferencesSwitch(id: "weights-only-diff", label: "only differing weights")
            html += HTMLTable(columns: [
                HTMLTable.Column("weight"), HTMLTable.Column("shape"), HTMLTable.Column("dtype A → B"),
                HTMLTable.Column("elements", numeric: true),
                HTMLTable.Column("max |Δ|", numeric: true, tooltip: "largest absolute difference of an element"),
                HTMLTable.Column("rel L2", numeric: true, tooltip: "‖A − B‖ / ‖A‖"),
                HTMLTable.Column("cosine", numeric: true, tooltip: "cosine similarity of A and B"),
                HTMLTable.Column("zeros A → B", numeric: true, tooltip: "share of exact zeros; sorts by the change"),
            ], rows: rows, classes: ["weights"]).render()
        }
        let unmatched = unmatchedRows(context.diff.unmatchedWeightsA, context, side: "A", kind: "removed")
            + unmatchedRows(context.diff.unmatchedWeightsB, context, side: "B", kind: "added")
        if !unmatched.isEmpty {
            html += "<h3>Unmatched weights</h3>\n" + HTMLTable(columns: [
                HTMLTable.Column("only in"), HTMLTable.Column("weight"), HTMLTable.Column("shape"), HTMLTable.Column("dtype"),
                HTMLTable.Column("elements", numeric: true),
            ], rows: unmatched, classes: ["unmatched"], scrolls: unmatched.count > 20).render()
        }
        return html
    }

    static func unmatchedRows(_ names: [String], _ context: DiffContext, side: String, kind: String) -> [HTMLTable.Row] {
        let view = side == "A" ? context.viewA : context.viewB
        var byName: [String: DiffView.Weight] = [:]
        for weight in view.weights where byName[weight.name] == nil { byName[weight.name] = weight }
        return names.map { name in
            let weight = byName[name]
            return HTMLTable.Row(cells: [
                .text(side, classes: ["state"]),
                .text(context.short(name, side: side, width: 60), classes: ["name", "mono"], tooltip: name),
                .text(weight.map { shapeText($0.shape) } ?? "", classes: ["mono"]),
                .text(weight.map { typeWithQuantization($0.dtype, $0.quantization) } ?? "", classes: ["mono"]),
                weight.map { .count($0.count) } ?? .optionalCount(nil),
            ], classes: ["unmatched", kind], attributes: [("data-name", name)])
        }
    }

    // MARK: Sizes

    static func diffSizes(_ context: DiffContext) -> String {
        let diff = context.diff
        let totalA = context.viewA.weights.reduce(0) { $0 + storedBytes($1) }
        let totalB = context.viewB.weights.reduce(0) { $0 + storedBytes($1) }
        func change(_ x: Int, _ y: Int) -> String {
            var text = "\(formatBytes(x)) → \(formatBytes(y))"
            guard x != y else { return text + " (unchanged)" }
            text += " (" + (y > x ? "+" : "−") + formatBytes(abs(y - x))
            if x > 0 { text += ", " + (y > x ? "+" : "−") + formatPercent(abs(Double(y) / Double(x) - 1)) }
            return text + ")"
        }
        var html = "<div class=\"wide-facts\">" + HTMLPage.facts([
            ("File size A → B", change(diff.a.sizeBytes, diff.b.sizeBytes)),
            ("Weight bytes A → B", change(totalA, totalB)),
        ]) + "</div>\n"
        var barsA: [HTMLBarChart.Bar] = [], barsB: [HTMLBarChart.Bar] = []
        for row in diff.rows {
            let nodeA = row.a.flatMap { context.viewA.nodes.indices.contains($0.index) ? context.viewA.nodes[$0.index] : nil }
            let nodeB = row.b.flatMap { context.viewB.nodes.indices.contains($0.index) ? context.viewB.nodes[$0.index] : nil }
            let bytesA = nodeA.map { DiffContext.weightBytes($0, context.viewA) } ?? 0
            let bytesB = nodeB.map { DiffContext.weightBytes($0, context.viewB) } ?? 0
            guard bytesA > 0 || bytesB > 0 else { continue }
            let differs = bytesA != bytesB && row.a != nil && row.b != nil
            func bar(_ op: ModelDiff.OpRef?, _ bytes: Int, _ total: Int, _ otherBytes: Int, side: String) -> HTMLBarChart.Bar {
                let kind = row.kind == .same && differs ? "changed" : (row.kind == .same ? "" : row.kind.rawValue)
                guard let op else {
                    let what = row.kind == .added ? "added in B" : "removed from A"
                    return HTMLBarChart.Bar(label: "— (\(what))", value: 0, valueText: "", tooltip: "not in \(side): \(what)",
                                            classes: ["placeholder", kind])
                }
                let share = total > 0 ? ", " + formatPercent(Double(bytes) / Double(total)) + " of \(side)'s weights" : ""
                let other = row.a != nil && row.b != nil ? "; \(side == "A" ? "B" : "A") \(formatBytes(otherBytes))" : ""
                return HTMLBarChart.Bar(label: "\(op.index) \(op.type) \(context.short(op.name, side: side, width: 40))", value: Double(bytes),
                                        valueText: bytes > 0 ? formatBytes(bytes) : "–",
                                        tooltip: "#\(op.index) \(op.type) \(op.name): \(formatBytes(bytes))\(share)\(other)",
                                        classes: [HTML.category(of: op.type), kind])
            }
            barsA.append(bar(row.a, bytesA, totalA, bytesB, side: "A"))
            barsB.append(bar(row.b, bytesB, totalB, bytesA, side: "B"))
        }
        guard !barsA.isEmpty else { return html + "<p class=\"note\">No op reads weights.</p>\n" }
        let maximum = max(barsA.map(\.value).max() ?? 0, barsB.map(\.value).max() ?? 0, 1)
        html += "<div class=\"side-by-side sync-pair sizes-pair\"><div class=\"side side-a\">" + sideHeading("A", diff.a.path, extra: formatBytes(totalA))
            + HTMLBarChart(id: "size-bars-a", bars: barsA, scaleMaximum: maximum).render()
            + "</div><div class=\"side side-b\">" + sideHeading("B", diff.b.path, extra: formatBytes(totalB))
            + HTMLBarChart(id: "size-bars-b", bars: barsB, scaleMaximum: maximum).render() + "</div></div>\n"
        return html
    }

    // MARK: Sparsity

    /// One side's weight statistics, read one tensor at a time.
    struct SideSparsity {
        var total = 0
        var zeros = 0
        var nearZero = 0
        var histogram = Array(repeating: 0, count: WeightStatistics.histogramLabels.count)
        var unreadable: [String] = []

        init(_ view: DiffView, threshold: Float) {
            for weight in view.weights {
                do {
                    add(try weight.values(), threshold: threshold)
                } catch {
                    unreadable.append(weight.name)
                }
            }
        }

        init() {}

        /// One pass over `values`: the counts of `WeightStatistics` (zeros, |w| ≤ threshold and
        /// the magnitude histogram, bins found by a comparison tree instead of a scan).
        mutating func add(_ values: [Float], threshold: Float) {
            let edges = WeightStatistics.histogramEdges
            guard edges.count == 9, histogram.count == 11 else {
                total += values.count
                zeros += WeightStatistics.countZeros(values)
                nearZero += WeightStatistics.countNearZero(values, threshold: threshold)
                WeightStatistics.accumulateHistogram(values, into: &histogram)
                return
            }
            let (e0, e1, e2, e3, e4, e5, e6, e7, e8) = (edges[0], edges[1], edges[2], edges[3], edges[4], edges[5], edges[6], edges[7], edges[8])
            var counts = [Int](repeating: 0, count: 11)
            var near = 0
            values.withUnsafeBufferPointer { buffer in
                counts.withUnsafeMutableBufferPointer { bins in
                    for value in buffer {
                        let magnitude = abs(value)
                        if magnitude <= threshold { near += 1 }
                        let bin: Int
                        if magnitude == 0 {
                            bin = 0
                        } else if magnitude < e5 {
                            if magnitude < e3 {
                                bin = magnitude < e1 ? (magnitude < e0 ? 1 : 2) : (magnitude < e2 ? 3 : 4)
                            } else {
                                bin = magnitude < e4 ? 5 : 6
                            }
                        } else if magnitude < e7 {
                            bin = magnitude < e6 ? 7 : 8
                        } else {
                            bin = magnitude < e8 ? 9 : 10  // NaN too, as WeightStatistics
                        }
                        bins[bin] += 1
                    }
                }
            }
            total += values.count
            zeros += counts[0]
            nearZero += near
            for index in counts.indices { histogram[index] += counts[index] }
        }
    }

    static func diffSparsity(_ context: DiffContext, threshold: Float) -> HTMLPage.Section {
        let diff = context.diff
        let sides = [SideSparsity(context.viewA, threshold: threshold), SideSparsity(context.viewB, threshold: threshold)]
        let scale = max(sides.flatMap(\.histogram).max() ?? 1, 1)
        let thresholdText = "\(threshold)"
        func share(_ part: Int, _ total: Int) -> String { total > 0 ? " (" + formatPercent(Double(part) / Double(total)) + ")" : "" }
        var html = "<div class=\"legend\"><span><i style=\"background:var(--removed)\"></i>exact zero</span>"
            + "<span><i style=\"background:var(--changed)\"></i>|w| ≤ \(HTML.escape(thresholdText))</span>"
            + "<span><i style=\"background:var(--accent)\"></i>larger</span></div>\n"
        html += "<div class=\"side-by-side sparsity-pair\">"
        for (index, (side, path)) in [("A", diff.a.path), ("B", diff.b.path)].enumerated() {
            let stats = sides[index], other = sides[1 - index]
            func fact(_ text: String, _ otherText: String) -> String {
                text == otherText ? HTML.escape(text) : "<span class=\"changed\">\(HTML.escape(text))</span>"
            }
            let zerosText = formatCount(stats.zeros) + share(stats.zeros, stats.total)
            let nearText = formatCount(stats.nearZero) + share(stats.nearZero, stats.total)
            html += "<div class=\"side side-\(side.lowercased())\">" + sideHeading(side, path)
            html += HTMLPage.facts([
                ("Weight values", fact(formatCount(stats.total), formatCount(other.total))),
                ("Exact zeros", fact(zerosText, formatCount(other.zeros) + share(other.zeros, other.total))),
                ("|w| ≤ \(thresholdText)", fact(nearText, formatCount(other.nearZero) + share(other.nearZero, other.total))),
            ], markup: true)
            let bins = zip(WeightStatistics.histogramLabels, stats.histogram).enumerated().map { bin, pair -> HTMLHistogram.Bin in
                var classes: [String] = []
                if bin == 0 {
                    classes = ["zero"]
                } else if bin - 1 < WeightStatistics.histogramEdges.count, WeightStatistics.histogramEdges[bin - 1] <= threshold {
                    classes = ["near"]
                }
                return HTMLHistogram.Bin(label: pair.0, count: pair.1, classes: classes)
            }
            html += HTMLHistogram(bins: bins, scaleMaximum: scale).render()
            if !stats.unreadable.isEmpty {
                html += HTMLPage.warnings(["\(stats.unreadable.count) weights could not be decoded and are left out: "
                                           + stats.unreadable.prefix(5).map { displayName($0) }.joined(separator: ", ")
                                           + (stats.unreadable.count > 5 ? ", …" : "")])
            }
            html += "</div>"
        }
        html += "</div>\n"
        let moved = diff.weights.filter { weight in
            guard let za = weight.zerosA, let zb = weight.zerosB else { return false }
            return za != zb
        }
        if !moved.isEmpty {
            html += "<h3>Paired weights whose share of zeros changed (\(formatCount(moved.count)))</h3>\n"
            let rows = moved.map { weight -> HTMLTable.Row in
                let za = weight.zerosA!, zb = weight.zerosB!
                return HTMLTable.Row(cells: [
                    .text(context.short(weight.nameA, side: "A", width: 60), classes: ["name", "mono"], tooltip: weight.nameA),
                    .count(weight.count),
                    .markup(formatPercent(za), sortValue: za, classes: ["num"]),
                    .markup(formatPercent(zb), sortValue: zb, classes: ["num"]),
                    .markup((zb >= za ? "+" : "−") + formatPercent(abs(zb - za)), sortValue: zb - za, classes: ["num", "changed"]),
                ], classes: ["zeros", "changed"])
            }
            html += HTMLTable(columns: [HTMLTable.Column("weight"), HTMLTable.Column("elements", numeric: true),
                                        HTMLTable.Column("zeros A", numeric: true), HTMLTable.Column("zeros B", numeric: true),
                                        HTMLTable.Column("change", numeric: true)],
                              rows: rows, classes: ["zeros"], scrolls: rows.count > 16).render()
        }
        return HTMLPage.Section(id: "sparsity", title: "Sparsity", body: html,
                                note: "Magnitudes |w| of every weight value of each side in log-decade bins, on one scale.")
    }

    // MARK: Op types

    static func diffOpTypes(_ context: DiffContext) -> String {
        var counts: [String: (a: Int, b: Int, bytesA: Int, bytesB: Int)] = [:]
        for node in context.viewA.nodes {
            counts[node.type, default: (0, 0, 0, 0)].a += 1
            counts[node.type, default: (0, 0, 0, 0)].bytesA += DiffContext.weightBytes(node, context.viewA)
        }
        for node in context.viewB.nodes {
            counts[node.type, default: (0, 0, 0, 0)].b += 1
            counts[node.type, default: (0, 0, 0, 0)].bytesB += DiffContext.weightBytes(node, context.viewB)
        }
        guard !counts.isEmpty else { return "<p class=\"note\">Neither model has ops.</p>\n" }
        let rows = counts.sorted { (max($0.value.a, $0.value.b), $1.key) > (max($1.value.a, $1.value.b), $0.key) }.map { type, value in
            let kind = value.a == 0 ? "added" : value.b == 0 ? "removed" : value.a != value.b || value.bytesA != value.bytesB ? "changed" : "same"
            let delta = value.b - value.a
            return HTMLTable.Row(cells: [
                .markup("<span class=\"swatch\"></span>" + HTML.escape(type), classes: ["mono"]),
                .count(value.a), .count(value.b),
                .markup(delta == 0 ? "" : (delta > 0 ? "+" : "−") + formatCount(abs(delta)), sortValue: Double(delta),
                        classes: ["num"] + (delta == 0 ? [] : ["changed"])),
                .bytes(value.bytesA, blankZero: true), .bytes(value.bytesB, blankZero: true,
                                                               classes: value.bytesA != value.bytesB ? ["changed"] : []),
            ], classes: ["optype", kind, HTML.category(of: type)], attributes: [("data-name", type)])
        }
        return HTMLTable(columns: [HTMLTable.Column("op type"), HTMLTable.Column("ops A", numeric: true), HTMLTable.Column("ops B", numeric: true),
                                   HTMLTable.Column("Δ", numeric: true), HTMLTable.Column("weights A", numeric: true),
                                   HTMLTable.Column("weights B", numeric: true)],
                         rows: rows, classes: ["optypes"], scrolls: rows.count > 20).render()
    }

    // MARK: Graph

    /// A view's ops as drawing input: one pill per graph input (a tensor read but produced by no
    /// op and not a constant), one box per op, one pill per graph output (a tensor produced but
    /// read by no op); one edge per distinct producer → consumer pair. `kinds` gives each op's
    /// alignment; `weightsDiffer` marks ops whose paired weights differ.
    static func diffGraph(_ view: DiffView, kinds: [ModelDiff.Row.Kind], details: [String], weightsDiffer: [Bool],
                          highlight: ModelDiff.Row.Kind, scope: String = "") -> (nodes: [HTMLGraph.Node], edges: [HTMLGraph.Edge]) {
        func tensorText(_ ref: DiffView.TensorRef) -> String {
            "\(ref.name): \(typeWithQuantization(ref.dtype, ref.quantization))\(ref.shape)"
        }
        func isActivation(_ ref: DiffView.TensorRef?) -> DiffView.TensorRef? {
            guard let ref, ref.weight == nil, ref.constantText == nil else { return nil }
            return ref
        }
        var produced = Set<String>(), consumed = Set<String>()
        for node in view.nodes {
            for output in node.outputs { produced.insert(output.name) }
            for input in node.inputs.compactMap(isActivation) { consumed.insert(input.name) }
        }
        var nodes: [HTMLGraph.Node] = []
        var source: [String: Int] = [:]
        var seenInputs = Set<String>()
        // Graph inputs first, in order of first use.
        for node in view.nodes {
            for input in node.inputs.compactMap(isActivation) where !produced.contains(input.name) && seenInputs.insert(input.name).inserted {
                source[input.name] = nodes.count
                nodes.append(HTMLGraph.Node(title: "input", subtitle: input.name, tooltip: "input " + tensorText(input),
                                            classes: ["io", "input", "cat-io"]))
            }
        }
        let first = nodes.count
        for (position, node) in view.nodes.enumerated() {
            for output in node.outputs where source[output.name] == nil { source[output.name] = first + position }
        }
        var edges: [HTMLGraph.Edge] = []
        var seen = Set<[Int]>()
        func connect(_ ref: DiffView.TensorRef, to target: Int, classes: [String]) {
            guard let from = source[ref.name], from != target, seen.insert([from, target]).inserted else { return }
            edges.append(HTMLGraph.Edge(from: from, to: target, tooltip: tensorText(ref), classes: classes))
        }
        func kindClass(_ position: Int) -> String {
            guard kinds.indices.contains(position) else { return "" }
            return kinds[position] == .same ? "" : kinds[position].rawValue
        }
        for (position, node) in view.nodes.enumerated() {
            let index = nodes.count
            var title = node.type
            if let function = node.attributes["function"], node.type == "activation" { title += " · \(function)" }
            var tooltip = ["#\(position) \(node.type) \(node.name)"]
            if kinds.indices.contains(position), kinds[position] != .same { tooltip.append("[\(kinds[position].rawValue)]") }
            if details.indices.contains(position), !details[position].isEmpty { tooltip.append(details[position]) }
            for key in node.attributes.keys.sorted() { tooltip.append("  \(key) = \(node.attributes[key]!)") }
            for input in node.inputs {
                guard let input else { continue }
                tooltip.append((input.weight != nil ? "weight " : input.constantText != nil ? "const " : "in ") + tensorText(input)
                               + (input.constantText.map { " = \($0)" } ?? ""))
            }
            for output in node.outputs { tooltip.append("→ " + tensorText(output)) }
            let kind = kindClass(position)
            var subtitle = shortTensorName(node.name)
            if !scope.isEmpty, subtitle.hasPrefix(scope), subtitle.count > scope.count { subtitle.removeFirst(scope.count) }
            nodes.append(HTMLGraph.Node(title: title, subtitle: subtitle, tooltip: tooltip.joined(separator: "\n"),
                                        classes: [HTML.category(of: node.type), kind]
                                            + (weightsDiffer.indices.contains(position) && weightsDiffer[position] ? ["wdiff"] : [])))
            for input in node.inputs.compactMap(isActivation) {
                let producer = source[input.name].map { $0 - first }
                let producerKind = producer.map(kindClass) ?? ""
                let highlighted = kind == highlight.rawValue || producerKind == highlight.rawValue
                connect(input, to: index, classes: highlighted ? [highlight.rawValue] : [])
            }
        }
        var seenOutputs = Set<String>()
        for (position, node) in view.nodes.enumerated() {
            for output in node.outputs where !consumed.contains(output.name) && seenOutputs.insert(output.name).inserted {
                let index = nodes.count
                nodes.append(HTMLGraph.Node(title: "output", subtitle: output.name, tooltip: "output " + tensorText(output),
                                            classes: ["io", "output", "cat-io"]))
                connect(output, to: index, classes: kindClass(position) == highlight.rawValue ? [highlight.rawValue] : [])
            }
        }
        return (nodes, edges)
    }

    static func diffGraphs(_ context: DiffContext) -> String {
        let diff = context.diff
        func details(_ view: DiffView, rowOf: [Int]) -> [String] {
            view.nodes.indices.map { position in
                guard rowOf.indices.contains(position), diff.rows.indices.contains(rowOf[position]) else { return "" }
                let row = diff.rows[rowOf[position]]
                var lines = row.changes.map { "changed: " + $0 }
                let differing = context.comparisons(row).filter { !$0.withinTolerance }
                for weight in differing {
                    lines.append("weight \(displayName(weight.nameA)) differs: " + (weight.relL2.map { "rel L2 " + scientific($0) } ?? "shape"))
                }
                return lines.joined(separator: "\n")
            }
        }
        func weightsDiffer(_ view: DiffView, rowOf: [Int]) -> [Bool] {
            view.nodes.indices.map { position in
                guard rowOf.indices.contains(position), diff.rows.indices.contains(rowOf[position]) else { return false }
                let row = diff.rows[rowOf[position]]
                return row.a != nil && row.b != nil && context.comparisons(row).contains { !$0.withinTolerance }
            }
        }
        let graphA = diffGraph(context.viewA, kinds: context.kindA, details: details(context.viewA, rowOf: context.rowOfA),
                               weightsDiffer: weightsDiffer(context.viewA, rowOf: context.rowOfA), highlight: .removed,
                               scope: context.scopeA)
        let graphB = diffGraph(context.viewB, kinds: context.kindB, details: details(context.viewB, rowOf: context.rowOfB),
                               weightsDiffer: weightsDiffer(context.viewB, rowOf: context.rowOfB), highlight: .added,
                               scope: context.scopeB)
        let used = Set((graphA.nodes + graphB.nodes).flatMap(\.classes).filter { $0.hasPrefix("cat-") })
        var legend = HTMLPage.legend(used)
        legend = legend.replacingOccurrences(of: "</div>\n", with: "")
            + "<span class=\"changed\"><i></i>changed</span><span class=\"added\"><i></i>added in B</span>"
            + "<span class=\"removed\"><i></i>removed from A</span><span class=\"wdiff\"><i></i>weights differ</span></div>\n"
        return legend + "<div class=\"side-by-side sync-pair graph-pair\"><div class=\"side side-a graph-a\">"
            + sideHeading("A", diff.a.path, extra: "\(formatCount(diff.a.ops)) ops")
            + HTMLGraph(nodes: graphA.nodes, edges: graphA.edges, idPrefix: "graph-a").render()
            + "</div><div class=\"side side-b graph-b\">" + sideHeading("B", diff.b.path, extra: "\(formatCount(diff.b.ops)) ops")
            + HTMLGraph(nodes: graphB.nodes, edges: graphB.edges, idPrefix: "graph-b").render() + "</div></div>\n"
    }

    // MARK: Page additions

    /// Styles only the diff page needs (added to the page's `<style>`).
    static let diffCSS = """
    .verdict{margin:4px 0 12px;padding:9px 14px;border-radius:8px;font-weight:600;font-size:15px;border:1px solid;overflow-wrap:anywhere}
    .verdict.equal{color:var(--added);border-color:var(--added);background:color-mix(in srgb,var(--added) 11%,var(--bg))}
    .verdict.different{color:var(--removed);border-color:var(--removed);background:color-mix(in srgb,var(--removed) 9%,var(--bg))}
    h3.side-head{color:var(--fg);margin:6px 0 6px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
    h3.side-head .dim{color:var(--muted);font-weight:400}
    .badge{display:inline-block;min-width:20px;padding:0 5px;margin-right:7px;border-radius:5px;text-align:center;color:#fff;font-weight:700;background:var(--accent)}
    .badge.side-b{background:#8250df}
    p.path{color:var(--muted);margin:-2px 0 8px;overflow-wrap:anywhere}
    .wide-facts dl.facts{grid-template-columns:repeat(auto-fill,minmax(420px,1fr));margin-bottom:10px}
    .sides dl.facts{grid-template-columns:repeat(auto-fill,minmax(140px,1fr))}
    .count-changed{color:var(--changed)}.count-added{color:var(--added)}.count-removed{color:var(--removed)}
    ul.diff-notes{color:var(--muted);font-size:12.5px;margin:10px 0 0;padding-left:18px}
    td.state{font-weight:700;text-align:center;width:3ch;color:var(--muted)}
    tr.added td.state{color:var(--added)}tr.removed td.state{color:var(--removed)}tr.changed td.state{color:var(--changed)}
    td.changes{color:var(--fg);min-width:24ch;overflow-wrap:anywhere}
    table.structure td.name{white-space:nowrap;overflow-wrap:normal}
    td.changes div+div{margin-top:2px}
    td.changed,td.changed.num{color:var(--changed);font-weight:600}
    .legend span.changed{color:var(--muted);font-weight:400}
    .legend.kinds i{border:1px solid var(--line)}.legend.kinds i.plain{background:var(--soft)}
    .legend span.wdiff i{background:transparent;border:2px dashed var(--changed)}
    input.only-diff{margin:0 5px 8px 0;vertical-align:-2px;accent-color:var(--accent)}
    label.only-diff-label{font-size:12.5px;color:var(--muted);cursor:pointer;user-select:none}
    .only-diff:checked~.scroll tr.same:not(.wdiff){display:none}
    .side-by-side .bar-row{grid-template-columns:minmax(90px,250px) 1fr 64px;gap:8px;padding:1px 8px}
    .bar-row.placeholder .bar{display:none}.bar-row.placeholder .bar-label{color:var(--muted);font-style:italic}
    .bar-row.changed .bar-label{color:var(--changed)}.bar-row.added .bar-label{color:var(--added)}.bar-row.removed .bar-label{color:var(--removed)}
    .side-by-side .hist{gap:3px;padding:8px 6px 0}
    .side-by-side .hist-bin{flex:1 1 0}
    .side-by-side .hist-label{font-size:9.5px;letter-spacing:-.02em}
    .side-by-side .hist-count{font-size:10px}
    svg.graph .node.wdiff:not(.changed) rect{stroke:var(--changed);stroke-width:2.2;stroke-dasharray:5 3}
    .graph-pair .graph-wrap{max-height:85vh}

    """

    /// Scrolling one graph (or size chart) of a pair scrolls the other to the same height; a
    /// graph wider than its column starts scrolled to its first box (the input).
    static let diffScript = """
    for (const wrap of document.querySelectorAll(".graph-pair .graph-wrap")) {
      const first = wrap.querySelector("g.node"), rect = first && first.querySelector("rect");
      if (!rect || wrap.scrollWidth <= wrap.clientWidth) continue;
      const x = Number((first.getAttribute("transform").match(/-?[0-9.]+/) || [0])[0]);
      wrap.scrollLeft = Math.max(0, x + rect.width.baseVal.value / 2 - wrap.clientWidth / 2);
    }
    for (const pair of document.querySelectorAll(".sync-pair")) {
      const boxes = [...pair.querySelectorAll(".graph-wrap, .bars")];
      let leader = null;
      for (const box of boxes) {
        for (const event of ["pointerenter", "wheel", "touchstart", "focusin"]) box.addEventListener(event, () => { leader = box; }, { passive: true });
        box.addEventListener("scroll", () => {
          if (leader !== box) return;
          for (const other of boxes) if (other !== box) other.scrollTop = box.scrollTop;
        }, { passive: true });
      }
    }

    """
}
