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

/// An op's attributes. Code reads and writes them through typed keys (`attributes[.strides]`);
/// names are declared once, in `AttributeKey`. Renderers (the text printer, diff, HTML) list them
/// by name with `sortedNames` and the read-only name subscript.
public struct Attributes: Equatable, Sendable {
    public private(set) var values: [String: Attribute]

    public init(_ values: [String: Attribute] = [:]) { self.values = values }

    /// Builds attributes with typed keys: `Attributes { $0[.strides] = [1, 1]; $0[.padding] = "same" }`.
    public init(_ build: (inout Attributes) -> Void) {
        self.init()
        build(&self)
    }

    /// The value stored under `key`, or nil when absent (or of another type, which `verify()` reports).
    public subscript<Value>(key: AttributeKey<Value>) -> Value? {
        get { values[key.name].flatMap(Value.init(attribute:)) }
        set { values[key.name] = newValue?.attribute }
    }

    /// The stored value under a name, for renderers.
    public subscript(name: String) -> Attribute? { values[name] }

    /// Names in sorted order, for stable printing.
    public var sortedNames: [String] { values.keys.sorted() }

    public var isEmpty: Bool { values.isEmpty }
}

extension Attributes: ExpressibleByDictionaryLiteral {
    /// Raw attributes by name, for tests that build ops by hand (the verifier checks names and types).
    public init(dictionaryLiteral elements: (String, Attribute)...) {
        self.init(Dictionary(uniqueKeysWithValues: elements))
    }
}

extension Op {
    /// The attribute's value, else its default in the op kind's schema; throws `GraphError`
    /// naming the op when it is absent without a default or of the wrong type.
    public func attribute<Value>(_ key: AttributeKey<Value>) throws -> Value {
        if let stored = attributes.values[key.name] {
            guard let value = Value(attribute: stored) else {
                throw GraphError.wrongAttributeType(op: name, attribute: key.name, expected: Value.typeName)
            }
            return value
        }
        if let fallback = OpSchema.of(kind).attribute(named: key.name)?.defaultValue, let value = Value(attribute: fallback) {
            return value
        }
        throw GraphError.missingAttribute(op: name, attribute: key.name)
    }
}
