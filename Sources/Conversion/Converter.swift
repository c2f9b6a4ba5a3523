import Calibration
import Dispatch
import Files
import FlatBuffers
import Foundation
import GraphIR
import Keras
import ModelFile
import Passes
import TFLite

/// The converter's three stages behind one door: the Keras frontend (`ModelFile.openKeras`), the graph
/// passes (the `PassPipeline` in `TFLiteConverter.Options`, `.pruning` for `--prune`), and the TFLite
/// backend (lowering, `--quantize` rewrites, int8 calibrated on samples on the reference executor).
/// Errors name the model file; output is written atomically.
public struct Converter {
    /// Full-integer calibration: the samples file and how ranges are chosen from it.
    public struct Calibration: Sendable {
        public var samples: String
        public var method: CalibrationMethod
        public var percentile: Double
        /// Called with (samples done, total) while calibrating, and `finish` once it ends.
        public var progress: @Sendable (Int, Int) -> Void
        public var finish: @Sendable () -> Void

        public init(samples: String, method: CalibrationMethod = .minmax, percentile: Double = 99.99,
                    progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }, finish: @escaping @Sendable () -> Void = {}) {
            self.samples = samples
            self.method = method
            self.percentile = percentile
            self.progress = progress
            self.finish = finish
        }
    }

    /// What a conversion produced: the `.tflite` bytes and counts, and for int8 the samples it
    /// was calibrated on and how long calibration took.
    public struct Output {
        public var result: TFLiteConverter.Result
        public var samples: CalibrationSamples?
        public var calibrationSeconds: Double
        /// How int8 ranges were chosen (nil when not calibrated).
        public var calibrationMethod: CalibrationMethod?
    }

    /// The Keras file as given on the command line (errors name it).
    public let path: String
    public let model: KerasModel

    /// Loads the Keras file at `path` (`config`: architecture JSON for a weights-only `.h5`).
    public init(path: String, config: String? = nil) throws {
        self.path = path
        // Conversion and pruning read every weight: the kernel fetches them while the rest starts.
        ReadAhead.start(path)
        model = try ModelFile.openKeras(path: path, config: config)
    }

    /// `prune`: zeroes kernel weights and writes the result to `output` — a `.tflite` (the pruning
    /// pipeline, then lowering), or the same kind of Keras file as the input with only the pruned
    /// datasets replaced. Refuses a Keras output of the other kind and layers in `options.exclude`
    /// or `options.perLayer` the model lacks, before anything is pruned. Returns what was pruned
    /// and the Keras writer's notes.
    public func prune(_ options: PruningOptions, writingTo output: String) throws -> (pruned: [PrunedWeight], notes: [String]) {
        let lower = try checkPruning(output: output, layers: Array(options.exclude) + options.perLayer.keys)
        if lower.hasSuffix(".tflite") {
            let result = try convert(options: .init(pipeline: .pruning(options))).result
            try result.write(to: output)
            return (result.passLog.pruned, [])
        }
        let pipeline = PassPipeline(stages: [.init([.init(PruneMagnitude.id, options: options)], maxRounds: 1)])
        let pruned = try FileError.naming(path) { try pipeline.run(on: model.graph).pruned }
        return (pruned, try writeKeras(pruned: pruned, to: output))
    }

    /// What both kinds of pruning refuse before anything is pruned: a Keras output of the other
    /// kind than the input (.keras for .keras, .h5 for .h5; .tflite is fine) and layer names
    /// (`--exclude`, `--plan`) the model lacks. Returns the output path lowercased.
    func checkPruning(output: String, layers named: [String]) throws -> String {
        let lower = output.lowercased()
        let own = model.format == .kerasZip ? ".keras" : ".h5"
        if !lower.hasSuffix(".tflite"), !lower.hasSuffix(own) {
            throw ConverterError.keepsKerasFormat(file: path, extension: own, output: output)
        }
        let layers = Set(model.graph.ops.compactMap(\.origin?.layer))
        if let unknown = named.sorted().first(where: { !layers.contains($0) }) {
            throw ConverterError.noSuchLayer(file: path, layer: unknown)
        }
        return lower
    }

    /// Lowers the (possibly pruned) graph to `.tflite` bytes; with `calibration`, the samples load on
    /// another thread while the model is lowered and the float model's executor prepared, and the
    /// float model is calibrated on them when the int8 quantizer asks. A samples file that cannot
    /// be used fails the conversion (at calibration, or once lowering is done).
    public func convert(options: TFLiteConverter.Options = .init(), calibration: Calibration? = nil) throws -> Output {
        var options = options
        // Fixed first, so calibration samples are checked against the shapes being converted.
        try FileError.naming(path) { try model.graph.setInputShapes(options.inputShapes) }
        var loading: Background<CalibrationSamples>?
        let timing = CalibrationTiming()
        if let calibration {
            // Checked against the input shapes as they are now (the converter fixes the batch next).
            let inputs = model.graph.inputs.map { Tensor(name: $0.name, shape: $0.shape, dtype: $0.dtype) }
            let loaded = Background { try CalibrationSamples.load(path: calibration.samples, inputs: inputs) }
            loading = loaded
            let calibrator = Calibrator(method: calibration.method, percentile: calibration.percentile)
            options.quantization.calibrate = { floatModel in
                let start = DispatchTime.now()
                defer { calibration.finish() }
                let ranges = try calibrator.ranges(forModel: floatModel, samples: { try loaded.value() }, progress: calibration.progress)
                timing.seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
                return ranges
            }
        }
        let converted = Result { try FileError.naming(path) { try TFLiteConverter.convert(model.graph, options: options) } }
        // A samples problem is reported before a conversion problem, as when they loaded first.
        let samples = try loading?.value()
        return Output(result: try converted.get(), samples: samples, calibrationSeconds: timing.seconds, calibrationMethod: calibration?.method)
    }

    /// The new values of the Keras weights `pruned` changed, keyed by their storage path — what
    /// `writeKeras` replaces (a pruned constant is the Keras weight's own `ConstantData`).
    public func replacements(for pruned: [PrunedWeight]) throws -> [String: [Float]] {
        var byData: [ObjectIdentifier: KerasWeight] = [:]
        for weight in model.weights { byData[ObjectIdentifier(weight.data)] = weight }
        var replacements: [String: [Float]] = [:]
        for weight in pruned where weight.zerosAfter != weight.zerosBefore {
            guard let source = byData[ObjectIdentifier(weight.original)] else {
                throw ConverterError.storedWeightNotFound(file: path, tensor: weight.tensor)
            }
            replacements[source.storagePath] = weight.values
        }
        return replacements
    }

    /// Writes the model back as the same kind of Keras file with `pruned`'s weights replaced;
    /// returns the writer's notes.
    public func writeKeras(pruned: [PrunedWeight], to output: String) throws -> [String] {
        try KerasWeightWriter.write(model, to: output, replacing: try replacements(for: pruned)).notes
    }
}

/// A value computed on a background thread, waited for by `value()` (as often as asked).
private final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchGroup()
    private var result: Result<T, Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        done.enter()
        DispatchQueue.global().async {
            self.result = Result(catching: work)
            self.done.leave()
        }
    }

    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}

/// Calibration time, filled in by the calibration closure the converter calls.
private final class CalibrationTiming: @unchecked Sendable {
    var seconds = 0.0
}

extension TFLiteConverter.Result {
    /// Writes the `.tflite` to `path` atomically, streaming: the constant buffers are produced one
    /// at a time as the file is written.
    public func write(to path: String) throws {
        try AtomicFile.write(to: path) { sink in try file.write(sink) }
    }
}
