import ModelFile
import TFLiteReports

extension SparsityReport {
    /// The sparsity of any model file, opened through `ModelFile` (`config`: architecture JSON of a
    /// weights-only `.h5`); errors name the file.
    public init(path: String, config: String? = nil, threshold: Float) throws {
        switch try ModelFile.open(path: path, config: config) {
        case .tflite(let file): try self.init(tflite: file, threshold: threshold)
        case .keras(let keras): try self.init(model: keras, threshold: threshold)
        }
    }
}
