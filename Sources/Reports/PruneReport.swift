import GraphIR
import HTML
import JSON
import Keras
import Passes
import TFLiteReports

/// What `keraslite prune` did: per pruned kernel its sparsity before and after, the whole model's
/// parameters and sparsity, and the zlib-compressed size of all weights before and after — the
/// honest size win of unstructured sparsity while files store weights densely.
public struct PruneReport: Sendable {
    public struct Row: Sendable {
        public var layer: String
        public var tensor: String
        public var shape: [Int]
        public var params: Int
        public var zerosBefore: Int
        public var zerosAfter: Int
    }

    public var rows: [Row]
    public var params: Int
    public var zerosBefore: Int
    public var zerosAfter: Int
    /// float32 bytes of every weight, and their deflate-compressed size before and after.
    public var weightBytes: Int
    public var compressedBefore: Int
    public var compressedAfter: Int

    /// Builds the report from the model's weights (read once more) and the pass's results.
    public init(model: KerasModel, pruned: [PrunedWeight]) throws {
        rows = pruned.map { Row(layer: $0.layer, tensor: $0.tensor, shape: $0.shape, params: $0.params,
                                zerosBefore: $0.zerosBefore, zerosAfter: $0.zerosAfter) }
        var replacements: [ObjectIdentifier: [Float]] = [:]
        for weight in pruned where weight.zerosAfter != weight.zerosBefore { replacements[ObjectIdentifier(weight.original)] = weight.values }
        let before = DeflateCounter(), after = DeflateCounter()
        var params = 0, zerosBefore = 0, zerosAfter = 0
        for weight in model.weights {
            let values = try weight.data.valuesWithoutCaching()
            let changed = replacements[ObjectIdentifier(weight.data)]
            params += values.count
            zerosBefore += WeightStatistics.countZeros(values)
            zerosAfter += WeightStatistics.countZeros(changed ?? values)
            values.withUnsafeBytes { before.feed($0) }
            (changed ?? values).withUnsafeBytes { after.feed($0) }
        }
        self.params = params
        self.zerosBefore = zerosBefore
        self.zerosAfter = zerosAfter
        weightBytes = params * 4
        compressedBefore = before.finish()
        compressedAfter = after.finish()
    }

    public var sparsityBefore: Double { params > 0 ? Double(zerosBefore) / Double(params) : 0 }
    public var sparsityAfter: Double { params > 0 ? Double(zerosAfter) / Double(params) : 0 }

    public func text() -> String {
        var table = [["layer", "kernel", "shape", "params", "sparsity before", "after"]]
        for row in rows {
            table.append([row.layer, row.tensor, row.shape.map(String.init).joined(separator: "×"), formatCount(row.params),
                          formatPercent(Double(row.zerosBefore) / Double(max(row.params, 1))),
                          formatPercent(Double(row.zerosAfter) / Double(max(row.params, 1)))])
        }
        var lines = renderTable(table, rightAligned: [3, 4, 5]).map { "  " + $0 }
        let prunedParams = rows.reduce(0) { $0 + $1.params }
        lines.append("\(rows.count) kernel\(rows.count == 1 ? "" : "s") (\(formatCount(prunedParams)) of \(formatCount(params)) params); "
                     + "model sparsity \(formatPercent(sparsityBefore)) → \(formatPercent(sparsityAfter))")
        lines.append("weights \(formatBytes(weightBytes)) as float32; zlib-compressed \(formatBytes(compressedBefore)) → "
                     + "\(formatBytes(compressedAfter)) (\(formatPercent(Double(compressedAfter) / Double(max(compressedBefore, 1)))) of before)")
        return lines.joined(separator: "\n")
    }

    /// The `--json` form (keys in docs/json.md).
    public var json: JSON {
        func number(_ value: Int) -> JSON { .number(Double(value)) }
        return .object([
            "kernels": .array(rows.map { row in
                .object(["layer": .string(row.layer), "tensor": .string(row.tensor), "shape": .array(row.shape.map(number)),
                         "params": number(row.params), "zeros_before": number(row.zerosBefore), "zeros_after": number(row.zerosAfter),
                         "sparsity_before": .number(Double(row.zerosBefore) / Double(max(row.params, 1))),
                         "sparsity_after": .number(Double(row.zerosAfter) / Double(max(row.params, 1)))])
            }),
            "params": number(params), "zeros_before": number(zerosBefore), "zeros_after": number(zerosAfter),
            "sparsity_before": .number(sparsityBefore), "sparsity_after": .number(sparsityAfter),
            "weight_bytes": number(weightBytes), "compressed_bytes_before": number(compressedBefore),
            "compressed_bytes_after": number(compressedAfter),
        ])
    }
}
