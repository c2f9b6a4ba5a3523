/// Why the interpreter cannot run a graph or an input: one line naming the op or input.
public enum InterpreterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The op kind, or one of its attribute values, has no kernel.
    case unsupported(op: String, kind: String, detail: String)
    /// The op's inputs or attributes are inconsistent at run time (shapes, counts).
    case invalidOp(op: String, kind: String, detail: String)
    /// A graph input is missing, unknown or has the wrong shape.
    case invalidInput(String)
    /// The graph itself fails verification.
    case invalidGraph(String)

    public var description: String {
        switch self {
        case .unsupported(let op, let kind, let detail):
            return "the interpreter cannot run '\(op)' (\(kind)): \(detail)"
        case .invalidOp(let op, let kind, let detail):
            return "'\(op)' (\(kind)): \(detail)"
        case .invalidInput(let message):
            return message
        case .invalidGraph(let message):
            return "invalid graph: \(message)"
        }
    }
}
