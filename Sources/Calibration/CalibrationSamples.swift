import Foundation
import GraphIR
import Interpreter
import Kernels
import NumPy
import TFLiteInterpreter

/// Why calibration data cannot be used: one line naming the file and the problem.
public struct CalibrationError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var problem: String
    public var description: String { "\(file): \(problem)" }
}

/// Calibration samples for every model input, stacked along the batch axis: what `--calibration`
/// names, read and checked against the model's inputs before anything runs.
public struct CalibrationSamples: Sendable {
    /// Input name → N samples.
    public var inputs: [String: TensorValue]
    public var count: Int

    /// Reads a `.npy` (N × the input shape, for a one-input model), an `.npz` (one array per
    /// input name; `arr_0`, `arr_1`, … by position) or a directory of such files (sorted by name,
    /// concatenated). An array without the batch axis is one sample. Integers are read by value.
    public static func load(path: String, inputs: [Tensor]) throws -> CalibrationSamples {
        let files: [String]
        do { files = try SampleFiles.paths(path) } catch NPYError.samples(let file, let problem) {
            throw CalibrationError(file: file, problem: problem)
        }
        var parts: [String: [TensorValue]] = [:]
        for file in files {
            for (name, value) in try loadFile(file, inputs: inputs) { parts[name, default: []].append(value) }
        }
        var stacked: [String: TensorValue] = [:]
        for (name, values) in parts {
            stacked[name] = values.count == 1 ? values[0] : try TensorValue.concatenatingRows(values)
        }
        let counts = Set(stacked.values.map { $0.shape[0] })
        guard counts.count == 1, let count = counts.first else {
            let described = inputs.map { "\($0.name): \(stacked[$0.name]?.shape[0] ?? 0)" }.joined(separator: ", ")
            throw CalibrationError(file: path, problem: "the inputs have different numbers of samples (\(described))")
        }
        guard count > 0 else { throw CalibrationError(file: path, problem: "holds no samples") }
        return CalibrationSamples(inputs: stacked, count: count)
    }

    /// Rows `rows` of the samples in the order of `executor`'s inputs (matched by name; a
    /// one-input model takes its one array under any name).
    public func values(for executor: TFLiteExecutor, rows: Range<Int>) throws -> [TensorValue] {
        try executor.inputs.map { port in
            guard let value = inputs[port.name] ?? (inputs.count == 1 ? inputs.values.first : nil) else {
                throw CalibrationError(file: "calibration samples", problem: "no samples for the model input '\(port.name)' "
                                       + "(the samples hold \(inputs.keys.sorted().joined(separator: ", ")))")
            }
            return try value.rows(rows)
        }
    }

    private static func loadFile(_ file: String, inputs: [Tensor]) throws -> [String: TensorValue] {
        let names = inputs.map(\.name)
        var assigned: [String: NPYArray] = [:]
        do {
            for (name, array) in zip(names, try SampleFiles.read(file, inputNames: names)) { assigned[name] = array }
        } catch NPYError.samples(let file, let problem) {
            throw CalibrationError(file: file, problem: problem)
        }
        var values: [String: TensorValue] = [:]
        for input in inputs {
            let array = assigned[input.name]!
            var shape = array.shape
            if shape.count == input.shape.count - 1 { shape = [1] + shape }
            let fits = shape.count == input.shape.count
                && zip(shape, input.shape).dropFirst().allSatisfy { actual, expected in expected == nil || expected == actual }
            guard fits else {
                let expected = "N × " + input.shape.dropFirst().map { $0.map(String.init) ?? "?" }.joined(separator: " × ")
                throw CalibrationError(file: file, problem: "array of shape [\(array.shape.map(String.init).joined(separator: ", "))] "
                                       + "does not fit input '\(input.name)' \(input.shape.text): expected \(expected)")
            }
            if let bad = array.values.first(where: { !$0.isFinite }) {
                throw CalibrationError(file: file, problem: "input '\(input.name)' holds the non-finite value \(bad)")
            }
            values[input.name] = try TensorValue(shape: shape, values: array.values)
        }
        return values
    }
}
