import Calibration
import Files
import Foundation
import HTML
import Interpreter
import JSON
import Kernels
import Keras
import TFLite
import TFLiteInterpreter
import TFLiteReports

/// Where full-integer quantization loses precision: the float32 model and its int8 conversion
/// both run on the reference executor (the int8 one simulated with its scales and zero points)
/// on the same samples, and every quantized tensor is compared with the float tensor it
/// quantizes (the converter's `quantizedTensors`, paired by index). Errors accumulate along the
/// graph, so each row also says how many dB of SQNR were lost at that op (its SQNR against the
/// best of its inputs'): the ops to keep float are those that lose the most, not simply the last
/// ones.
public struct QuantizationReport: Sendable {
    public struct Row: Sendable {
        /// The float tensor's name (a Keras layer name, or layer/part for multi-op layers).
        public var tensor: String
        /// The Keras layer of the op that writes it (a model input's name): what --keep-float takes.
        public var layer: String
        /// The builtin that writes the int8 tensor.
        public var op: String
        public var scale: Float
        public var zeroPoint: Int64
        /// Signal-to-quantization-noise ratio in dB: 10·log10(Σ float² / Σ (float − int8)²); +∞ when equal.
        public var sqnr: Double
        /// SQNR lost at this op: the best SQNR among its quantized inputs minus its own (0 for model inputs).
        public var lost: Double
        public var maxAbsError: Double
        public var meanAbsError: Double
        /// Cosine similarity between the float and the int8 values.
        public var cosine: Double
    }

    public var rows: [Row]
    public var samples: Int

    /// Layers to keep float: the (up to) three that lose the most dB, model inputs excluded.
    public var suggestedKeepFloat: [String] {
        var layers: [String] = []
        for row in rows.filter({ $0.op != "QUANTIZE" && $0.lost > 0.5 }).sorted(by: { $0.lost > $1.lost })
        where !layers.contains(row.layer) {
            layers.append(row.layer)
            if layers.count == 3 { break }
        }
        return layers
    }

    private struct Accumulator {
        var signal = 0.0, noise = 0.0, dot = 0.0, quantizedPower = 0.0, maxAbs = 0.0, sumAbs = 0.0, count = 0
        mutating func add(_ reference: [Float], _ quantized: [Float]) {
            for (f, q) in zip(reference, quantized) {
                let (f, q) = (Double(f), Double(q))
                let difference = f - q
                signal += f * f
                noise += difference * difference
                dot += f * q
                quantizedPower += q * q
                maxAbs = max(maxAbs, abs(difference))
                sumAbs += abs(difference)
            }
            count += min(reference.count, quantized.count)
        }
        var sqnr: Double { noise == 0 ? .infinity : signal == 0 ? -.infinity : 10 * log10(signal / noise) }
        var cosine: Double { signal == 0 || quantizedPower == 0 ? (noise == 0 ? 1 : 0) : dot / (signal * quantizedPower).squareRoot() }
    }

    /// Compares the full-integer model of `conversion` with its float model on the first `limit`
    /// samples, tensor by tensor through `conversion.quantizedTensors`. Errors name `file` (the
    /// model written).
    public static func compare(_ conversion: TFLiteConverter.Result, file: String, samples: CalibrationSamples, limit: Int = 32,
                               progress: ((Int, Int) -> Void)? = nil) throws -> QuantizationReport {
        try FileError.naming(file) {
            try compare(conversion, samples: samples, limit: limit, progress: progress)
        }
    }

