/// A typed op attribute value.
public enum Attribute: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case float(Float)
    case bool(Bool)
    case string(String)
    case ints([Int])
    case floats([Float])

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .float(let value): return formatFloat(value)
        case .bool(let value): return String(value)
        case .string(let value): return value
        case .ints(let values): return "[" + values.map(String.init).joined(separator: ",") + "]"
        case .floats(let values): return "[" + values.map(formatFloat).joined(separator: ",") + "]"
        }
    }
}

/// Shortest round-tripping spelling of a Float, so printed graphs are stable.
func formatFloat(_ value: Float) -> String {
    if value == value.rounded(), abs(value) < 1e7 { return String(Int(value)) + ".0" }
    return "\(value)"
}

/// An op's attributes by name, with typed accessors that throw `GraphError` naming the op.
public struct Attributes: Equatable, Sendable {
    public private(set) var values: [String: Attribute]

    public init(_ values: [String: Attribute] = [:]) { self.values = values }

    public subscript(name: String) -> Attribute? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// Names in sorted order, for stable printing.
    public var sortedNames: [String] { values.keys.sorted() }

    func int(_ name: String, op: String) throws -> Int {
        guard let value = values[name] else { throw GraphError.missingAttribute(op: op, attribute: name) }
        guard case .int(let int) = value else { throw GraphError.wrongAttributeType(op: op, attribute: name, expected: "int") }
        return int
    }

    func ints(_ name: String, op: String) throws -> [Int] {
        guard let value = values[name] else { throw GraphError.missingAttribute(op: op, attribute: name) }
        guard case .ints(let ints) = value else { throw GraphError.wrongAttributeType(op: op, attribute: name, expected: "ints") }
        return ints
    }

    func string(_ name: String, op: String) throws -> String {
        guard let value = values[name] else { throw GraphError.missingAttribute(op: op, attribute: name) }
        guard case .string(let string) = value else { throw GraphError.wrongAttributeType(op: op, attribute: name, expected: "string") }
        return string
    }

    func bool(_ name: String, op: String) throws -> Bool {
        guard let value = values[name] else { throw GraphError.missingAttribute(op: op, attribute: name) }
        guard case .bool(let bool) = value else { throw GraphError.wrongAttributeType(op: op, attribute: name, expected: "bool") }
        return bool
    }

    func float(_ name: String, op: String) throws -> Float {
        guard let value = values[name] else { throw GraphError.missingAttribute(op: op, attribute: name) }
        switch value {
        case .float(let float): return float
        case .int(let int): return Float(int)
        default: throw GraphError.wrongAttributeType(op: op, attribute: name, expected: "float")
        }
    }
}
