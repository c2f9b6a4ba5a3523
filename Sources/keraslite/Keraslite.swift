import Analysis
import ArgumentParser
import Files
import Foundation
import JSON
import Passes
import ModelFile
import Reports
import TFLiteReports

/// `keraslite`: read Keras models without TensorFlow; inspect them, analyse their sparsity.
struct Keraslite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keraslite",
        abstract: "Make Keras models ready for small devices, without TensorFlow.",
        version: "0.1.0",
        subcommands: [Inspect.self, Sparsity.self, Convert.self, Prune.self, Diff.self, GraphCommand.self, Run.self, Verify.self])
}

/// Options every command that reads a Keras file shares.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A model file: Keras .h5/.hdf5 (Keras 2.0 – 3.x) or .keras (Keras 3); inspect also reads .tflite.")
    var file: String

    @Option(name: .long, help: "Architecture JSON (model.to_json()) for a weights-only .h5 file.")
    var config: String?

}

/// The architecture JSONs of `diff` and `verify`, one per model file.
struct ConfigPairOptions: ParsableArguments {
    @Option(help: "Architecture JSON for A when A is a weights-only .h5.")
    var configA: String?

    @Option(help: "Architecture JSON for B when B is a weights-only .h5.")
    var configB: String?
}

/// A usage error when `output` (the value of `option`) is one of `inputs`: keraslite never overwrites its input.
func refuseOverwriting(_ option: String, _ output: String?, _ inputs: [(role: String, path: String?)]) throws {
    guard let output, let problem = InputProtection.violation(option, output, inputs: inputs) else { return }
    throw ValidationError(problem)
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
        try refuseOverwriting("--html", html, [("the input file", model.file)])
    }

    func run() throws {
        let inspection = try ModelInspection(path: model.file, config: model.config, countZeros: !metadataOnly)
        if let html { try AtomicFile.write(Array(try inspection.html().utf8), to: html) }
        print(json ? inspection.json.serialized() : inspection.text(), terminator: json ? "\n" : "")
    }
}

struct Sparsity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count zero and near-zero weights, draw their magnitude histogram, estimate what pruning saves; "
            + "with --sensitivity, measure what pruning each layer costs and plan per-layer sparsities.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Magnitudes at or below this count as near zero.")
    var threshold: Float = 1e-3

    @Flag(help: "Print one JSON object (keys in docs/json.md).")
    var json = false

    @Flag(help: ArgumentHelp("Prune each conv/depthwise/transpose/dense layer alone at each of --levels, run the model on --input "
                             + "and report the output error per layer and level (reference interpreter), with a per-layer plan for --target (Keras files)."))
    var sensitivity = false

    @Option(help: ArgumentHelp("--sensitivity: samples the model runs on, preprocessed as its input expects: a .npy (N × input shape), "
                               + "an .npz (one array per input name) or a directory of them.", valueName: "x.npy"))
    var input: String?

    @Option(help: ArgumentHelp("--sensitivity: the sparsities each layer is pruned to (default 0.25,0.5,0.75,0.9).", valueName: "l1,l2,…"))
    var levels: String?

    @Option(help: "--sensitivity: the fraction of the selected kernels' weights the plan zeroes, in [0, 1) (default 0.5).")
    var target: Double?

    @Option(help: ArgumentHelp("--sensitivity: write the plan (layer → sparsity) for `keraslite prune --plan` to this file, atomically.",
                               valueName: "plan.json"))
    var planOut: String?

    @Option(help: "--sensitivity: kernels with fewer weights are left alone, as in prune (default 1024).")
    var minParams: Int?

    @Option(parsing: .upToNextOption, help: "--sensitivity: Keras layers to leave alone.")
    var exclude: [String] = []

    @Flag(help: "--sensitivity: leave the first convolution alone.")
    var skipFirstConv = false

    @Flag(help: "--sensitivity: leave the layers that write model outputs alone.")
    var skipOutputLayer = false

    @Option(help: "--sensitivity: samples per interpreter run (default 32).")
    var batchSize: Int?

    @Flag(help: "--sensitivity: measure channel pruning (`prune --channels`): each channel group with each --levels fraction of its channels removed; the plan is for `prune --channels S --plan`.")
    var channels = false

    @Option(help: ArgumentHelp("--sensitivity --channels: how channels are ranked, as in prune.", valueName: "l1|l2|bn-gamma"))
    var criterion: ChannelPruningOptions.Criterion = .l1

    func validate() throws {
        guard threshold >= 0, threshold.isFinite else {
            throw ValidationError("--threshold must be a finite number ≥ 0, got \(threshold)")
        }
        guard sensitivity else {
            let given = [("--input", input != nil), ("--levels", levels != nil), ("--target", target != nil), ("--plan-out", planOut != nil),
                         ("--min-params", minParams != nil), ("--exclude", !exclude.isEmpty), ("--skip-first-conv", skipFirstConv),
                         ("--skip-output-layer", skipOutputLayer), ("--batch-size", batchSize != nil), ("--channels", channels),
                         ("--criterion", criterion != .l1)]
            if let option = given.first(where: \.1) { throw ValidationError("\(option.0) goes with --sensitivity") }
            return
        }
        guard input != nil else {
            throw ValidationError("--sensitivity needs --input samples (a .npy, .npz or directory of them) to run the model on")
        }
        if ModelFile.kind(path: model.file) == .tflite {
            throw ValidationError("--sensitivity prunes Keras weights; \(model.file) is a .tflite file (give the .h5/.keras it came from)")
        }
        do { _ = try SensitivityReport.Options.levels(parsing: levels) } catch { throw ValidationError("\(error)") }
        if let target, !(target >= 0 && target < 1) { throw ValidationError("--target must be in [0, 1), got \(target)") }
        if let minParams, minParams < 0 { throw ValidationError("--min-params must be ≥ 0, got \(minParams)") }
        if channels, minParams != nil || skipFirstConv || skipOutputLayer {
            throw ValidationError("--min-params, --skip-first-conv and --skip-output-layer select kernels for magnitude pruning, not --channels")
        }
        if !channels, criterion != .l1 { throw ValidationError("--criterion goes with --channels") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        try refuseOverwriting("--plan-out", planOut, [("the model file", model.file), ("--config", model.config), ("--input", input)])
    }

    func run() throws {
        if sensitivity { return try runSensitivity() }
        let report = try SparsityReport(path: model.file, config: model.config, threshold: threshold)
        print(json ? report.json.serialized() : report.text(), terminator: json ? "\n" : "")
    }
}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the model as keraslite's graph IR (the stable text form).")

    @OptionGroup var model: ModelOptions

    func run() throws {
        print(try ModelFile.openKeras(path: model.file, config: model.config).graph.printed(), terminator: "")
    }
}
