import Foundation
import HTML
import JSON
import TFLiteReports

extension ModelDiff {
    /// One sentence: equal or what differs, worst weight first.
    public var verdict: String {
        if equal {
            return "equal: \(rows.count) ops and \(weights.count) weights match" + (tolerance > 0 ? " within tolerance \(scientific(tolerance))" : " exactly")
        }
        var parts: [String] = []
        let counts = [("added", added.count), ("removed", removed.count), ("changed", changed.count)].filter { $0.1 > 0 }
        if !counts.isEmpty { parts.append(counts.map { "\($0.1) ops \($0.0)" }.joined(separator: ", ")) }
        let differing = differingWeights
        if !differing.isEmpty {
            var text = "\(differing.count) of \(weights.count) weights differ"
            if let worst = differing.max(by: { ($0.relL2 ?? .infinity) < ($1.relL2 ?? .infinity) }) {
                text += worst.relL2.map { " (worst relative L2 \(scientific($0)) at \(displayName(worst.nameA)))" } ?? " (shape of \(displayName(worst.nameA)) differs)"
            }
            parts.append(text)
        }
        let unmatched = unmatchedWeightsA.count + unmatchedWeightsB.count
        if unmatched > 0 { parts.append("\(unmatched) weights could not be matched") }
        return "different: " + parts.joined(separator: "; ")
    }

    public var json: JSON {
        func ref(_ op: OpRef?) -> JSON {
            guard let op else { return .null }
            return .object(["index": .number(Double(op.index)), "name": .string(op.name), "op": .string(op.type)])
        }
        func number(_ value: Double?) -> JSON {
            guard let value, value.isFinite else { return .null }
            return .number(value)
        }
        func side(_ side: Side) -> JSON {
            .object(["path": .string(side.path), "format": .string(side.format), "size_bytes": .number(Double(side.sizeBytes)),
                     "params": .number(Double(side.params)), "compared_params": .number(Double(side.comparedParams)),
                     "ops": .number(Double(side.ops))])
        }
        let structure: JSON = .object([
            "added": .array(added.map { ref($0.b) }),
            "removed": .array(removed.map { ref($0.a) }),
            "changed": .array(changed.map { row in
                .object(["a": ref(row.a), "b": ref(row.b), "changes": .array(row.changes.map(JSON.string))])
            }),
            "same": .number(Double(rows.filter { $0.kind == .same }.count)),
        ])
        let weightItems: [JSON] = weights.map { weight in
            var object: [String: JSON] = [
                "name": .string(weight.nameA), "name_b": .string(weight.nameB),
                "shape": .array(weight.shapeA.map { .number(Double($0)) }),
                "shape_b": .array(weight.shapeB.map { .number(Double($0)) }),
                "dtype_a": .string(weight.dtypeA), "dtype_b": .string(weight.dtypeB),
                "elements": .number(Double(weight.count)),
                "max_abs_diff": number(weight.maxAbsDiff), "rel_l2": number(weight.relL2), "cosine": number(weight.cosine),
                "zeros_a": number(weight.zerosA), "zeros_b": number(weight.zerosB),
                "equal": .bool(weight.withinTolerance),
            ]
            if weight.nameA == weight.nameB { object["name_b"] = nil }
            return .object(object)
        }
        return .object([
            "equal": .bool(equal),
            "level": .string(level),
            "tolerance": .number(tolerance),
            "a": side(a), "b": side(b),
            "structure": structure,
            "rows": .array(rows.map { row in
                .object(["kind": .string(row.kind.rawValue), "a": ref(row.a), "b": ref(row.b),
                         "changes": .array(row.changes.map(JSON.string))])
            }),
            "weights": .array(weightItems),
            "unmatched_weights": .object(["a": .array(unmatchedWeightsA.map(JSON.string)), "b": .array(unmatchedWeightsB.map(JSON.string))]),
            "notes": .array(notes.map(JSON.string)),
            "summary": .string(verdict),
        ])
    }

