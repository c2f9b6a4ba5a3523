import Files
import Foundation
import GraphIR
import HTML
import Interpreter
import Kernels
import NumPy
import Keras
import ModelFile
import Passes
import TFLite
import TFLiteInterpreter
import TFLiteReports

/// A model file ready to run on keraslite's reference interpreters: a Keras file (.h5/.keras) on
/// the graph-IR interpreter after the standard passes, a .tflite on the TFLite executor. Inputs go
/// in and outputs come out as real numbers, so any two model files can be compared.
public struct ReferenceModel {
    public enum Engine {
        case keras(Interpreter)
        case tflite(TFLiteExecutor)
    }

    public let path: String
    public let engine: Engine
    /// Input and output names: Keras input/output layer names; for a .tflite the signature names
    /// (else tensor names).
    public let inputNames: [String]
    public let outputNames: [String]

    /// Loads `path` (a .tflite by its `TFL3` identifier, else a Keras file); `passes` runs the
    /// standard pass pipeline on a Keras graph first.
    public static func load(path: String, config: String? = nil, passes: Bool = true) throws -> ReferenceModel {
        if ModelFile.kind(path: path) == .tflite {
            let executor: TFLiteExecutor
            do { executor = try TFLiteExecutor(path: path) } catch { throw FileError.inFile(file: path, underlying: error) }
            return ReferenceModel(path: path, engine: .tflite(executor), inputNames: executor.inputs.map(\.name),
                                  outputNames: executor.outputs.map(\.name))
        }
        let keras = try ModelFile.openKeras(path: path, config: config)
        let interpreter: Interpreter
        do {
            if passes { try PassRegistry.run(PassRegistry.standardPipeline, on: keras.graph) }
            interpreter = try Interpreter(graph: keras.graph)
        } catch {
            throw FileError.inFile(file: path, underlying: error)
        }
        return ReferenceModel(path: path, engine: .keras(interpreter), inputNames: interpreter.inputNames,
                              outputNames: interpreter.outputNames)
    }

    public var isTFLite: Bool { if case .tflite = engine { return true } else { return false } }

    /// The arrays of an input file (.npy, or .npz with one array per input) or of a directory of
    /// such files (stacked along the batch axis, in name order) matched to the model's inputs by
    /// `SampleFiles`: by input name, for a .tflite also by tensor name, then `arr_<position>`, and
    /// for a one-input model any single array. Integer arrays for a quantized .tflite input are
    /// taken as stored values (int8 data for an int8 input) and dequantized; float arrays are real
    /// values (quantized onto the input's grid when it runs). An array lacking the batch axis
    /// counts as one sample.
    public func loadInputs(_ input: String) throws -> [TensorValue] {
        let alternatives = inputNames.indices.map(alternativeName)
        var parts: [[TensorValue]] = []
        do {
            for file in try SampleFiles.paths(input) {
                let arrays = try SampleFiles.read(file, inputNames: inputNames, alternativeNames: alternatives)
                parts.append(try arrays.enumerated().map { position, array in
                    var value = array.tensor
                    if value.rank == expectedRank(position) - 1 { value = try value.reshaped([1] + value.shape) }
                    if case .tflite(let executor) = engine, array.hasIntegerType {
                        value = try executor.inputs[position].dequantize(value)
                    }
                    return value
                })
            }
            guard parts.count > 1 else { return parts[0] }
            return try inputNames.indices.map { position in try TensorValue.concatenatingRows(parts.map { $0[position] }) }
        } catch NPYError.samples(let file, let problem) {
            throw FileError.inFile(file: file, underlying: RunError(problem))
        } catch {
            throw FileError.inFile(file: input, underlying: error)
        }
    }

    /// A .tflite input's tensor name, when it differs from its signature name.
    private func alternativeName(_ position: Int) -> String? {
        guard case .tflite(let executor) = engine else { return nil }
        let port = executor.inputs[position]
        return port.tensorName == port.name ? nil : port.tensorName
    }

    private func expectedRank(_ position: Int) -> Int {
        switch engine {
        case .keras(let interpreter): return interpreter.graph.inputs[position].shape.count
        case .tflite(let executor): return executor.inputs[position].shape.count
        }
    }

    /// Runs the model on one value per input (model input order) in batches and returns the
    /// outputs in `outputNames` order, as real numbers.
    public func run(_ inputs: [TensorValue], batchSize: Int) throws -> [TensorValue] {
        do {
            switch engine {
            case .keras(let interpreter):
                let outputs = try interpreter.run(Dictionary(uniqueKeysWithValues: zip(inputNames, inputs)), batchSize: batchSize)
                return outputNames.map { outputs[$0]! }
            case .tflite(let executor):
                return try executor.run(inputs, batchSize: batchSize)
            }
        } catch {
            throw FileError.inFile(file: path, underlying: error)
        }
    }

    /// The outputs as they are written to .npy: real float32 values, except that a .tflite's
    /// quantized outputs are quantized back to their stored type (int8 stays int8) unless
    /// `dequantize`, and integer or bool outputs keep their type.
    public func stored(_ outputs: [TensorValue], dequantize: Bool) throws -> [(name: String, value: TensorValue, type: NPYElementType)] {
        guard case .tflite(let executor) = engine else { return zip(outputNames, outputs).map { ($0, $1, .float32) } }
        return try zip(executor.outputs, outputs).map { port, value in
            if port.isQuantized {
                return dequantize ? (port.name, value, .float32) : (port.name, try port.quantize(value), port.storedElementType)
            }
            return (port.name, value, port.storedElementType)
        }
    }
}
