import GraphIR
import HTML
import JSON
import Passes

/// What `keraslite prune --channels` did: per layer its channels, weights and MACs per sample
/// before → after, the groups kept whole and why, and the model's totals.
public struct ChannelPruneReport: Sendable {
    public struct Row: Sendable, Equatable {
        public var layer: String
        public var className: String
        public var channelsBefore: Int?
        public var channelsAfter: Int?
        public var paramsBefore: Int
        public var paramsAfter: Int
        public var macsBefore: Int
        public var macsAfter: Int
    }

    public var rows: [Row]
    public var groups: [ChannelPruning.Group]

    public init(pruning: ChannelPruning, before: [LayerCost], after: [LayerCost]) {
        var widths: [String: (Int, Int)] = [:]
        for group in pruning.groups { for layer in group.layers { widths[layer] = (group.before, group.after) } }
        let afterByLayer = Dictionary(after.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        rows = before.map { cost in
            let now = afterByLayer[cost.layer] ?? cost
            return Row(layer: cost.layer, className: cost.className, channelsBefore: widths[cost.layer]?.0, channelsAfter: widths[cost.layer]?.1,
                       paramsBefore: cost.params, paramsAfter: now.params, macsBefore: cost.macs, macsAfter: now.macs)
        }
        groups = pruning.groups
    }

    public var paramsBefore: Int { rows.reduce(0) { $0 + $1.paramsBefore } }
    public var paramsAfter: Int { rows.reduce(0) { $0 + $1.paramsAfter } }
    public var macsBefore: Int { rows.reduce(0) { $0 + $1.macsBefore } }
    public var macsAfter: Int { rows.reduce(0) { $0 + $1.macsAfter } }

    public func text() -> String {
        var table = [["layer", "class", "channels", "params", "MACs"]]
        for row in rows where row.paramsBefore > 0 || row.macsBefore > 0 {
            let channels = row.channelsBefore.map { before in "\(before) → \(row.channelsAfter ?? before)" } ?? ""
            table.append([row.layer, row.className, channels,
                          "\(formatCount(row.paramsBefore)) → \(formatCount(row.paramsAfter))",
                          "\(formatCount(row.macsBefore)) → \(formatCount(row.macsAfter))"])
        }
        var lines = renderTable(table, rightAligned: [2, 3, 4]).map { "  " + $0 }
        for group in groups where group.keptBecause != nil && group.before > 1 {
            lines.append("kept whole: \(group.layers.joined(separator: ", ")) (\(group.before) channels): \(group.keptBecause!)")
        }
        func share(_ after: Int, _ before: Int) -> String { formatPercent(Double(after) / Double(max(before, 1))) }
        lines.append("params \(formatCount(paramsBefore)) → \(formatCount(paramsAfter)) (\(share(paramsAfter, paramsBefore))); "
                     + "MACs per sample \(formatCount(macsBefore)) → \(formatCount(macsAfter)) (\(share(macsAfter, macsBefore)))")
        return lines.joined(separator: "\n")
    }

    /// The `--json` form (keys in docs/json.md).
    public var json: JSON {
        func number(_ value: Int) -> JSON { .number(Double(value)) }
        return .object([
            "layers": .array(rows.map { row in
                var object: [String: JSON] = ["layer": .string(row.layer), "class": .string(row.className),
                                              "params_before": number(row.paramsBefore), "params_after": number(row.paramsAfter),
                                              "macs_before": number(row.macsBefore), "macs_after": number(row.macsAfter)]
                if let before = row.channelsBefore { object["channels_before"] = number(before) }
                if let after = row.channelsAfter { object["channels_after"] = number(after) }
                return .object(object)
            }),
            "groups": .array(groups.map { group in
                .object(["layers": .array(group.layers.map(JSON.string)), "channels_before": number(group.before),
                         "channels_after": number(group.after), "criterion": .string(group.criterion.rawValue),
                         "kept_because": group.keptBecause.map(JSON.string) ?? .null])
            }),
            "params_before": number(paramsBefore), "params_after": number(paramsAfter),
            "macs_before": number(macsBefore), "macs_after": number(macsAfter),
        ])
    }
}