    /// The terminal report. `limit` caps each listing (the JSON has everything).
    public func text(limit: Int = 40) -> String {
        var lines: [String] = []
        lines.append(contentsOf: renderTable([
            ["", "A", "B"],
            ["file", a.path, b.path],
            ["format", a.format, b.format],
            ["size", formatBytes(a.sizeBytes), formatBytes(b.sizeBytes)],
            ["params", formatCount(a.params), formatCount(b.params)],
            ["ops (\(level))", formatCount(a.ops), formatCount(b.ops)],
        ]))
        for note in notes { lines.append("note: \(note)") }
        lines.append("")
        let same = rows.filter { $0.kind == .same }.count
        lines.append("structure: \(same) same, \(changed.count) changed, \(added.count) added, \(removed.count) removed")
        let interesting = rows.filter { $0.kind != .same }
        for row in interesting.prefix(limit) {
            switch row.kind {
            case .added: lines.append("  + #\(row.b!.index) \(row.b!.type) \(displayName(row.b!.name))")
            case .removed: lines.append("  - #\(row.a!.index) \(row.a!.type) \(displayName(row.a!.name))")
            case .changed:
                let names = row.a!.name == row.b!.name ? displayName(row.a!.name) : "\(displayName(row.a!.name)) ↔ \(displayName(row.b!.name))"
                lines.append("  ~ #\(row.a!.index)/#\(row.b!.index) \(row.a!.type) \(names)")
                for change in row.changes { lines.append("      \(change)") }
            case .same: break
            }
        }
        if interesting.count > limit { lines.append("  … \(interesting.count - limit) more (see --json)") }
        lines.append("")
        let differing = differingWeights.sorted { ($0.relL2 ?? .infinity) > ($1.relL2 ?? .infinity) }
        lines.append("weights: \(weights.count) paired, \(differing.count) differ"
                     + " (tolerance \(tolerance == 0 ? "0, exact" : scientific(tolerance))), "
                     + "\(unmatchedWeightsA.count) only in A, \(unmatchedWeightsB.count) only in B")
        if !differing.isEmpty {
            var table: [[String]] = [["name", "shape", "dtype", "max |Δ|", "rel L2", "cosine", "zeros A→B"]]
            for weight in differing.prefix(limit) {
                let shape = weight.shapeA == weight.shapeB ? shapeText(weight.shapeA) : "\(shapeText(weight.shapeA))→\(shapeText(weight.shapeB))"
                let dtype = weight.dtypeA == weight.dtypeB ? weight.dtypeA : "\(weight.dtypeA)→\(weight.dtypeB)"
                let zeros = weight.zerosA.flatMap { za in weight.zerosB.map { "\(formatPercent(za))→\(formatPercent($0))" } } ?? "—"
                table.append([displayName(weight.nameA), shape, dtype, weight.maxAbsDiff.map(scientific) ?? "—", weight.relL2.map(scientific) ?? "—",
                              weight.cosine.map { fixed($0, 6) } ?? "—", zeros])
            }
            lines.append(contentsOf: renderTable(table, rightAligned: [3, 4, 5, 6]).map { "  " + $0 })
            if differing.count > limit { lines.append("  … \(differing.count - limit) more (see --json)") }
        }
        for name in unmatchedWeightsA.prefix(limit) { lines.append("  only in A: \(displayName(name))") }
        for name in unmatchedWeightsB.prefix(limit) { lines.append("  only in B: \(displayName(name))") }
        lines.append("")
        lines.append(verdict)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A tensor name short enough for a table: TensorFlow's fused names ("a/Relu;a/BiasAdd;…") keep
/// their first part; anything longer than `width` keeps its head and tail.
func displayName(_ name: String, width: Int = 56) -> String {
    var text = name
    if let semicolon = text.firstIndex(of: ";") { text = String(text[..<semicolon]) + ";…" }
    guard text.count > width else { return text }
    return String(text.prefix(width / 2 - 1)) + "…" + String(text.suffix(width / 2 - 1))
}

func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

/// `4.1e-03`, `0` — for errors spanning many decades.
func scientific(_ value: Double) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : "inf" }
    if value == 0 { return "0" }
    var exponent = Int(log10(abs(value)).rounded(.down))
    var mantissa = value / pow(10, Double(exponent))
    if abs(mantissa) >= 9.95 { mantissa /= 10; exponent += 1 }
    let sign = exponent < 0 ? "-" : "+"
    let digits = String(abs(exponent))
    return fixed(mantissa, 1) + "e" + sign + (digits.count < 2 ? "0" : "") + digits
}
