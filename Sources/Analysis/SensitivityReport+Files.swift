import Calibration
import Files
import Foundation
import ModelFile

extension SensitivityReport {
    /// Measures the Keras model at `path` (`config`: architecture JSON of a weights-only `.h5`) on
    /// the samples file `input`, as `sparsity --sensitivity` does. Every layer in
    /// `options.selection.exclude` must be one of the model's; errors name their file (the samples
    /// file for the samples, the model for the rest).
    public init(path: String, config: String? = nil, input: String, options: Options,
                progress: ((Int, Int) -> Void)? = nil) throws {
        let keras = try ModelFile.openKeras(path: path, config: config)
        let layers = Set(keras.graph.ops.compactMap(\.origin?.layer))
        if let unknown = options.selection.exclude.sorted().first(where: { !layers.contains($0) }) {
            throw FileError.inFile(file: path, underlying: SensitivityError("no layer '\(unknown)' in this model (--exclude)"))
        }
        let samples = try CalibrationSamples.load(path: input, inputs: keras.graph.inputs)
        self = try FileError.naming(path) {
            try SensitivityReport(graph: keras.graph, path: path, input: input, samples: samples, options: options, progress: progress)
        }
    }
}

extension SensitivityReport.Options {
    /// The levels of `--levels l1,l2,…` (nil: 0.25, 0.5, 0.75, 0.9): ascending, distinct, each in [0, 1).
    public static func levels(parsing text: String?) throws -> [Double] {
        guard let text else { return [0.25, 0.5, 0.75, 0.9] }
        var parsed: [Double] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = item.trimmingCharacters(in: .whitespaces)
            guard let level = Double(item), level >= 0, level < 1 else {
                throw SensitivityError("--levels takes comma-separated sparsities in [0, 1), like 0.25,0.5,0.75,0.9; got '\(item)'")
            }
            parsed.append(level)
        }
        return Array(Set(parsed)).sorted()
    }
}
