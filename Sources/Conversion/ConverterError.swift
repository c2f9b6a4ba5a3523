/// Why the converter cannot finish, naming the model file.
public enum ConverterError: Error, CustomStringConvertible {
    /// A pruned constant that is none of the model's stored Keras weights.
    case storedWeightNotFound(file: String, tensor: String)
    /// Pruned weights written back as the other kind of Keras file (`extension`: the model's own, `.h5` or `.keras`).
    case keepsKerasFormat(file: String, extension: String, output: String)
    /// A layer named in the pruning options' `exclude` or `perLayer` that the model does not have.
    case noSuchLayer(file: String, layer: String)

    public var description: String {
        switch self {
        case .storedWeightNotFound(let file, let tensor): return "\(file): cannot find the stored weight of '\(tensor)'"
        case .keepsKerasFormat(let file, let ext, let output):
            return "\(file): a \(ext) model is written back as \(ext) (or .tflite), not \(output)"
        case .noSuchLayer(let file, let layer): return "\(file): no layer '\(layer)' in this model (--exclude / --plan)"
        }
    }
}
