import FlatBuffers
import Foundation
import GraphIR
import HTML
import Keras
import ModelFile
import Passes
import TFLite
import TFLiteReports

/// A model reduced to what `diff` compares: ops in execution order (type, attributes, tensors)
/// and constant weights whose values are read, dequantized, only when compared.
///
/// Three levels exist. Keras files on both sides are compared as graph IR after the standard pass
/// pipeline (BatchNorm folded, activations fused). When either side is a `.tflite`, a Keras side
/// is lowered by keraslite's converter and both are compared as TFLite operators — the level
/// where the two files can be equal at all. When a Keras side has layers keraslite cannot lower,
/// both Keras files are compared as their layers (class, output shapes) and stored weights by name.
struct DiffView {
    enum Level: String { case graphIR = "graph IR", tflite = "TFLite operators", layers = "Keras layers" }

    struct TensorRef {
        var name: String
        var shape: String
        var dtype: String
        /// "per-tensor", "per-channel ×N (axis A)" or nil.
        var quantization: String?
        /// Index into `weights` when the tensor is a constant weight.
        var weight: Int?
        /// Values of a small non-weight constant (a shape, axes, paddings).
        var constantText: String?
    }

    struct Node {
        var name: String
        var type: String
        var attributes: [String: String]
        var inputs: [TensorRef?]
        var outputs: [TensorRef]
    }

    struct Weight {
        var name: String
        var shape: [Int]
        var dtype: String
        var quantization: String?
        var count: Int
        var values: () throws -> [Float]
        /// The stored bytes, when the values cannot be decoded (an element type keraslite does not
        /// dequantize): such weights are compared byte for byte.
        var rawBytes: (() -> Data?)? = nil
    }

    var path: String
    var format: String
    var level: Level
    var sizeBytes: Int
    /// The file's own parameter count (Keras' count_params, or the .tflite weight elements).
    var fileParams: Int
    var nodes: [Node] = []
    var weights: [Weight] = []
    /// Non-fatal notes about how the view was built (lowered by keraslite, DEQUANTIZE folded, …).
    var notes: [String] = []

    var params: Int { weights.reduce(0) { saturatingAdd($0, $1.count) } }

    init(path: String, format: String, level: Level, sizeBytes: Int, fileParams: Int) {
        self.path = path
        self.format = format
        self.level = level
        self.sizeBytes = sizeBytes
        self.fileParams = fileParams
    }

    /// The level two opened files are compared at.
    static func level(_ a: ModelFile, _ b: ModelFile) -> Level {
        func isTFLite(_ file: ModelFile) -> Bool { if case .tflite = file { return true } else { return false } }
        func isBlocked(_ file: ModelFile) -> Bool { if case .keras(let model) = file { return !model.isConvertible } else { return false } }
        if isTFLite(a) || isTFLite(b) { return .tflite }
        return isBlocked(a) || isBlocked(b) ? .layers : .graphIR
    }

    /// An opened model file at the requested level.
    static func load(_ file: ModelFile, path: String, level: Level) throws -> DiffView {
        let model: KerasModel
        switch file {
        case .tflite(let file): return try DiffView(tflite: file)
        case .keras(let keras): model = keras
        }
        if level == .layers { return DiffView(layersOf: model) }
        try model.requireConvertible()
        switch level {
        case .layers: return DiffView(layersOf: model)
        case .graphIR:
            try PassRegistry.run(PassRegistry.standardPipeline, on: model.graph)
            return DiffView(graph: model.graph, path: path, format: model.format.rawValue, sizeBytes: model.sizeBytes,
                            fileParams: model.params)
        case .tflite:
            let result = try TFLiteConverter.convert(model.graph)
            var view = try DiffView(tflite: try TFLiteFile(data: Data(result.bytes), path: path))
            view.format = model.format.rawValue
            view.sizeBytes = model.sizeBytes
            view.fileParams = model.params
            view.notes.append("\(path): lowered to TFLite by keraslite's converter (batch 1, standard passes)")
            return view
        }
    }

    // MARK: graph IR

