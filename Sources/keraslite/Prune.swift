import Analysis
import ArgumentParser
import Conversion
import Foundation
import JSON
import Passes
import Reports

/// `keraslite prune IN -o OUT`: magnitude pruning of the convolution and dense kernels, written
/// back as the same kind of Keras file (only the pruned datasets change) or straight to .tflite.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Zero the smallest weights (--sparsity/--threshold/--pattern) or remove whole channels (--channels) of conv and dense layers; write a Keras file Keras loads and fine-tunes, or a .tflite.")

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The file to write (atomically): .h5 for an .h5 input, .keras for a .keras input, or .tflite (float32; use convert --prune to quantize too).",
        valueName: "out"))
    var output: String

    @Option(help: "Fraction of each selected kernel's weights to zero (per-layer) or of all of them (global), in [0, 1).")
    var sparsity: Double?

    @Option(help: "Zero every selected weight with |w| < T instead of a target sparsity.")
    var threshold: Float?

    @Option(help: "Remove this fraction of the output channels (filters/units) of conv, separable, transposed-conv and dense layers, in [0, 1): a smaller ordinary Keras model (fine-tune it, then convert).")
    var channels: Double?

    @Option(help: ArgumentHelp("With --channels: rank channels by the l1 or l2 norm of their weights, or by |γ| of the BatchNormalization after them.",
                               valueName: "l1|l2|bn-gamma"))
    var criterion: ChannelPruningOptions.Criterion = .l1

    @Option(help: ArgumentHelp("With --channels: keep multiples of N channels per layer.", valueName: "N"))
    var roundTo = 1

    @Option(help: ArgumentHelp("per-layer: every kernel reaches --sparsity exactly; global: one ranking of all kernels' magnitudes, each divided by its kernel's RMS.",
                               valueName: "per-layer|global"))
    var scope: PruningOptions.Scope = .perLayer

    @Option(help: ArgumentHelp("unstructured, or 2:4 (2 of every 4 consecutive weights along the input-channel axis; depthwise kernels are skipped).",
                               valueName: "unstructured|2:4"))
    var pattern: PruningOptions.Pattern = .unstructured

    @Option(parsing: .upToNextOption, help: "Keras layers to leave alone.")
    var exclude: [String] = []

    @Option(help: "Kernels with fewer weights are left alone.")
    var minParams = 1024

    @Flag(help: "Leave the first convolution alone.")
    var skipFirstConv = false

    @Flag(help: "Leave the layers that write model outputs alone.")
    var skipOutputLayer = false

    @Option(help: ArgumentHelp("Per-layer sparsities from `keraslite sparsity --sensitivity --plan-out` ({\"layers\": {name: sparsity}}).", valueName: "plan.json"))
    var plan: String?

    @Flag(help: "Print the report as one JSON object (keys in docs/json.md).")
    var json = false

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        if channels != nil, sparsity != nil || threshold != nil || pattern != .unstructured {
            throw ValidationError("--channels removes channels; --sparsity/--threshold/--pattern zero weights: give one kind (convert takes --channels with --prune)")
        }
        if let channels, !(channels >= 0 && channels < 1) { throw ValidationError("--channels must be in [0, 1), got \(channels)") }
        if channels == nil, criterion != .l1 || roundTo != 1 { throw ValidationError("--criterion and --round-to go with --channels") }
        guard roundTo >= 1 else { throw ValidationError("--round-to must be ≥ 1") }
        if sparsity != nil, threshold != nil { throw ValidationError("give --sparsity or --threshold, not both") }
        if let sparsity, !(sparsity >= 0 && sparsity < 1) { throw ValidationError("--sparsity must be in [0, 1), got \(sparsity)") }
        if let threshold, !(threshold >= 0 && threshold.isFinite) { throw ValidationError("--threshold must be a finite number ≥ 0") }
        if pattern == .twoFour, sparsity.map({ $0 != 0.5 }) ?? false || threshold != nil {
            throw ValidationError("--pattern 2:4 always zeroes 50%; drop --sparsity/--threshold")
        }
        if sparsity == nil, threshold == nil, channels == nil, plan == nil, pattern == .unstructured {
            throw ValidationError("say how much to prune: --sparsity S, --threshold T, --pattern 2:4, --channels S or --plan plan.json")
        }
        guard minParams >= 0 else { throw ValidationError("--min-params must be ≥ 0") }
        let lower = output.lowercased()
        guard lower.hasSuffix(".h5") || lower.hasSuffix(".keras") || lower.hasSuffix(".tflite") else {
            throw ValidationError("--output must end in .h5, .keras or .tflite, got \(output)")
        }
        try refuseOverwriting("--output", output, [("the model file", model.file), ("--config", model.config), ("--plan", plan)])
    }

    func run() throws {
        let converter = try Converter(path: model.file, config: model.config)
        if let channels {
            var options = ChannelPruningOptions(fraction: channels, criterion: criterion, scope: scope, roundTo: roundTo, exclude: Set(exclude))
            if let plan { options.perLayer = try PruningPlan.read(path: plan) }
            let outcome = try converter.pruneChannels(options, writingTo: output)
            guard !quiet else { return }
            let report = ChannelPruneReport(pruning: outcome.pruning, before: outcome.before, after: outcome.after)
            if json {
                print(report.json.serialized())
            } else {
                print(report.text())
                for note in outcome.notes { print("note: \(note)") }
                print("wrote \(output)")
            }
            return
        }
        var options = PruningOptions(scope: scope, pattern: pattern, exclude: Set(exclude), minParams: minParams,
                                     skipFirstConv: skipFirstConv, skipOutputLayers: skipOutputLayer)
        options.target = threshold.map(PruningOptions.Target.threshold) ?? .sparsity(sparsity ?? (pattern == .twoFour ? 0.5 : 0))
        if let plan { options.perLayer = try PruningPlan.read(path: plan) }
        let (pruned, notes) = try converter.prune(options, writingTo: output)
        guard !quiet else { return }
        let report = try PruneReport(model: converter.model, pruned: pruned)
        if json {
            print(report.json.serialized())
        } else {
            print(report.text())
            for note in notes { print("note: \(note)") }
            print("wrote \(output)")
        }
    }
}
