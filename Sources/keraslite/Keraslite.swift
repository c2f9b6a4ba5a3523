import ArgumentParser
import Foundation
import Keras
import Reports
import TFLite

/// `keraslite`: read Keras models without TensorFlow; inspect them, analyse their sparsity.
struct Keraslite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keraslite",
        abstract: "Make Keras models ready for small devices, without TensorFlow.",
        version: "0.1.0",
        subcommands: [Inspect.self, Sparsity.self, Convert.self, Diff.self, GraphCommand.self, Run.self, Verify.self])
}

/// Options every command that reads a Keras file shares.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A model file: Keras .h5/.hdf5 (Keras 2.0 – 3.x) or .keras (Keras 3); inspect also reads .tflite.")
    var file: String

    @Option(name: .long, help: "Architecture JSON (model.to_json()) for a weights-only .h5 file.")
    var config: String?

    func load() throws -> KerasModel { try KerasFile.load(path: file, configPath: config) }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's layers, shapes, parameters, weight sizes and zeros.")

    @OptionGroup var model: ModelOptions

    @Flag(help: "Print one JSON object (keys in docs/json.md).")
    var json = false

    @Flag(help: "Read only the config and dataset headers, not the weight values (no zero counts).")
    var metadataOnly = false

    @Option(help: ArgumentHelp(
        "Also write a self-contained HTML page (layer table, size bars, sparsity histogram, op types, graph; no network) "
            + "to this file, atomically and never over the input; the usual report still goes to stdout.",
        valueName: "report.html"))
    var html: String?

    func validate() throws {
        guard let html else { return }
        let input = URL(fileURLWithPath: model.file).resolvingSymlinksInPath().standardized.path
        let target = URL(fileURLWithPath: html).resolvingSymlinksInPath().standardized.path
        guard input != target else { throw ValidationError("--html is the input file \(model.file); keraslite never overwrites its input") }
    }

    func run() throws {
        if TFLiteFile.hasIdentifier(path: model.file) {
            let file: TFLiteFile
            do { file = try TFLiteFile(path: model.file) } catch { throw FileFailure(file: model.file, underlying: error) }
            let report = TFLiteInspectReport(file: file)
            if let html {
                let sparsity: SparsityReport?
                do { sparsity = metadataOnly ? nil : try SparsityReport(tflite: file, threshold: HTMLReport.defaultThreshold) }
                catch { throw FileFailure(file: model.file, underlying: error) }
                try AtomicFile.write(Array(HTMLReport.inspect(tflite: report, sparsity: sparsity).utf8), to: html)
            }
            print(json ? report.json.serialized() : report.text(), terminator: json ? "\n" : "")
            return
        }
        let keras = try model.load()
        let report = try InspectReport(model: keras, countZeros: !metadataOnly)
        if let html {
            let sparsity = metadataOnly ? nil : try SparsityReport(model: keras, threshold: HTMLReport.defaultThreshold)
            try AtomicFile.write(Array(HTMLReport.inspect(keras: keras, report: report, sparsity: sparsity).utf8), to: html)
        }
        print(json ? report.json.serialized() : report.text(), terminator: json ? "\n" : "")
    }
}

struct Sparsity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count zero and near-zero weights, draw their magnitude histogram, estimate what pruning saves.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Magnitudes at or below this count as near zero.")
    var threshold: Float = 1e-3

    @Flag(help: "Print one JSON object (keys in docs/json.md).")
    var json = false

    func validate() throws {
        guard threshold >= 0, threshold.isFinite else {
            throw ValidationError("--threshold must be a finite number ≥ 0, got \(threshold)")
        }
    }

    func run() throws {
        let report: SparsityReport
        if TFLiteFile.hasIdentifier(path: model.file) {
            do { report = try SparsityReport(tflite: try TFLiteFile(path: model.file), threshold: threshold) }
            catch { throw FileFailure(file: model.file, underlying: error) }
        } else {
            report = try SparsityReport(model: try model.load(), threshold: threshold)
        }
        print(json ? report.json.serialized() : report.text(), terminator: json ? "\n" : "")
    }
}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the model as keraslite's graph IR (the stable text form).")

    @OptionGroup var model: ModelOptions

    func run() throws {
        print(try model.load().graph.printed(), terminator: "")
    }
}