    init(graph: Graph, path: String, format: String, sizeBytes: Int, fileParams: Int) {
        self.path = path
        self.format = format
        self.level = .graphIR
        self.sizeBytes = sizeBytes
        self.fileParams = fileParams
        var weightIndex: [ObjectIdentifier: Int] = [:]
        func reference(_ tensor: Tensor) -> TensorRef {
            var ref = TensorRef(name: tensor.name, shape: tensor.shape.text, dtype: tensor.dtype.rawValue,
                                quantization: tensor.quantization.map(Self.describe))
            if let constant = tensor.constant {
                if let index = weightIndex[ObjectIdentifier(tensor)] {
                    ref.weight = index
                } else {
                    weightIndex[ObjectIdentifier(tensor)] = weights.count
                    ref.weight = weights.count
                    weights.append(Weight(name: tensor.name, shape: tensor.shape.map { $0 ?? 0 }, dtype: tensor.dtype.rawValue,
                                          quantization: ref.quantization, count: constant.count,
                                          values: { try constant.valuesWithoutCaching() }))
                }
            }
            return ref
        }
        for op in graph.ops {
            var attributes: [String: String] = [:]
            for name in op.attributes.sortedNames { attributes[name] = op.attributes[name]?.description }
            nodes.append(Node(name: op.name, type: op.kind.rawValue, attributes: attributes,
                              inputs: op.inputs.map(reference), outputs: op.outputs.map(reference)))
        }
    }

    // MARK: Keras layers

    /// The model's layers (nested ones as `model/layer`) as nodes of their class, with their output
    /// shapes ("?" where unknown) and stored weights, each weight a weight by its Keras name.
    init(layersOf model: KerasModel) {
        path = model.path
        format = model.format.rawValue
        level = .layers
        sizeBytes = model.sizeBytes
        fileParams = model.params
        func add(_ layer: KerasLayer, prefix: String) {
            let name = prefix + layer.name
            var inputs: [TensorRef?] = []
            for weight in layer.weights {
                inputs.append(TensorRef(name: weight.name, shape: Shape(weight.shape.map { $0 }).text, dtype: weight.storedType,
                                        weight: weights.count))
                let data = weight.data
                weights.append(Weight(name: weight.name, shape: weight.shape, dtype: weight.storedType, count: weight.elementCount,
                                      values: { try data.valuesWithoutCaching() }))
            }
            let shapes = layer.outputShapes.isEmpty ? "?" : layer.outputShapes.map(\.text).joined(separator: " ")
            nodes.append(Node(name: name, type: layer.className, attributes: layer.isConvertible ? [:] : ["convertible": "no"],
                              inputs: inputs, outputs: [TensorRef(name: name, shape: shapes, dtype: "")]))
            for sublayer in layer.sublayers { add(sublayer, prefix: name + "/") }
        }
        for layer in model.layers { add(layer, prefix: "") }
        if !model.isConvertible {
            notes.append("\(path): compared as Keras layers and stored weights: \(model.blockers.count) layer\(model.blockers.count == 1 ? "" : "s") keraslite cannot lower")
        }
    }

    static func describe(_ quantization: GraphIR.Quantization) -> String {
        if let axis = quantization.axis, quantization.scales.count > 1 {
            return "per-channel ×\(quantization.scales.count) (axis \(axis))"
        }
        return "per-tensor"
    }

    // MARK: TFLite

