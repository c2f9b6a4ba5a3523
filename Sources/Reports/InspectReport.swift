import GraphIR
import HTML
import JSON
import Keras
import TFLiteReports

/// What `keraslite inspect` reports about a Keras file: facts, inputs/outputs and a per-layer table.
public struct InspectReport: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var type: String
        public var params: Int
        public var weightBytes: Int
        public var outputShapes: [Shape]
        public var calls: Int
        /// Exact zeros among the layer's weights; nil when weights were not read.
        public var zeros: Int?
        public var sublayers: [Layer]
        /// Whether the layer (and everything inside it) lowers to the graph IR.
        public var convertible: Bool
    }

    public struct TensorInfo: Sendable {
        public var name: String
        /// nil when a layer keraslite cannot lower produced it.
        public var shape: Shape?
        public var dtype: String
    }

    /// A layer keraslite reads but cannot lower.
    public struct Blocker: Sendable {
        public var layer: String
        public var className: String
        public var reason: String
    }

    public var path: String
    public var format: String
    public var kerasVersion: String?
    public var backend: String?
    public var modelClass: String
    public var params: Int
    public var weightBytes: Int
    public var sizeBytes: Int
    public var inputs: [TensorInfo]
    public var outputs: [TensorInfo]
    public var layers: [Layer]
    public var zeros: Int?
    public var opCount: Int
    /// Every layer that keeps the model from converting (empty when it converts).
    public var blockers: [Blocker]
    public var convertible: Bool { blockers.isEmpty }

    /// Builds the report. With `countZeros` every weight is read once to count exact zeros;
    /// without it only metadata is read.
    public init(model: KerasModel, countZeros: Bool) throws {
        path = model.path
        format = model.format.rawValue
        kerasVersion = model.kerasVersion
        backend = model.backend
        modelClass = model.className
        params = model.params
        weightBytes = model.weightBytes
        sizeBytes = model.sizeBytes
        func info(_ tensor: Tensor) -> TensorInfo {
            TensorInfo(name: tensor.name, shape: model.hasKnownShape(tensor) ? tensor.shape : nil, dtype: tensor.dtype.rawValue)
        }
        inputs = model.graph.inputs.map(info)
        outputs = model.graph.outputs.map(info)
        blockers = model.blockers.map { Blocker(layer: $0.layer, className: $0.className, reason: $0.reason) }
        func describe(_ layer: KerasLayer) throws -> Layer {
            let sublayers = try layer.sublayers.map(describe)
            var zeros: Int?
            if countZeros {
                var count = 0
                for weight in layer.weights { count += WeightStatistics.countZeros(try weight.data.valuesWithoutCaching()) }
                zeros = count + sublayers.reduce(0) { $0 + ($1.zeros ?? 0) }
            }
            return Layer(name: layer.name, type: layer.className, params: layer.params, weightBytes: layer.weightBytes,
                         outputShapes: layer.outputShapes, calls: layer.callCount, zeros: zeros, sublayers: sublayers,
                         convertible: layer.isConvertible)
        }
        layers = try model.layers.map(describe)
        zeros = countZeros ? layers.reduce(0) { $0 + ($1.zeros ?? 0) } : nil
        opCount = model.graph.ops.count
    }
}

