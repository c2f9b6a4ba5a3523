import GraphIR
import JSON

/// Typed access to one layer's `config` object, with errors that name the layer.
struct LayerConfig {
    let values: [String: JSON]
    let layer: String
    let className: String
    let file: String

    /// The option's value; Keras 2.0 wrote numpy values as `{"type": "ndarray", "value": …}`, read as the value.
    subscript(key: String) -> JSON? {
        guard let value = values[key], value != .null else { return nil }
        if value["type"]?.string == "ndarray", let inner = value["value"] { return inner == .null ? nil : inner }
        return value
    }

    func malformed(_ key: String, _ expected: String) -> KerasError {
        .malformedConfig(file: file, reason: "layer '\(layer)' (\(className)): '\(key)' is not \(expected)")
    }

    /// An int, or a list of `count` ints; a single int is repeated (Keras' normalize_tuple).
    func ints(_ key: String, count: Int, default fallback: [Int]? = nil) throws -> [Int] {
        guard let value = self[key] else {
            if let fallback { return fallback }
            throw malformed(key, "present")
        }
        if let int = value.int { return Array(repeating: int, count: count) }
        if let array = value.array {
            let ints = array.compactMap(\.int)
            if ints.count == array.count, ints.count == count { return ints }
            if ints.count == array.count, ints.count == 1 { return Array(repeating: ints[0], count: count) }
        }
        throw malformed(key, "\(count) integers")
    }

    func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        if let value = self[key] {
            if let int = value.int { return int }
            if let array = value.array, array.count == 1, let int = array[0].int { return int }
            throw malformed(key, "an integer")
        }
        if let fallback { return fallback }
        throw malformed(key, "present")
    }

    func float(_ key: String, default fallback: Float? = nil) throws -> Float {
        if let value = self[key] {
            guard let double = value.double else { throw malformed(key, "a number") }
            return Float(double)
        }
        if let fallback { return fallback }
        throw malformed(key, "present")
    }

    /// Nil when absent or null.
    func optionalFloat(_ key: String) throws -> Float? {
        guard let value = self[key] else { return nil }
        guard let double = value.double else { throw malformed(key, "a number") }
        return Float(double)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = self[key] else { return fallback }
        guard let bool = value.bool else { throw malformed(key, "true or false") }
        return bool
    }

    func string(_ key: String, default fallback: String) throws -> String {
        guard let value = self[key] else { return fallback }
        guard let string = value.string else { throw malformed(key, "a string") }
        return string
    }

    /// A list of numbers, or a single number as a one-element list.
    func floats(_ key: String) throws -> [Float]? {
        guard let value = self[key] else { return nil }
        if let double = value.double { return [Float(double)] }
        let flat = flatten(value)
        guard !flat.isEmpty else { throw malformed(key, "numbers") }
        return flat
    }

    private func flatten(_ value: JSON) -> [Float] {
        if let double = value.double { return [Float(double)] }
        return (value.array ?? []).flatMap(flatten)
    }

    /// Rejects channels-first layouts, which would need transposes keraslite does not insert yet.
    func requireChannelsLast() throws {
        let format = try string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw KerasError.unsupportedOption(file: file, layer: layer, className: className, option: "data_format=\(format)")
        }
    }

    /// Keras' padding string (`same`, `valid`, `causal`), lower-cased.
    func padding(allowed: Set<String> = ["same", "valid"]) throws -> String {
        let padding = try string("padding", default: "valid").lowercased()
        guard allowed.contains(padding) else {
            throw KerasError.unsupportedOption(file: file, layer: layer, className: className, option: "padding=\(padding)")
        }
        return padding
    }

    /// Pairs `[[before, after], …]` for `count` axes from an int, a list of ints or a list of pairs
    /// (ZeroPadding and Cropping configs).
    func pairs(_ key: String, count: Int) throws -> [(Int, Int)] {
        guard let value = self[key] else { throw malformed(key, "present") }
        if let int = value.int { return Array(repeating: (int, int), count: count) }
        guard let array = value.array else { throw malformed(key, "integers or pairs") }
        if count == 1, array.count == 2, let a = array[0].int, let b = array[1].int { return [(a, b)] }
        if array.count == count, array.allSatisfy({ $0.int != nil }) {
            return array.map { ($0.int!, $0.int!) }
        }
        if array.count == count {
            return try array.map { pair in
                guard let items = pair.array, items.count == 2, let a = items[0].int, let b = items[1].int else {
                    throw malformed(key, "pairs of integers")
                }
                return (a, b)
            }
        }
        throw malformed(key, "\(count) integers or pairs")
    }
}
