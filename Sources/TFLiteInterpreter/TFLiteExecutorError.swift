/// Why the executor cannot prepare or run a `.tflite` file: one line naming the operator
/// (index and builtin) or the input at fault.
public enum TFLiteExecutorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The operator, one of its options or one of its tensor types has no kernel.
    case unsupported(operator: Int, builtin: String, detail: String)
    /// The operator's tensors or options are inconsistent (shapes, counts, indices), found while
    /// preparing or while running.
    case invalidOperator(operator: Int, builtin: String, detail: String)
    /// The model itself cannot be executed (no subgraph, a tensor read before it is written, …).
    case invalidModel(String)
    /// A model input is missing, has the wrong shape or holds values its type cannot represent.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupported(let index, let builtin, let detail):
            return "the executor cannot run operator \(index) (\(builtin)): \(detail)"
        case .invalidOperator(let index, let builtin, let detail):
            return "operator \(index) (\(builtin)): \(detail)"
        case .invalidModel(let message):
            return "cannot execute the model: \(message)"
        case .invalidInput(let message):
            return message
        }
    }
}