    init(tflite file: TFLiteFile) throws {
        path = file.path
        format = "tflite"
        level = .tflite
        sizeBytes = file.sizeBytes
        fileParams = TFLiteInspectReport(file: file).params
        guard let subgraph = file.subgraphs.first else { return }
        if file.subgraphs.count > 1 {
            notes.append("\(file.path): \(file.subgraphs.count) subgraphs; only the main one (index 0) is compared")
        }
        let tensors = subgraph.tensors
        var weightOfTensor: [Int: Int] = [:]
        // Hostile files can point thousands of tensors at one buffer: decode at most what
        // `sparsity` would (16 values per file byte + 1 Mi) before giving up with an error.
        let budget = DecodeBudget(SparsityReport.valueLimit(fileSize: file.sizeBytes))

        func isWeight(_ tensor: TFLiteFile.TensorInfo) -> Bool {
            tensor.isConstant && (tensor.quantization != nil || !["int32", "int64"].contains(tensor.type))
        }
        func weight(for index: Int) -> Int? {
            if let known = weightOfTensor[index] { return known }
            let tensor = tensors[index]
            guard isWeight(tensor) else { return nil }
            let decoder = TFLiteTensorDecoder(tensor: tensor)
            let data = file.bufferData(tensor.buffer)
            weightOfTensor[index] = weights.count
            weights.append(Weight(name: tensor.name, shape: tensor.shape, dtype: tensor.type,
                                  quantization: tensor.quantization.map { Self.describe($0, type: tensor.type) },
                                  count: tensor.elementCount,
                                  values: {
                                      guard let decoder, let data else { throw DiffError.undecodable(tensor: tensor.name, type: tensor.type) }
                                      try budget.spend(tensor.elementCount, path: file.path)
                                      return try decoder.values(data)
                                  },
                                  rawBytes: { data }))
            return weights.count - 1
        }

        // DEQUANTIZE of a constant (float16 weights, TensorFlow's dequantized int8 weights) and
        // DENSIFY of a sparse constant are storage details: the output stands for the stored weight.
        var folded: [Int: Int] = [:]
        for op in subgraph.operators where ["DEQUANTIZE", "DENSIFY"].contains(op.name) && op.inputs.count == 1 && op.outputs.count == 1 {
            let input = folded[op.inputs[0]] ?? op.inputs[0]   // DENSIFY then DEQUANTIZE: back to the stored tensor
            guard tensors.indices.contains(input), tensors.indices.contains(op.outputs[0]), isWeight(tensors[input]) else { continue }
            folded[op.outputs[0]] = input
        }
        if !folded.isEmpty {
            notes.append("\(file.path): \(folded.count) DEQUANTIZE/DENSIFY ops of constant weights folded into their weights")
        }

        func reference(_ index: Int) -> TensorRef? {
            guard tensors.indices.contains(index) else { return nil }
            let source = folded[index] ?? index
            let tensor = tensors[source]
            var ref = TensorRef(name: tensors[index].name, shape: Self.shapeText(tensor), dtype: tensor.type,
                                quantization: tensor.quantization.map { Self.describe($0, type: tensor.type) })
            if tensor.isConstant {
                if let weight = weight(for: source) {
                    ref.weight = weight
                    ref.name = tensor.name
                } else if let data = file.bufferData(tensor.buffer) {
                    ref.constantText = Self.integerText(data, type: tensor.type)
                }
            }
            return ref
        }

        for op in subgraph.operators {
            if ["DEQUANTIZE", "DENSIFY"].contains(op.name), let output = op.outputs.first, folded[output] != nil { continue }
            var attributes: [String: String] = [:]
            for (key, value) in op.options { attributes[key] = value }
            let outputs = op.outputs.compactMap(reference)
            nodes.append(Node(name: outputs.first?.name ?? "\(op.name)#\(op.index)", type: op.name, attributes: attributes,
                              inputs: op.inputs.map(reference), outputs: outputs))
        }
    }

    /// The stored shape; a dynamic batch (shape_signature -1) is stored as 1, which is also what a
    /// Keras model lowered at batch 1 has, so the two compare equal.
    static func shapeText(_ tensor: TFLiteFile.TensorInfo) -> String {
        "[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
    }

    static func describe(_ quantization: TFLiteFile.Quantization, type: String) -> String {
        if quantization.scales.count > 1 {
            return "per-channel ×\(quantization.scales.count) (axis \(quantization.quantizedDimension))"
        }
        return "per-tensor"
    }

    static func integerText(_ data: Data, type: String) -> String? {
        let width: Int
        switch type { case "int32": width = 4; case "int64": width = 8; default: return nil }
        let count = data.count / width
        guard count <= 16 else { return "\(count) values" }
        let values: [Int64] = data.withUnsafeBytes { bytes in
            (0..<count).map { width == 4 ? Int64(bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))
                                         : bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
        }
        return "[" + values.map(String.init).joined(separator: ",") + "]"
    }
}

/// How many weight values a view may still decode.
final class DecodeBudget: @unchecked Sendable {
    private var remaining: Int
    init(_ limit: Int) { remaining = limit }
    func spend(_ count: Int, path: String) throws {
        guard count <= remaining else {
            throw FlatBufferError.invalid("\(path) asks to decode more weight values than a file of its size can hold")
        }
        remaining -= count
    }
}

enum DiffError: Error, CustomStringConvertible {
    case undecodable(tensor: String, type: String)
    case inFile(String, Error)
    var description: String {
        switch self {
        case .undecodable(let tensor, let type): return "cannot decode weight '\(tensor)' of type \(type)"
        case .inFile(let path, let error):
            let text = "\(error)"
            return text.hasPrefix(path) ? text : "\(path): \(text)"
        }
    }

    /// Runs `body`, naming `path` in any error it throws (library errors do not all know their file).
    static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw DiffError.inFile(path, error) }
    }
}
