import Foundation
import HTML
import JSON
import Passes
import TFLiteReports

extension SensitivityReport {
    /// The terminal report: a layer × level table of relative L2 error (top-1 agreement), then the plan.
    public func text() -> String {
        let several = outputNames.count > 1
        let channels = unit == "channels"
        var lines = ["\(path): each prunable \(channels ? "channel group's channels removed" : "layer pruned") alone, "
                     + "\(samples) sample\(samples == 1 ? "" : "s") from \(input)",
                     "relative L2 error ‖y−y₀‖/‖y₀‖ of the \(several ? "worst output" : "output") "
                        + "(top-1 agreement with the unpruned model)", ""]
        var table = [["layer", channels ? "channels" : "params"] + levels.map(levelText)]
        for layer in layers {
            var cells = [layer.name, formatCount(layer.params)]
            for level in levels {
                guard let row = rows.first(where: { $0.layer == layer.name && $0.level == level }) else { cells.append("-"); continue }
                cells.append(Self.errorText(row.relativeL2) + (row.top1Agreement.map { " (" + formatPercent($0) + ")" } ?? ""))
            }
            table.append(cells)
        }
        lines += renderTable(table, rightAligned: Set(1..<(2 + levels.count))).map { "  " + $0 }
        lines.append("")
        lines.append("plan for \(formatPercent(plan.target)) of the selected \(channels ? "groups' channels" : "kernels' weights") "
                     + "(errors measured one layer at a time, assumed to add up):")
        var planTable = [["layer", channels ? "channels" : "params", channels ? "removed" : "sparsity", "rel L2"]]
        for choice in plan.choices {
            planTable.append([choice.layer, formatCount(choice.params), formatPercent(choice.level), Self.errorText(choice.relativeL2)])
        }
        lines += renderTable(planTable, rightAligned: [1, 2, 3]).map { "  " + $0 }
        lines.append("reaches \(formatPercent(plan.sparsity)) (\(formatCount(plan.zeros)) of \(formatCount(plan.params)) \(channels ? "channels removed" : "weights zero"))"
                     + (plan.reached ? "" : ", short of the target even with every layer at \(levelText(levels.last ?? 0))")
                     + "; estimated rel L2 \(Self.errorText(plan.estimatedRelativeL2)) (sum)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--json`: the whole measurement and the plan (keys in docs/json.md).
    public var json: JSON {
        .object([
            "file": .string(path), "input": .string(input), "samples": Self.number(samples), "unit": .string(unit),
            "levels": .array(levels.map(JSON.number)),
            "outputs": .array(outputNames.map(JSON.string)),
            "layers": .array(layers.map { layer in
                .object(["name": .string(layer.name), "kernels": .array(layer.kernels.map(JSON.string)),
                         "params": Self.number(layer.params), "zeros": Self.number(layer.zeros)])
            }),
            "rows": rowsJSON,
            "plan": .object(planFields),
        ])
    }

    /// What `--plan-out` writes: `keraslite prune --plan` reads `layers`; the rest records how it was chosen.
    public var planJSON: JSON {
        .object(planFields.merging(["file": .string(path), "sensitivity": rowsJSON]) { _, new in new })
    }

    private var planFields: [String: JSON] {
        [
            "target": .number(plan.target), "unit": .string(unit),
            "layers": .object(Dictionary(uniqueKeysWithValues: plan.choices.map { ($0.layer, JSON.number($0.level)) })),
            "sparsity": .number(plan.sparsity), "zeros": Self.number(plan.zeros), "params": Self.number(plan.params),
            "reached": .bool(plan.reached),
            "min_params": Self.number(selection.minParams), "exclude": .array(selection.exclude.sorted().map(JSON.string)),
            "skip_first_conv": .bool(selection.skipFirstConv), "skip_output_layer": .bool(selection.skipOutputLayers),
            "estimated_rel_l2": Self.finite(plan.estimatedRelativeL2),
        ]
    }

    private var rowsJSON: JSON {
        .array(rows.map { row in
            let params = layers.first { $0.name == row.layer }?.params ?? 0
            return .object([
                "layer": .string(row.layer), "level": .number(row.level), "params": Self.number(params),
                "zeros": Self.number(row.zeros), "sparsity": .number(params > 0 ? Double(row.zeros) / Double(params) : 0),
                "rel_l2": Self.finite(row.relativeL2), "max_abs_error": Self.finite(row.maxAbsError),
                "top1_agreement": row.top1Agreement.map(JSON.number) ?? .null,
                "outputs": .array(row.outputs.map { output in
                    .object(["name": .string(output.name), "rel_l2": Self.finite(output.relativeL2),
                             "max_abs_error": Self.finite(output.maxAbsError),
                             "top1_agreement": output.top1Agreement.map(JSON.number) ?? .null])
                }),
            ])
        })
    }

    private static func number(_ value: Int) -> JSON { .number(Double(value)) }
    private static func finite(_ value: Double) -> JSON { value.isFinite ? .number(value) : .null }

    static func errorText(_ value: Double) -> String {
        if value == 0 { return "0" }
        return value.isFinite ? String(format: "%#.3g", value) : "inf"
    }

    private func levelText(_ level: Double) -> String {
        let percent = level * 100
        return (percent == percent.rounded() ? String(Int(percent)) : fixed(percent, 1)) + "%"
    }
}