    private static func compare(_ conversion: TFLiteConverter.Result, samples: CalibrationSamples, limit: Int,
                                progress: ((Int, Int) -> Void)?) throws -> QuantizationReport {
        guard let floatFile = conversion.floatModel else { throw RunError("only a full-integer conversion has a float model to compare with") }
        let quantizedFile = try TFLiteFile(data: Data(conversion.bytes), path: "quantized model")
        let floatExecutor = try TFLiteExecutor(file: floatFile)
        let quantizedExecutor = try TFLiteExecutor(file: quantizedFile)
        let count = min(limit, samples.count)
        let graph = quantizedFile.subgraphs[0]
        let floatTensors = floatFile.subgraphs[0].tensors

        // Quantized tensor index → the float tensor it approximates; and the op writing it.
        var compared: [Int: QuantizedTensorPair] = [:]
        for pair in conversion.quantizedTensors { compared[pair.quantizedTensor] = pair }
        let referenced = Set(conversion.quantizedTensors.map(\.floatTensor))
        var writer: [Int: TFLiteFile.OperatorInfo] = [:]
        for op in graph.operators { for output in op.outputs { writer[output] = op } }

        var accumulators: [Int: Accumulator] = [:]  // by quantized tensor index
        for start in 0..<count {
            let rows = start..<(start + 1)
            var reference: [Int: [Float]] = [:]
            _ = try floatExecutor.run(try samples.values(for: floatExecutor, rows: rows), batchSize: 1) { index, _, value, _ in
                if referenced.contains(index) { reference[index] = value.values }
            }
            _ = try quantizedExecutor.run(try samples.values(for: quantizedExecutor, rows: rows), batchSize: 1) { index, _, value, _ in
                guard let pair = compared[index], let values = reference[pair.floatTensor] else { return }
                accumulators[index, default: Accumulator()].add(values, value.values)
            }
            progress?(start + 1, count)
        }

        var sqnrByTensor: [Int: Double] = [:]
        for (index, accumulator) in accumulators { sqnrByTensor[index] = accumulator.sqnr }
        var rows: [Row] = []
        for (index, pair) in compared {
            guard let accumulator = accumulators[index] else { continue }
            let tensor = graph.tensors[index]
            let op = writer[index]
            let inputs = (op?.inputs ?? []).compactMap { input -> Double? in
                guard input >= 0 else { return nil }
                if let sqnr = sqnrByTensor[input] { return sqnr }
                // A DEQUANTIZE/QUANTIZE copy in between: follow it to its source.
                if let source = writer[input], ["QUANTIZE", "DEQUANTIZE"].contains(source.name), let first = source.inputs.first {
                    return sqnrByTensor[first]
                }
                return nil
            }
            let best = inputs.max()
            let lost = best.map { $0 == .infinity ? (accumulator.sqnr == .infinity ? 0 : 99) : max(0, $0 - accumulator.sqnr) } ?? 0
            rows.append(Row(tensor: floatTensors[pair.floatTensor].name, layer: pair.layer, op: op?.name ?? "input",
                            scale: tensor.quantization?.scales.first ?? 0, zeroPoint: tensor.quantization?.zeroPoints.first ?? 0,
                            sqnr: accumulator.sqnr, lost: lost, maxAbsError: accumulator.maxAbs,
                            meanAbsError: accumulator.count > 0 ? accumulator.sumAbs / Double(accumulator.count) : 0,
                            cosine: accumulator.cosine))
        }
        rows.sort { $0.sqnr != $1.sqnr ? $0.sqnr < $1.sqnr : $0.tensor < $1.tensor }
        return QuantizationReport(rows: rows, samples: count)
    }

    // MARK: rendering

    /// The table, worst SQNR first (`limit` rows), and the --keep-float suggestion.
    public func text(limit: Int = 20) -> String {
        func decibels(_ value: Double) -> String {
            value == .infinity ? "inf" : value == -.infinity ? "-inf" : fixed(value, 1)
        }
        var table = [["tensor", "op", "scale", "SQNR dB", "lost dB", "max |Δ|", "mean |Δ|", "cosine"]]
        for row in rows.prefix(limit) {
            table.append([row.tensor, row.op, String(format: "%.4g", row.scale), decibels(row.sqnr), fixed(row.lost, 1),
                          String(format: "%.3g", row.maxAbsError), String(format: "%.3g", row.meanAbsError), fixed(row.cosine, 5)])
        }
        var lines = ["quantization error on \(samples) calibration sample\(samples == 1 ? "" : "s"): float32 model vs simulated int8, "
                     + "per tensor, worst SQNR first (errors accumulate; 'lost' is the SQNR this op loses)"]
        lines += renderTable(table, rightAligned: [2, 3, 4, 5, 6, 7]).map { "  " + $0 }
        if rows.count > limit { lines.append("  … \(rows.count - limit) more") }
        let suggestion = suggestedKeepFloat
        lines.append(suggestion.isEmpty ? "no op loses more than 0.5 dB on its own"
                     : "most precision is lost in \(suggestion.joined(separator: ", ")); to keep them float32: --keep-float \(suggestion.joined(separator: " "))")
        return lines.joined(separator: "\n")
    }

    /// The `--json` form (keys in docs/json.md): samples, rows worst first (infinite SQNR as null),
    /// suggested_keep_float.
    public var json: JSON {
        func number(_ value: Double) -> JSON { value.isFinite ? .number(value) : .null }
        let rows = rows.map { row -> JSON in
            .object(["tensor": .string(row.tensor), "layer": .string(row.layer), "op": .string(row.op),
                     "scale": number(Double(row.scale)), "zero_point": .number(Double(row.zeroPoint)), "sqnr_db": number(row.sqnr),
                     "lost_db": number(row.lost), "max_abs_error": number(row.maxAbsError),
                     "mean_abs_error": number(row.meanAbsError), "cosine": number(row.cosine)])
        }
        return .object(["samples": .number(Double(samples)), "rows": .array(rows),
                        "suggested_keep_float": .array(suggestedKeepFloat.map(JSON.string))])
    }
}
