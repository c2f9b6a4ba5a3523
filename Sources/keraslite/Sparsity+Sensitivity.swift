import Analysis
import Files
import Foundation
import JSON
import Passes

extension Sparsity {
    /// `sparsity MODEL --sensitivity --input X`: per-layer pruning sensitivity and a plan for `prune --plan`.
    func runSensitivity() throws {
        let selection = PruningOptions(exclude: Set(exclude), minParams: minParams ?? 1024,
                                       skipFirstConv: skipFirstConv, skipOutputLayers: skipOutputLayer)
        var options = SensitivityReport.Options(levels: try SensitivityReport.Options.levels(parsing: levels), target: target ?? 0.5,
                                                selection: selection, batchSize: batchSize ?? 32)
        if channels { options.channels = ChannelPruningOptions(criterion: criterion, exclude: Set(exclude)) }
        let progress = ProgressBar("sensitivity", unit: "runs", enabled: isatty(STDERR_FILENO) == 1)
        defer { progress.finish() }
        let report = try SensitivityReport(path: model.file, config: model.config, input: input!, options: options,
                                           progress: progress.update)
        progress.finish()
        if let planOut { try AtomicFile.write(Array((report.planJSON.serialized() + "\n").utf8), to: planOut) }
        if json {
            print(report.json.serialized())
        } else {
            print(report.text(), terminator: "")
            if let planOut {
                // prune must select the same kernels the plan was measured on.
                var command = ["keraslite prune", model.file, "-o OUT" + (channels ? " --channels 0" : "") + " --plan", planOut]
                if channels, criterion != .l1 { command.append("--criterion \(criterion.rawValue)") }
                if let minParams, minParams != 1024 { command.append("--min-params \(minParams)") }
                if !exclude.isEmpty { command.append("--exclude " + exclude.joined(separator: " ")) }
                if skipFirstConv { command.append("--skip-first-conv") }
                if skipOutputLayer { command.append("--skip-output-layer") }
                print("wrote \(planOut); apply it with: \(command.joined(separator: " "))")
            }
        }
    }
}
