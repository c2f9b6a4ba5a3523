import Analysis
import ArgumentParser
import Calibration
import Conversion
import Files
import Foundation
import JSON
import Passes
import TFLite

extension QuantizationMode: ExpressibleByArgument {}
extension QuantizedIOType: ExpressibleByArgument {}
extension CalibrationMethod: ExpressibleByArgument {}
extension PruningOptions.Scope: ExpressibleByArgument {}
extension PruningOptions.Pattern: ExpressibleByArgument {}
extension ChannelPruningOptions.Criterion: ExpressibleByArgument {}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a Keras model to a .tflite that LiteRT runs: float32, float16, dynamic-range or full-integer int8.")

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "The .tflite file to write (atomically; never the input).")
    var output: String

    @Option(help: "Prune first: zero this fraction of every conv/depthwise/dense kernel of ≥ 1024 weights (as `keraslite prune --sparsity`), then convert.")
    var prune: Double?

    @Option(help: ArgumentHelp("With --prune: per-layer or global (see `keraslite prune --help`).", valueName: "per-layer|global"))
    var pruneScope: PruningOptions.Scope = .perLayer

    @Option(help: ArgumentHelp("With --prune: unstructured or 2:4.", valueName: "unstructured|2:4"))
    var prunePattern: PruningOptions.Pattern = .unstructured

    @Option(help: "Remove this fraction of the output channels (filters/units) of conv and dense layers first (as `keraslite prune --channels`): a smaller, faster model.")
    var channels: Double?

    @Option(help: ArgumentHelp("With --channels: how channels are ranked.", valueName: "l1|l2|bn-gamma"))
    var criterion: ChannelPruningOptions.Criterion = .l1

    @Option(help: ArgumentHelp("With --channels: keep multiples of N channels per layer.", valueName: "N"))
    var roundTo = 1

    @Flag(help: "Store weight constants whose zeros make it smaller sparse (TFLite SparsityParameters), in encodings LiteRT runs: FULLY_CONNECTED reads them natively, other readers through DENSIFY. Lossless; dense when nothing pays off.")
    var sparse = false

    @Option(help: "Batch size written into the model; 0 keeps it dynamic.")
    var batch: Int = 1

    @Option(help: ArgumentHelp("Fix the sizes after the batch of the model input NAME, as Keras' Input(shape=…) lists them (e.g. x=20,4 for shape=(None, 4)): what recurrent layers need when the model leaves a length unknown. Repeat for several inputs.",
                               valueName: "NAME=D1,D2,…"))
    var inputShape: [String] = []

    @Option(help: ArgumentHelp("none (float32), float16 (half-size weights, DEQUANTIZE at start-up), dynamic (int8 weights, float activations, hybrid kernels), int8 (full integer; needs --calibration).",
                               valueName: "none|float16|dynamic|int8"))
    var quantize: QuantizationMode = .none

    @Option(help: ArgumentHelp("int8: calibration samples, preprocessed as the model input expects: a .npy (N × input shape), an .npz (one array per input name) or a directory of them.",
                               valueName: "path"))
    var calibration: String?

    @Option(help: ArgumentHelp("int8: how each tensor's range is chosen from the calibration values: minmax (all values), percentile (clip the outer --percentile), mse (least squared error).",
                               valueName: "minmax|percentile|mse"))
    var calibrationMethod: CalibrationMethod = .minmax

    @Option(help: "int8 with --calibration-method percentile: the percentile kept at each end.")
    var percentile = 99.99

    @Option(help: ArgumentHelp("int8: the model inputs' and outputs' type; float32 adds QUANTIZE/DEQUANTIZE at the boundary.",
                               valueName: "float32|int8|uint8"))
    var io: QuantizedIOType = .float32

    @Option(help: "dynamic: weights with fewer elements stay float32 (TensorFlow's default).")
    var minElements = 1024

    @Option(parsing: .upToNextOption, help: "Keras layers whose weights stay float32 in any --quantize mode.")
    var keepFloat: [String] = []

    @Flag(help: "int8: after converting, run the float32 and the int8 model on the calibration samples and print, per tensor, the error int8 adds (SQNR, max/mean |Δ|, cosine), worst first, with the layers worth --keep-float.")
    var report = false

    @Option(help: "int8 --report: calibration samples the report runs (the first N).")
    var reportSamples = 32

    @Option(help: "int8 --report: rows printed (all rows in --json).")
    var reportRows = 20

    @Flag(help: "With --report: print the report as one JSON object (keys in docs/json.md) instead of text.")
    var json = false

    @Flag(help: "Print nothing on success (warnings still go to stderr; --report still prints).")
    var quiet = false

    func validate() throws {
        guard batch >= 0 else { throw ValidationError("--batch must be 0 (dynamic) or a positive size, got \(batch)") }
        guard minElements >= 0 else { throw ValidationError("--min-elements must be ≥ 0, got \(minElements)") }
        if quantize == .int8 {
            guard calibration != nil else {
                throw ValidationError("--quantize int8 needs --calibration samples (a .npy, .npz or directory of them) to choose activation scales")
            }
        } else {
            if calibration != nil { throw ValidationError("--calibration is only used by --quantize int8") }
            if io != .float32 { throw ValidationError("--io \(io.rawValue) needs --quantize int8") }
        }
        if let prune, !(prune >= 0 && prune < 1) { throw ValidationError("--prune must be in [0, 1), got \(prune)") }
        if prune == nil, channels == nil, pruneScope != .perLayer || prunePattern != .unstructured {
            throw ValidationError("--prune-scope and --prune-pattern go with --prune (--prune-scope also with --channels)")
        }
        if let channels, !(channels >= 0 && channels < 1) { throw ValidationError("--channels must be in [0, 1), got \(channels)") }
        if channels == nil, criterion != .l1 || roundTo != 1 { throw ValidationError("--criterion and --round-to go with --channels") }
        guard roundTo >= 1 else { throw ValidationError("--round-to must be ≥ 1") }
        if report, quantize != .int8 { throw ValidationError("--report needs --quantize int8") }
        if json, !report { throw ValidationError("--json is the format of --report") }
        guard reportSamples >= 1, reportRows >= 1 else { throw ValidationError("--report-samples and --report-rows must be ≥ 1") }
        guard percentile > 50, percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100], got \(percentile)") }
        _ = try parsedInputShapes()
        try refuseOverwriting("--output", output, [("the input file", model.file)])
    }

    /// `--input-shape NAME=D1,D2,…` by input name; whether NAME is an input and the sizes fit it is
    /// the library's check (`Graph.setInputShapes`), which knows the model.
    func parsedInputShapes() throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for argument in inputShape {
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--input-shape '\(argument)' is not NAME=D1,D2,… (e.g. --input-shape x=20,4)")
            }
            let name = String(parts[0])
            var sizes: [Int] = []
            for field in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                guard let size = Int(field.trimmingCharacters(in: .whitespaces)), size >= 1 else {
                    throw ValidationError("--input-shape \(argument): sizes must be positive integers, got '\(field)'")
                }
                sizes.append(size)
            }
            guard shapes[name] == nil else { throw ValidationError("--input-shape names input '\(name)' twice") }
            shapes[name] = sizes
        }
        return shapes
    }

    func run() throws {
        let start = DispatchTime.now()
        let converter = try Converter(path: model.file, config: model.config)
        let quantization = QuantizationOptions(mode: quantize, minElements: minElements, keepFloat: Set(keepFloat), io: io)
        var options = TFLiteConverter.Options(batch: batch == 0 ? nil : batch, quantization: quantization)
        options.inputShapes = try parsedInputShapes()
        options.sparse = sparse
        if prune != nil || channels != nil {
            options.pipeline = .pruning(
                magnitude: prune.map { PruningOptions(target: .sparsity(prunePattern == .twoFour ? 0.5 : $0), scope: pruneScope, pattern: prunePattern) },
                channels: channels.map { ChannelPruningOptions(fraction: $0, criterion: criterion, scope: pruneScope, roundTo: roundTo) })
        }
        let progress = ProgressBar("calibrating", unit: "samples", enabled: calibration != nil && !quiet && isatty(STDERR_FILENO) == 1)
        let converted = try converter.convert(options: options, calibration: calibration.map {
            .init(samples: $0, method: calibrationMethod, percentile: percentile, progress: progress.update, finish: progress.finish)
        })
        try converted.result.write(to: output)
        for warning in converted.result.warnings {
            FileHandle.standardError.write(Data("keraslite: warning: \(model.file): \(warning)\n".utf8))
        }
        if !quiet, !json {
            print(converted.summary(wrote: output, seconds: seconds(start, .now())))
            if let channels = converted.result.passLog.channelPruning { print(channels.summary) }
        }
        guard report, let samples = converted.samples else { return }
        let comparing = ProgressBar("comparing", unit: "samples", enabled: isatty(STDERR_FILENO) == 1)
        defer { comparing.finish() }
        let quantizationReport = try QuantizationReport.compare(converted.result, file: output, samples: samples,
                                                                limit: reportSamples, progress: comparing.update)
        comparing.finish()
        print(json ? quantizationReport.json.serialized() : quantizationReport.text(limit: reportRows))
    }
}
