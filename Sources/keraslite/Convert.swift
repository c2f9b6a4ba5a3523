import ArgumentParser
import Foundation
import Keras
import TFLite

extension QuantizationMode: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Keras model to a float32 .tflite that LiteRT runs.")

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "The .tflite file to write (atomically; never the input).")
    var output: String

    @Option(help: "Batch size written into the model; 0 keeps it dynamic.")
    var batch: Int = 1

    @Option(help: ArgumentHelp("How weights are stored: none (float32), float16 (half size, DEQUANTIZE at start-up), dynamic (int8 weights, float activations, hybrid kernels).",
                               valueName: "none|float16|dynamic"))
    var quantize: QuantizationMode = .none

    @Option(help: "dynamic: weights with fewer elements stay float32 (TensorFlow's default).")
    var minElements = 1024

    @Option(parsing: .upToNextOption, help: "Keras layers whose weights stay float32 in any --quantize mode.")
    var keepFloat: [String] = []

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard batch >= 0 else { throw ValidationError("--batch must be 0 (dynamic) or a positive size, got \(batch)") }
        guard minElements >= 0 else { throw ValidationError("--min-elements must be ≥ 0, got \(minElements)") }
        let input = URL(fileURLWithPath: model.file).resolvingSymlinksInPath().standardized.path
        let target = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardized.path
        guard input != target else { throw ValidationError("--output is the input file \(model.file); keraslite never overwrites its input") }
    }

    func run() throws {
        let start = DispatchTime.now()
        let keras = try model.load()
        let result: TFLiteConverter.Result
        do {
            let quantization = QuantizationOptions(mode: quantize, minElements: minElements, keepFloat: Set(keepFloat))
            result = try TFLiteConverter.convert(keras.graph, options: .init(batch: batch == 0 ? nil : batch, quantization: quantization))
        } catch {
            throw FileFailure(file: model.file, underlying: error)
        }
        try AtomicFile.write(result.bytes, to: output)
        guard !quiet else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let ops = result.operatorCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("wrote \(output): \(result.operatorCount) ops (\(ops)), \(result.tensorCount) tensors, "
              + "\(formatSize(result.bytes.count)), \(String(format: "%.2f", seconds)) s")
    }
}

/// An error from a library module that does not know the file it came from.
struct FileFailure: Error, CustomStringConvertible {
    var file: String
    var underlying: Error
    var description: String { "\(file): \(underlying)" }
}

/// Writes a file atomically: a temporary file in the same directory, then rename(2).
enum AtomicFile {
    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "\(path): cannot write: \(reason)" }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WriteError(path: path, reason: "directory \(directory.path) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw WriteError(path: path, reason: "is a directory")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw WriteError(path: path, reason: "cannot create a file in \(directory.path): \(String(cString: strerror(errno)))")
        }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 { return String(cString: strerror(errno)) }
                written += result
            }
            return fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
        }
        close(descriptor)
        if let failure {
            try? FileManager.default.removeItem(at: temporary)
            throw WriteError(path: path, reason: failure)
        }
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw WriteError(path: path, reason: reason)
        }
    }
}

func formatSize(_ bytes: Int) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    if bytes < 1 << 20 { return String(format: "%.1f KB", Double(bytes) / 1024) }
    return String(format: "%.1f MB", Double(bytes) / 1048576)
}
