import Kernels
import NumPy
import Files
import Foundation
import Interpreter
import TFLiteInterpreter

/// What `keraslite run` writes and prints: the outputs as .npy/.npz and a one-line summary.
extension ReferenceModel {
    /// Outputs as they are written: name, values and stored element type (`stored(_:dequantize:)`).
    public typealias StoredOutputs = [(name: String, value: TensorValue, type: NPYElementType)]

    /// Throws unless a file at `path` can hold the outputs: an .npy holds one, an .npz any number.
    public func checkOutputFile(_ path: String) throws {
        guard path.hasSuffix(".npy"), outputNames.count != 1 else { return }
        throw FileError.inFile(file: self.path, underlying: RunError(
            "the model has \(outputNames.count) outputs (\(outputNames.joined(separator: ", "))); write them to an .npz"))
    }

    /// The bytes of `path`: an .npy of the one output, or an .npz of arrays named after the outputs.
    public static func encode(_ stored: StoredOutputs, for path: String) throws -> [UInt8] {
        path.hasSuffix(".npy") ? NPY.encode(stored[0].value, as: stored[0].type) : try NPZ.encode(stored)
    }

    /// The samples each interpreter run took: `batchSize` (at most `samples`), except that a
    /// .tflite with a fixed batch runs its own.
    public func batchUsed(samples: Int, batchSize: Int) -> Int {
        if case .tflite(let executor) = engine, !executor.inputs.allSatisfy(\.hasDynamicBatch) {
            return executor.inputs.first?.shape.first ?? 1
        }
        return min(batchSize, max(samples, 1))
    }

    /// "ran FILE on N samples (batches of B): out [shape] type, …; T s (load L s, run R s, M ms/sample)[; wrote OUT]".
    public func summary(samples: Int, batchSize: Int, stored: StoredOutputs,
                        seconds: (total: Double, load: Double, run: Double), wrote output: String?) -> String {
        let described = stored.map { entry in
            "\(entry.name) [\(entry.value.shape.map(String.init).joined(separator: ","))]" + (entry.type == .float32 ? "" : " \(entry.type)")
        }
        return "ran \(path) on \(samples) sample\(samples == 1 ? "" : "s") (batches of \(batchUsed(samples: samples, batchSize: batchSize))): "
            + described.joined(separator: ", ")
            + String(format: "; %.2f s (load %.2f s, run %.2f s, %.1f ms/sample)", seconds.total, seconds.load,
                     seconds.run, samples > 0 ? 1000 * seconds.run / Double(samples) : 0)
            + (output.map { "; wrote \($0)" } ?? "")
    }
}
