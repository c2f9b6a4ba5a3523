/// Why a `.tflite` tensor cannot be decoded: a type keraslite does not decode, or an encoding that
/// contradicts itself (the message names the tensor).
public enum TFLiteError: Error, CustomStringConvertible, Sendable {
    case unsupported(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .unsupported(let what): return "cannot decode \(what)"
        case .invalid(let message): return message
        }
    }
}
