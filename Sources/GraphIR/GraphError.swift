/// Errors raised while building, inferring or verifying a graph.
public enum GraphError: Error, CustomStringConvertible, Equatable, Sendable {
    case constantSize(expected: Int, actual: Int)
    case missingAttribute(op: String, attribute: String)
    case wrongAttributeType(op: String, attribute: String, expected: String)
    case arity(op: String, kind: String, expected: String, actual: Int)
    case shape(op: String, message: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .constantSize(let expected, let actual):
            return "constant holds \(actual) values, its shape needs \(expected)"
        case .missingAttribute(let op, let attribute):
            return "op '\(op)' lacks attribute '\(attribute)'"
        case .wrongAttributeType(let op, let attribute, let expected):
            return "op '\(op)' attribute '\(attribute)' is not \(expected)"
        case .arity(let op, let kind, let expected, let actual):
            return "op '\(op)' (\(kind)) takes \(expected) inputs, has \(actual)"
        case .shape(let op, let message):
            return "op '\(op)': \(message)"
        case .invalid(let message):
            return message
        }
    }
}
