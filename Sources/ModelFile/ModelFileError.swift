/// A model file of the wrong family for what was asked of it.
public enum ModelFileError: Error, CustomStringConvertible {
    /// A `.tflite` given where a Keras file is needed.
    case needsKeras(file: String)

    public var description: String {
        switch self {
        case .needsKeras(let file): return "\(file): this command needs a Keras file (.h5 or .keras), not a .tflite"
        }
    }
}
