import ArgumentParser
import Foundation
import GraphIR
import Interpreter
import Keras
import Passes
import TFLite

/// `keraslite run MODEL --input x.npy -o y.npy`: the reference interpreter on a model file.
///
/// The graph goes through the standard pass pipeline first (remove-identity, fold-pad,
/// fold-batchnorm, fuse-activation), so the interpreter runs what `convert` lowers; `--no-passes`
/// runs the graph exactly as the Keras frontend built it.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on keraslite's float32 reference interpreter and write its outputs as .npy/.npz.")

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp(
        "Input samples: a .npy holding N × the input shape (float32/64, integers; C order) for a one-input model, "
            + "or an .npz with one array per input name.", valueName: "x.npy"))
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the outputs here (atomically): .npy for a one-output model, .npz (arrays named after the outputs) for any.",
        valueName: "y.npy"))
    var output: String?

    @Option(help: "Samples per interpreter run: bounds memory; outputs agree across sizes up to float rounding.")
    var batchSize: Int = 8

    @Flag(help: "Run the graph as the Keras frontend built it, without the standard passes.")
    var noPasses = false

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        guard let output else { return }
        guard output.hasSuffix(".npy") || output.hasSuffix(".npz") else {
            throw ValidationError("--output must end in .npy or .npz, got \(output)")
        }
        let target = canonicalPath(output)
        for (option, path) in [("the model file", model.file), ("--input", input), ("--config", model.config)] {
            if let path, canonicalPath(path) == target {
                throw ValidationError("--output is \(option) \(path); keraslite never overwrites its input")
            }
        }
    }

    func run() throws {
        let start = DispatchTime.now()
        if TFLiteFile.hasIdentifier(path: model.file) {
            throw FileFailure(file: model.file, underlying: RunError(
                "running .tflite files is not supported yet; run the Keras model it came from"))
        }
        let keras = try model.load()
        let interpreter: Interpreter
        do {
            if !noPasses { try PassRegistry.run(PassRegistry.standardPipeline, on: keras.graph) }
            interpreter = try Interpreter(graph: keras.graph)
        } catch {
            throw FileFailure(file: model.file, underlying: error)
        }
        let outputNames = interpreter.outputNames
        if let output, output.hasSuffix(".npy"), outputNames.count != 1 {
            throw FileFailure(file: model.file, underlying: RunError(
                "the model has \(outputNames.count) outputs (\(outputNames.joined(separator: ", "))); write them to an .npz"))
        }
        let inputs = try loadInputs(for: interpreter)
        let samples = inputs.values.first?.shape.first ?? 0
        let loaded = DispatchTime.now()
        let outputs: [String: TensorValue]
        do {
            outputs = try interpreter.run(inputs, batchSize: batchSize)
        } catch {
            throw FileFailure(file: model.file, underlying: error)
        }
        let ran = DispatchTime.now()
        if let output {
            let bytes = output.hasSuffix(".npy")
                ? NPY.encode(outputs[outputNames[0]]!)
                : try NPZ.encode(outputNames.map { ($0, outputs[$0]!) })
            try AtomicFile.write(bytes, to: output)
        }
        guard !quiet else { return }
        let described = outputNames.map { name in "\(name) [\(outputs[name]!.shape.map(String.init).joined(separator: ","))]" }
        print("ran \(model.file) on \(samples) sample\(samples == 1 ? "" : "s") (batches of \(min(batchSize, max(samples, 1)))): "
              + described.joined(separator: ", ")
              + String(format: "; %.2f s (load %.2f s, run %.2f s, %.1f ms/sample)", seconds(start, ran), seconds(start, loaded),
                       seconds(loaded, ran), samples > 0 ? 1000 * seconds(loaded, ran) / Double(samples) : 0)
              + (output.map { "; wrote \($0)" } ?? ""))
    }

    /// The --input arrays by model input name. A one-input model takes a .npy or a one-array
    /// .npz under any name; an array lacking the batch axis counts as one sample.
    private func loadInputs(for interpreter: Interpreter) throws -> [String: TensorValue] {
        let names = interpreter.inputNames
        var arrays: [String: NPYArray] = [:]
        do {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw RunError(isDirectory.boolValue ? "is a directory" : "no such file")
            }
            if isZip(input) {
                let stored = try NPZ.read(path: input)
                if names.count == 1, stored.count == 1 {
                    arrays[names[0]] = stored[0].array
                } else {
                    let byName = Dictionary(stored.map { ($0.name, $0.array) }, uniquingKeysWith: { first, _ in first })
                    for name in names {
                        guard let array = byName[name] else {
                            throw RunError("no array '\(name)' (the archive holds \(stored.map(\.name).joined(separator: ", ")); "
                                           + "the model's inputs are \(names.joined(separator: ", ")))")
                        }
                        arrays[name] = array
                    }
                }
            } else {
                guard names.count == 1 else {
                    throw RunError("the model has \(names.count) inputs (\(names.joined(separator: ", "))); "
                                   + "pass an .npz with one array per input name")
                }
                arrays[names[0]] = try NPY.read(path: input)
            }
        } catch {
            throw FileFailure(file: input, underlying: error)
        }
        var values: [String: TensorValue] = [:]
        for (tensor, name) in zip(interpreter.graph.inputs, names) {
            var value = arrays[name]!.tensor
            if value.rank == tensor.shape.count - 1 {
                value = try value.reshaped([1] + value.shape)
            }
            values[name] = value
        }
        return values
    }
}

/// A `run` problem that is not an interpreter or file-format error.
struct RunError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func isZip(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return path.hasSuffix(".npz") }
    defer { try? handle.close() }
    return (try? handle.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
}

private func canonicalPath(_ path: String) -> String {
    URL(fileURLWithPath: path).resolvingSymlinksInPath().standardized.path
}

private func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
    Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e9
}
