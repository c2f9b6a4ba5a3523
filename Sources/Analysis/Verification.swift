import Kernels
import HTML
import Interpreter
import JSON

/// The comparison of two models' outputs on the same inputs.
public struct Verification {
    public struct OutputComparison {
        public var name: String
        public var nameB: String
        public var shape: [Int]
        public var maxAbsError: Double
        public var meanAbsError: Double
        /// Rows whose arg-max agree, and rows compared; nil unless the last axis has > 1 element.
        public var top1: (agree: Int, rows: Int)?
    }

    public var a: String
    public var b: String
    public var input: String
    public var samples: Int
    public var tolerance: Double?
    public var outputs: [OutputComparison]
    /// How outputs were paired ("name" or "position").
    public var pairing: String

    public var maxAbsError: Double { outputs.map(\.maxAbsError).max() ?? 0 }
    public var passed: Bool { tolerance.map { maxAbsError <= $0 } ?? true }

    public init(a modelA: ReferenceModel, outputsA: [TensorValue], b modelB: ReferenceModel, outputsB: [TensorValue],
         samples: Int, input: String, tolerance: Double?) throws {
        a = modelA.path
        b = modelB.path
        self.input = input
        self.samples = samples
        self.tolerance = tolerance
        guard modelA.outputNames.count == modelB.outputNames.count else {
            throw RunError("\(a) has \(modelA.outputNames.count) outputs (\(modelA.outputNames.joined(separator: ", "))), "
                           + "\(b) has \(modelB.outputNames.count) (\(modelB.outputNames.joined(separator: ", ")))")
        }
        // Pair by name when both sides name their outputs alike, else by position.
        let byName = Set(modelA.outputNames) == Set(modelB.outputNames) && Set(modelA.outputNames).count == modelA.outputNames.count
        pairing = byName ? "name" : "position"
        outputs = try modelA.outputNames.enumerated().map { position, name in
            let indexB = byName ? modelB.outputNames.firstIndex(of: name)! : position
            let x = outputsA[position], y = outputsB[indexB]
            guard x.shape == y.shape else {
                throw RunError("output '\(name)' has the shape \(x.shape) in \(modelA.path) but \(y.shape) in \(modelB.path)")
            }
            return Self.compare(name: name, nameB: modelB.outputNames[indexB], x, y)
        }
    }

    static func compare(name: String, nameB: String, _ x: TensorValue, _ y: TensorValue) -> OutputComparison {
        var largest = 0.0, sum = 0.0
        for (p, q) in zip(x.values, y.values) {
            let error = abs(Double(p) - Double(q))
            // A NaN on either side counts as an infinite error.
            let counted = error.isNaN ? .infinity : error
            largest = max(largest, counted)
            sum += counted
        }
        var top1: (Int, Int)?
        if let classes = x.shape.last, classes > 1 { top1 = top1Agreement(x.values, y.values, classes: classes) }
        return OutputComparison(name: name, nameB: nameB, shape: x.shape, maxAbsError: largest,
                                meanAbsError: x.count > 0 ? sum / Double(x.count) : 0, top1: top1)
    }

    private static func scientific(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3g", value) : "inf"
    }

    public func text() -> String {
        var lines = ["verify \(a) (A) against \(b) (B) on \(samples) sample\(samples == 1 ? "" : "s") from \(input)"]
        var rows = [["output", "shape", "max |A-B|", "mean |A-B|", "top-1 agreement"]]
        for output in outputs {
            let top1 = output.top1.map { String(format: "%.2f%% (%d/%d)", $0.rows > 0 ? 100 * Double($0.agree) / Double($0.rows) : 100,
                                                $0.agree, $0.rows) } ?? "-"
            rows.append([output.name + (output.nameB == output.name ? "" : " / \(output.nameB)"),
                         "[" + output.shape.map(String.init).joined(separator: ",") + "]",
                         Self.scientific(output.maxAbsError), Self.scientific(output.meanAbsError), top1])
        }
        lines += renderTable(rows, rightAligned: [2, 3, 4]).map { "  " + $0 }
        if pairing == "position" { lines.append("outputs paired by position (the names differ)") }
        if let tolerance {
            lines.append(passed ? "ok: max |A-B| \(Self.scientific(maxAbsError)) ≤ tolerance \(Self.scientific(tolerance))"
                                : "FAILED: max |A-B| \(Self.scientific(maxAbsError)) > tolerance \(Self.scientific(tolerance))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var json: JSON {
        func number(_ value: Double) -> JSON { value.isFinite ? .number(value) : .null }
        var object: [String: JSON] = [
            "a": .string(a), "b": .string(b), "input": .string(input), "samples": .number(Double(samples)),
            "pairing": .string(pairing), "max_abs_error": number(maxAbsError), "passed": .bool(passed),
            "tolerance": tolerance.map(JSON.number) ?? .null,
        ]
        object["outputs"] = .array(outputs.map { output in
            var entry: [String: JSON] = [
                "name": .string(output.name), "name_b": .string(output.nameB),
                "shape": .array(output.shape.map { .number(Double($0)) }),
                "max_abs_error": number(output.maxAbsError), "mean_abs_error": number(output.meanAbsError),
                "top1_agreement": .null, "top1_agree": .null, "top1_rows": .null,
            ]
            if let top1 = output.top1 {
                entry["top1_agreement"] = .number(top1.rows > 0 ? Double(top1.agree) / Double(top1.rows) : 1)
                entry["top1_agree"] = .number(Double(top1.agree))
                entry["top1_rows"] = .number(Double(top1.rows))
            }
            return .object(entry)
        })
        return .object(object)
    }
}
