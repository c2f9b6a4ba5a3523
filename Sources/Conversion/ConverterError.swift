/// Why the converter cannot finish, naming the model file.
public enum ConverterError: Error, CustomStringConvertible {
    /// A pruned constant that is none of the model's stored Keras weights.
    case storedWeightNotFound(file: String, tensor: String)

    public var description: String {
        switch self {
        case .storedWeightNotFound(let file, let tensor): return "\(file): cannot find the stored weight of '\(tensor)'"
        }
    }
}