extension InspectReport {
    /// The `--json` form; keys documented in docs/json.md and stable.
    public var json: JSON {
        func shapeJSON(_ shape: Shape) -> JSON { .array(shape.map { $0.map { JSON.number(Double($0)) } ?? .null }) }
        func tensorJSON(_ tensor: TensorInfo) -> JSON {
            ["name": .string(tensor.name), "shape": tensor.shape.map(shapeJSON) ?? .null, "dtype": .string(tensor.dtype)]
        }
        func layerJSON(_ layer: Layer) -> JSON {
            var object: [String: JSON] = [
                "name": .string(layer.name), "type": .string(layer.type), "params": .number(Double(layer.params)),
                "weight_bytes": .number(Double(layer.weightBytes)), "calls": .number(Double(layer.calls)),
                "output_shape": layer.outputShapes.count == 1 ? shapeJSON(layer.outputShapes[0])
                    : layer.outputShapes.isEmpty && !convertible ? .null : .array(layer.outputShapes.map(shapeJSON)),
                "convertible": .bool(layer.convertible),
            ]
            if let zeros = layer.zeros { object["zeros"] = .number(Double(zeros)) }
            if !layer.sublayers.isEmpty { object["layers"] = .array(layer.sublayers.map(layerJSON)) }
            return .object(object)
        }
        var object: [String: JSON] = [
            "file": .string(path), "format": .string(format),
            "keras_version": kerasVersion.map(JSON.string) ?? .null, "backend": backend.map(JSON.string) ?? .null,
            "model_class": .string(modelClass), "params": .number(Double(params)),
            "weight_bytes": .number(Double(weightBytes)), "size_bytes": .number(Double(sizeBytes)),
            "inputs": .array(inputs.map(tensorJSON)), "outputs": .array(outputs.map(tensorJSON)),
            "layers": .array(layers.map(layerJSON)), "ops": .number(Double(opCount)),
            "convertible": .bool(convertible),
            "not_convertible": .array(blockers.map { .object(["layer": .string($0.layer), "class": .string($0.className),
                                                               "reason": .string($0.reason)]) }),
        ]
        if let zeros { object["zeros"] = .number(Double(zeros)) }
        return .object(object)
    }

    /// The terminal table.
    public func text() -> String {
        var lines: [String] = []
        let version = kerasVersion.map { "Keras \($0)" } ?? "Keras version not recorded"
        let backendText = backend.map { " (\($0))" } ?? ""
        lines.append("\(path): \(format), \(modelClass) written by \(version)\(backendText), \(formatBytes(sizeBytes))")
        for input in inputs { lines.append("  input  \(input.name) \(input.dtype)\(input.shape?.text ?? " ?")") }
        for output in outputs { lines.append("  output \(output.name) \(output.shape.map { output.dtype + $0.text } ?? "?")") }
        lines.append("")
        var rows: [[String]] = [["layer", "class", "output shape", "params", "weights", "zeros"]]
        func addRows(_ layer: Layer, depth: Int) {
            let shapes = layer.outputShapes.isEmpty && !convertible ? "?" : layer.outputShapes.map(\.text).joined(separator: " ")
            let shared = layer.calls > 1 ? " ×\(layer.calls)" : ""
            let zeros: String
            if let count = layer.zeros, layer.params > 0 {
                zeros = formatPercent(Double(count) / Double(layer.params))
            } else {
                zeros = "-"
            }
            rows.append([String(repeating: "  ", count: depth) + layer.name + shared, layer.type + (layer.convertible ? "" : " ✗"), shapes,
                         formatCount(layer.params), formatBytes(layer.weightBytes), zeros])
            for sublayer in layer.sublayers { addRows(sublayer, depth: depth + 1) }
        }
        for layer in layers { addRows(layer, depth: 0) }
        lines += renderTable(rows, rightAligned: [3, 4, 5])
        lines.append("")
        var total = "total: \(formatCount(params)) params, \(formatBytes(weightBytes)) of weights"
        if let zeros, params > 0 { total += ", \(formatPercent(Double(zeros) / Double(params))) exact zeros" }
        total += convertible ? "; \(opCount) graph ops" : "; not convertible"
        lines.append(total)
        if !convertible {
            lines.append("")
            lines.append("✗ \(blockers.count) layer\(blockers.count == 1 ? "" : "s") keraslite cannot lower (inspect, sparsity and diff read them; convert, graph and run need them lowered):")
            lines += renderTable(blockers.map { ["  " + $0.layer, $0.className, $0.reason] }, rightAligned: [])
        }
        return printable(lines.joined(separator: "\n") + "\n")
    }
}
