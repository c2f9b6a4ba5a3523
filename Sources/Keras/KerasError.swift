import HDF5
import JSON

/// Everything that can go wrong reading a Keras model file or writing one back. Each case names the
/// file, and the layer or weight where one is involved, so the CLI can print one clear line.
public enum KerasError: Error, CustomStringConvertible, Sendable {
    /// The file is missing, a directory, or unreadable.
    case unreadable(file: String, reason: String)
    /// The file is neither HDF5 nor a zip archive, or is a container without a Keras model in it.
    case notAKerasFile(file: String, reason: String)
    /// The model configuration is missing pieces or is not valid JSON.
    case malformedConfig(file: String, reason: String)
    /// A layer class keraslite does not know.
    case unsupportedLayer(file: String, layer: String, className: String)
    /// A Lambda layer: its Python bytecode is never unmarshalled or run.
    case lambdaLayer(file: String, layer: String, className: String)
    /// A custom (user-registered) layer, activation or other object.
    case customObject(file: String, layer: String, className: String)
    /// A layer option keraslite cannot represent faithfully.
    case unsupportedOption(file: String, layer: String, className: String, option: String)
    /// Weights a layer needs are absent or do not match its configuration.
    case weights(file: String, layer: String, reason: String)
    /// A lower-level HDF5 failure (damaged or truncated file).
    case hdf5(file: String, underlying: HDF5Error)
    /// The graph built from the model is inconsistent (shapes do not fit).
    case graph(file: String, layer: String, reason: String)
    /// The output file cannot be written (missing directory, permissions, the input itself, an
    /// extension Keras would not load the format from, a failed write).
    case unwritable(file: String, reason: String)
    /// A replacement for a weight that does not fit the model (no weight stored at that path,
    /// another element count, not a float weight).
    case replacement(file: String, weight: String, reason: String)
    /// The model reads but has layers keraslite cannot lower (every one is listed).
    case notConvertible(file: String, blockers: [ConversionBlocker])

    /// One printable line: names taken from the file (layer, class, dataset) may hold control
    /// characters, which are shown escaped (`\u{5}`) rather than printed.
    public var description: String {
        let text = unescapedDescription
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        return String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined())
    }

    private var unescapedDescription: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): \(reason)"
        case .notAKerasFile(let file, let reason): return "\(file): not a Keras model file: \(reason)"
        case .malformedConfig(let file, let reason): return "\(file): malformed model config: \(reason)"
        case .unsupportedLayer(let file, let layer, let className):
            return "\(file): layer '\(layer)' has class '\(className)', which keraslite does not support"
        case .lambdaLayer(let file, let layer, let className):
            return "\(file): layer '\(layer)' is a \(className) layer holding Python code; keraslite never runs it — rebuild the model with built-in layers"
        case .customObject(let file, let layer, let className):
            return "\(file): layer '\(layer)' uses the custom object '\(className)', which keraslite cannot read"
        case .unsupportedOption(let file, let layer, let className, let option):
            return "\(file): layer '\(layer)' (\(className)) uses \(option), which keraslite does not support"
        case .weights(let file, let layer, let reason): return "\(file): weights of layer '\(layer)': \(reason)"
        case .hdf5(let file, let underlying): return "\(file): cannot read HDF5 data: \(underlying.call) failed at \(underlying.path.replacingOccurrences(of: file + ":", with: ""))\(underlying.detail.isEmpty ? "" : " (\(underlying.detail))")"
        case .graph(let file, let layer, let reason): return "\(file): layer '\(layer)': \(reason)"
        case .unwritable(let file, let reason): return "\(file): cannot write: \(reason)"
        case .replacement(let file, let weight, let reason): return "\(file): cannot replace weight '\(weight)': \(reason)"
        case .notConvertible(let file, let blockers):
            // A model-level blocker (a weights-only file) is its own message.
            if blockers.count == 1, blockers[0].layer == ConversionBlocker.wholeModel { return blockers[0].error.description }
            return "\(file): \(ConversionBlocker.summary(blockers))"
        }
    }
}

extension KerasError {
    /// The message without the file it names (what a report shows beside the layer).
    public var reason: String {
        let text = description, prefix = file + ": "
        return text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
    }

    /// The file the error names.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .notAKerasFile(let file, _), .malformedConfig(let file, _), .unsupportedLayer(let file, _, _),
             .lambdaLayer(let file, _, _), .customObject(let file, _, _), .unsupportedOption(let file, _, _, _), .weights(let file, _, _),
             .hdf5(let file, _), .graph(let file, _, _), .unwritable(let file, _), .replacement(let file, _, _), .notConvertible(let file, _):
            return file
        }
    }

    /// Errors that concern one layer's meaning (its class, options, weights or shapes), after which
    /// the rest of the model can still be read: the layer is reported, not lowered.
    var blocksOnlyConversion: Bool {
        switch self {
        // A layer whose own config keraslite cannot read (malformedConfig raised while building
        // that layer) is a blocker too; model-level config errors are raised outside a layer.
        case .unsupportedLayer, .lambdaLayer, .customObject, .unsupportedOption, .weights, .graph, .malformedConfig: return true
        default: return false
        }
    }
}

/// A layer keraslite can read but not lower to the graph IR, and why.
public struct ConversionBlocker: Sendable {
    public var layer: String
    public var className: String
    public var error: KerasError

    /// The reason without the file name.
    public var reason: String { error.reason }

    /// The `layer` of a blocker that concerns the whole model (a weights-only file).
    public static let wholeModel = "(model)"

    /// One line for all blockers: classes with counts (layer names for a few), then the first reason.
    static func summary(_ blockers: [ConversionBlocker]) -> String {
        var order: [String] = []
        var layers: [String: [String]] = [:]
        for blocker in blockers {
            if layers[blocker.className] == nil { order.append(blocker.className) }
            layers[blocker.className, default: []].append(blocker.layer)
        }
        let classes = order.map { className -> String in
            let names = layers[className]!
            let listed = names.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 3 ? ", …" : "")
            return "\(names.count) \(className) (\(listed))"
        }
        let count = blockers.count
        return "cannot convert: \(count) layer\(count == 1 ? "" : "s") keraslite cannot lower — \(classes.joined(separator: ", "))"
            + (blockers.first.map { "; first: \($0.reason)" } ?? "")
    }
}
