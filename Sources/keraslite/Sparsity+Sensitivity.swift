import Analysis
import Calibration
import Files
import Foundation
import JSON
import Passes
import Reports

extension Sparsity {
    /// `sparsity MODEL --sensitivity --input X`: per-layer pruning sensitivity and a plan for `prune --plan`.
    func runSensitivity() throws {
        let keras = try model.loadConvertible()
        let layers = Set(keras.graph.ops.compactMap(\.origin?.layer))
        if let unknown = exclude.sorted().first(where: { !layers.contains($0) }) {
            throw FileError.inFile(file: model.file, underlying: RunError("no layer '\(unknown)' in this model (--exclude)"))
        }
        let samples = try CalibrationSamples.load(path: input!, inputs: keras.graph.inputs)
        let selection = PruningOptions(exclude: Set(exclude), minParams: minParams ?? 1024,
                                       skipFirstConv: skipFirstConv, skipOutputLayers: skipOutputLayer)
        let options = SensitivityReport.Options(levels: try sensitivityLevels(), target: target ?? 0.5,
                                                selection: selection, batchSize: batchSize ?? 32)
        let progress = ProgressBar("sensitivity", unit: "runs", enabled: isatty(STDERR_FILENO) == 1)
        let report: SensitivityReport
        do {
            defer { progress.finish() }
            report = try SensitivityReport(graph: keras.graph, path: model.file, input: input!, samples: samples,
                                           options: options, progress: progress.update)
        } catch {
            throw FileError.inFile(file: model.file, underlying: error)
        }
        if let planOut { try AtomicFile.write(Array((report.planJSON.serialized() + "\n").utf8), to: planOut) }
        if json {
            print(report.json.serialized())
        } else {
            print(report.text(), terminator: "")
            if let planOut {
                // prune must select the same kernels the plan was measured on.
                var command = ["keraslite prune", model.file, "-o OUT --plan", planOut]
                if let minParams, minParams != 1024 { command.append("--min-params \(minParams)") }
                if !exclude.isEmpty { command.append("--exclude " + exclude.joined(separator: " ")) }
                if skipFirstConv { command.append("--skip-first-conv") }
                if skipOutputLayer { command.append("--skip-output-layer") }
                print("wrote \(planOut); apply it with: \(command.joined(separator: " "))")
            }
        }
    }
}
