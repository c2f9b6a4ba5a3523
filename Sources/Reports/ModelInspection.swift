import JSON
import Keras
import ModelFile
import TFLiteReports

/// `inspect` on any model file: a Keras file's `InspectReport` or a `.tflite`'s
/// `TFLiteInspectReport`, as text, JSON or the self-contained HTML page.
///
/// Opened through `ModelFile`; errors name the file. The text and JSON are rendered on demand;
/// the page reads every weight again for its sparsity section unless `countZeros` is false.
public struct ModelInspection {
    private enum Report {
        case keras(KerasModel, InspectReport)
        case tflite(TFLiteInspectReport)
    }

    private let report: Report
    private let countZeros: Bool

    /// Reads `path` (`config`: architecture JSON of a weights-only `.h5`); `countZeros` false reads
    /// only the config and dataset headers of a Keras file.
    public init(path: String, config: String? = nil, countZeros: Bool = true) throws {
        switch try ModelFile.open(path: path, config: config) {
        case .keras(let keras): report = .keras(keras, try InspectReport(model: keras, countZeros: countZeros))
        case .tflite(let file): report = .tflite(TFLiteInspectReport(file: file))
        }
        self.countZeros = countZeros
    }

    public func text() -> String {
        switch report {
        case .keras(_, let report): return report.text()
        case .tflite(let report): return report.text()
        }
    }

    public var json: JSON {
        switch report {
        case .keras(_, let report): return report.json
        case .tflite(let report): return report.json
        }
    }

    /// The page: layer or operator table, size bars, sparsity histogram (with `countZeros`), op types, graph.
    public func html() throws -> String {
        switch report {
        case .keras(let keras, let report):
            let sparsity = countZeros ? try SparsityReport(model: keras, threshold: HTMLReport.defaultThreshold) : nil
            return HTMLReport.inspect(keras: keras, report: report, sparsity: sparsity)
        case .tflite(let report):
            let sparsity = countZeros ? try SparsityReport(tflite: report.file, threshold: HTMLReport.defaultThreshold) : nil
            return HTMLReport.inspect(tflite: report, sparsity: sparsity)
        }
    }
}
