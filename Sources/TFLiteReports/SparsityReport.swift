import Dispatch
import HTML
import JSON

/// What `keraslite sparsity` reports: zeros and near-zeros per weight tensor and overall, a
/// magnitude histogram, and the zlib-compressed size of the weights as stored and with the
/// near-zero ones set to zero (what magnitude pruning at this threshold would save).
public struct SparsityReport: Sendable {
    public struct TensorStatistics: Sendable {
        public var name: String
        public var layer: String
        public var shape: [Int]
        public var total: Int
        public var zeros: Int
        public var nearZero: Int
    }

    public var path: String
    public var threshold: Float
    public var tensors: [TensorStatistics]
    public var total: Int
    public var zeros: Int
    public var nearZero: Int
    public var histogram: [Int]
    public var storedBytes: Int
    public var compressedBytes: Int
    public var compressedBytesPruned: Int

    /// One weight tensor to analyse: its values (dequantized to Float) and its bytes as stored,
    /// plain or with the near-zero values set to zero, for the compression estimate.
    public struct Source {
        public var name: String
        public var layer: String
        public var shape: [Int]
        public var values: () throws -> [Float]
        /// Stored bytes; with `zeroingBelow` set, the values with |w| ≤ it stored as zero.
        public var stored: (_ values: [Float], _ zeroingBelow: Float?) -> [UInt8]

        public init(name: String, layer: String, shape: [Int], values: @escaping () throws -> [Float],
                    stored: @escaping (_ values: [Float], _ zeroingBelow: Float?) -> [UInt8]) {
            self.name = name
            self.layer = layer
            self.shape = shape
            self.values = values
            self.stored = stored
        }
    }

    /// Analyses `sources`, reading each once.
    public init(path: String, threshold: Float, sources: [Source]) throws {
        self.path = path
        self.threshold = threshold
        var tensors: [TensorStatistics] = []
        var histogram = Array(repeating: 0, count: WeightStatistics.histogramLabels.count)
        let asStored = DeflateCounter(), pruned = DeflateCounter()
        var storedBytes = 0
        for source in sources {
            let values = try source.values()
            tensors.append(TensorStatistics(
                name: source.name, layer: source.layer, shape: source.shape, total: values.count,
                zeros: WeightStatistics.countZeros(values),
                nearZero: WeightStatistics.countNearZero(values, threshold: threshold)))
            WeightStatistics.accumulateHistogram(values, into: &histogram)
            // The two compressions are independent: one per core.
            let inputs = [source.stored(values, nil), source.stored(values, threshold)], counters = [asStored, pruned]
            storedBytes += inputs[0].count
            DispatchQueue.concurrentPerform(iterations: 2) { index in inputs[index].withUnsafeBytes { counters[index].feed($0) } }
        }
        self.tensors = tensors
        self.histogram = histogram
        self.storedBytes = storedBytes
        total = tensors.reduce(0) { $0 + $1.total }
        zeros = tensors.reduce(0) { $0 + $1.zeros }
        nearZero = tensors.reduce(0) { $0 + $1.nearZero }
        compressedBytes = asStored.finish()
        compressedBytesPruned = pruned.finish()
    }

    /// Float weights as stored: 4 bytes each, or 2 for float16 files.
    package static func floatBytes(_ values: [Float], half: Bool, zeroingBelow limit: Float?) -> [UInt8] {
        var values = values
        if let limit { for index in values.indices where abs(values[index]) <= limit { values[index] = 0 } }
        #if arch(x86_64) || arch(arm64)
        if half { return values.map { Float16($0) }.withUnsafeBytes { Array($0) } }
        #endif
        return values.withUnsafeBytes { Array($0) }
    }

}

extension SparsityReport {
    /// The `--json` form; keys documented in docs/json.md and stable.
    public var json: JSON {
        func number(_ value: Int) -> JSON { .number(Double(value)) }
        return [
            "file": .string(path),
            "threshold": .number(Double(threshold)),
            "total": number(total), "zeros": number(zeros), "near_zero": number(nearZero),
            "stored_bytes": number(storedBytes),
            "zlib_bytes": number(compressedBytes), "zlib_bytes_near_zero_zeroed": number(compressedBytesPruned),
            "histogram": .array(zip(WeightStatistics.histogramLabels, histogram).map { label, count in
                ["bin": .string(label), "count": number(count)]
            }),
            "tensors": .array(tensors.map { tensor in
                [
                    "name": .string(tensor.name), "layer": .string(tensor.layer),
                    "shape": .array(tensor.shape.map { .number(Double($0)) }),
                    "total": number(tensor.total), "zeros": number(tensor.zeros), "near_zero": number(tensor.nearZero),
                ]
            }),
        ]
    }

    /// The terminal report: per-tensor table, totals, histogram bars and the compression estimate.
    public func text(barWidth: Int = 40) -> String {
        let thresholdText = "\(threshold)"
        var rows: [[String]] = [["tensor", "shape", "elements", "zeros", "|w|≤" + thresholdText]]
        for tensor in tensors {
            rows.append([tensor.name, "[" + tensor.shape.map(String.init).joined(separator: ",") + "]", formatCount(tensor.total),
                         percent(tensor.zeros, tensor.total), percent(tensor.nearZero, tensor.total)])
        }
        rows.append(["total", "", formatCount(total), percent(zeros, total), percent(nearZero, total)])
        var lines = ["\(path): \(tensors.count) weight tensors, \(formatCount(total)) values", ""]
        lines += renderTable(rows, rightAligned: [2, 3, 4])
        lines.append("")
        lines.append("magnitude histogram (|w|)")
        let largest = max(histogram.max() ?? 1, 1)
        let labelWidth = WeightStatistics.histogramLabels.map(\.count).max() ?? 0
        for (label, count) in zip(WeightStatistics.histogramLabels, histogram) {
            let length = count == 0 ? 0 : max(1, Int((Double(count) / Double(largest) * Double(barWidth)).rounded()))
            let bar = String(repeating: "█", count: length)
            lines.append("  " + label + String(repeating: " ", count: labelWidth - label.count) + "  " + bar
                         + (bar.isEmpty ? "" : " ") + formatCount(count))
        }
        lines.append("")
        let saving = compressedBytes > 0 ? 1 - Double(compressedBytesPruned) / Double(compressedBytes) : 0
        lines.append("zlib size of the weights: \(formatBytes(compressedBytes)) as stored (\(formatBytes(storedBytes)) raw), "
                     + "\(formatBytes(compressedBytesPruned)) with |w|≤\(thresholdText) set to zero (\(formatPercent(saving)) smaller)")
        return lines.joined(separator: "\n") + "\n"
    }

    private func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "-" : formatPercent(Double(part) / Double(whole))
    }
}
