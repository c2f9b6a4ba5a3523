import FlatBuffers
import Foundation
import GraphIR
import Kernels

/// How `convert --quantize` stores weights. `float16` and `dynamic` need no calibration data.
public enum QuantizationMode: String, Sendable, CaseIterable {
    /// float32 everywhere.
    case none
    /// Every float32 constant stored as float16, widened at start-up by DEQUANTIZE ops (as
    /// TensorFlow's `supported_types = [tf.float16]` writes it): half the size, float kernels.
    case float16
    /// Dynamic-range: int8 weights (symmetric, per output channel) for CONV_2D,
    /// DEPTHWISE_CONV_2D and FULLY_CONNECTED, and (one scale per tensor) for the eight gate
    /// weights of UNIDIRECTIONAL_SEQUENCE_LSTM; float activations; LiteRT's hybrid kernels quantize
    /// activations on the fly. Weights under `minElements` stay float, as TensorFlow does (an
    /// LSTM with any weight under it keeps all eight float).
    case dynamic
    /// Full integer: int8 activations with scales from calibration data, per-channel int8
    /// weights, int32 biases (`Int8Quantizer`).
    case int8
}

/// Weight quantization settings for `TFLiteConverter`.
public struct QuantizationOptions: Sendable {
    public var mode: QuantizationMode
    /// Weights with fewer elements stay float32 in `dynamic` mode (TensorFlow's threshold: 1024).
    public var minElements: Int
    /// Keras layer names whose ops keep float32 weights in every mode.
    public var keepFloat: Set<String>

    /// int8: the model inputs' and outputs' type.
    public var io: QuantizedIOType
    /// int8: runs calibration data through the float32 model the converter lowered (the bytes of
    /// its .tflite) and returns the range of every tensor it saw, by tensor index — so the
    /// intermediates of multi-builtin lowerings (layer norm, Keras 2 hard_sigmoid, an unfolded
    /// batch norm's MUL) get ranges too, as TensorFlow calibrates its float model.
    public var calibrate: (@Sendable (_ floatModel: TFLiteFile) throws -> [Int: ValueRange])?

    public init(mode: QuantizationMode = .none, minElements: Int = 1024, keepFloat: Set<String> = [],
                io: QuantizedIOType = .float32, calibrate: (@Sendable (_ floatModel: TFLiteFile) throws -> [Int: ValueRange])? = nil) {
        self.mode = mode
        self.minElements = minElements
        self.keepFloat = keepFloat
        self.io = io
        self.calibrate = calibrate
    }
}

/// Scales and zero points of a quantized tensor. A class so that scales computed while a buffer
/// is written (the weights are read once, at that moment) reach the tensor table written after it.
final class QuantizationParameters {
    var scales: [Float]
    var zeroPoints: [Int64]
    var axis: Int

    init(scales: [Float] = [], zeroPoints: [Int64] = [], axis: Int = 0) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = axis
    }
}

/// Rewrites a lowered `TFLiteModel` to store its weights as `QuantizationOptions` asks.
struct WeightQuantizer {
    let options: QuantizationOptions

    /// Layer names the model was asked to keep float that match no op (reported as an error).
    func unknownKeepFloatNames(in model: TFLiteModel) -> [String] {
        let layers = Set(model.operators.flatMap(\.layers))
        return options.keepFloat.sorted().filter { !layers.contains($0) }
    }

    func apply(to model: TFLiteModel) throws {
        let unknown = unknownKeepFloatNames(in: model)
        guard unknown.isEmpty else {
            throw ConversionError.unsupported(op: unknown.joined(separator: ", "), detail: "--keep-float names no layer of this model")
        }
        switch options.mode {
        case .none: return
        case .float16: try float16(model)
        case .dynamic: try dynamicRange(model)
        case .int8: return  // Int8Quantizer, which needs the calibrated ranges
        }
    }

    /// True when the operator computes a --keep-float layer (by the Keras layers of its IR op).
    func keptFloat(_ op: TFLiteModel.OperatorEntry) -> Bool {
        op.layers.contains(where: options.keepFloat.contains)
    }

    // MARK: float16

    private func float16(_ model: TFLiteModel) throws {
        var replacement: [Int32: Int32] = [:]
        var dequantizeOps: [TFLiteModel.OperatorEntry] = []
        let consumers = consumerMap(model)
        for index in model.tensors.indices {
            let tensor = model.tensors[index]
            guard tensor.type == .FLOAT32, tensor.buffer != 0, model.buffers[Int(tensor.buffer)].byteCount > 0,
                  let users = consumers[Int32(index)], !users.isEmpty else { continue }
            if users.allSatisfy({ keptFloat(model.operators[$0]) }) { continue }
            let buffer = model.buffers[Int(tensor.buffer)]
            let elementCount = buffer.byteCount / 4
            let source = buffer.contents
            model.buffers[Int(tensor.buffer)] = .init(byteCount: elementCount * 2) {
                .bytes(try Self.float16Bytes(try source().floatValues()))
            }
            model.tensors[index].type = .FLOAT16
            let widened = Int32(model.tensors.count)
            model.tensors.append(.init(name: tensor.name + "/dequantize", shape: tensor.shape, shapeSignature: nil,
                                       type: .FLOAT32, buffer: 0))
            replacement[Int32(index)] = widened
            dequantizeOps.append(.init(opcodeIndex: model.opcodeIndex(.DEQUANTIZE, version: 3), inputs: [Int32(index)],
                                       outputs: [widened], optionsType: .NONE, options: nil))
        }
        for op in model.operators.indices {
            model.operators[op].inputs = model.operators[op].inputs.map { replacement[$0] ?? $0 }
        }
        model.operators.insert(contentsOf: dequantizeOps, at: 0)
    }

    static func float16Bytes(_ values: [Float]) throws -> [UInt8] {
        #if arch(x86_64) || arch(arm64)
        var bytes = [UInt8](repeating: 0, count: values.count * 2)
        bytes.withUnsafeMutableBytes { raw in
            let halves = raw.bindMemory(to: UInt16.self)
            for (i, value) in values.enumerated() { halves[i] = Float16(value).bitPattern.littleEndian }
        }
        return bytes
        #else
        throw ConversionError.unsupported(op: "model", detail: "float16 is not available on this platform")
        #endif
    }

    // MARK: dynamic range

    private func dynamicRange(_ model: TFLiteModel) throws {
        let consumers = consumerMap(model)
        func quantize(_ weight: Int32, axis: Int, perTensor: Bool = false) throws {
            let tensor = model.tensors[Int(weight)]
            let elementCount = tensor.shape.reduce(1) { $0 * Int($1) }
            let shape = tensor.shape.map(Int.init), channelAxis = perTensor ? nil : axis
            let source = model.buffers[Int(tensor.buffer)].contents
            // The scales now (the tensor table is written before its buffer), the bytes again when
            // the file is written: the weights are not held in memory in between.
            let (_, scales) = try Self.symmetricInt8(try source(), shape: shape, axis: channelAxis)
            let parameters = QuantizationParameters(scales: scales, zeroPoints: [Int64](repeating: 0, count: scales.count),
                                                    axis: perTensor ? 0 : axis)
            model.buffers[Int(tensor.buffer)] = .init(byteCount: elementCount) {
                .bytes(try Self.symmetricInt8(try source(), shape: shape, axis: channelAxis).bytes)
            }
            model.tensors[Int(weight)].type = .INT8
            model.tensors[Int(weight)].quantization = parameters
        }
        /// A float32 constant of at least `minElements` values that only this operator reads.
        func quantizable(_ weight: Int32, of entry: TFLiteModel.OperatorEntry) -> Bool {
            guard weight >= 0 else { return false }
            let tensor = model.tensors[Int(weight)]
            return tensor.type == .FLOAT32 && tensor.buffer != 0 && tensor.shape.reduce(1, { $0 * Int($1) }) >= options.minElements
                && consumers[weight]?.count == 1 && !keptFloat(entry)
        }
        for op in model.operators.indices {
            let code = model.operatorCodes[Int(model.operators[op].opcodeIndex)].code
            if code == .UNIDIRECTIONAL_SEQUENCE_LSTM {
                // TensorFlow quantizes an LSTM's gate weights (inputs 1–8) all or none, one scale per
                // tensor, and has the hybrid kernel quantize its input asymmetrically (version 3).
                let entry = model.operators[op]
                let weights = entry.inputs.count > 8 ? Array(entry.inputs[1...8]) : []
                guard !weights.isEmpty, weights.allSatisfy({ quantizable($0, of: entry) }), let activation = entry.sequenceLSTM else { continue }
                for weight in weights { try quantize(weight, axis: 0, perTensor: true) }
                model.operators[op].opcodeIndex = model.opcodeIndex(code, version: 3)
                model.operators[op].options = Options.table { builder in
                    try builder.add(Field.UnidirectionalSequenceLSTMOptions.fused_activation_function, activation.rawValue, default: 0)
                    try builder.add(Field.UnidirectionalSequenceLSTMOptions.asymmetric_quantize_inputs, true, default: false)
                }
                continue
            }
            let axis: Int, version: Int32
            switch code {
            case .CONV_2D: (axis, version) = (0, 5)
            case .DEPTHWISE_CONV_2D: (axis, version) = (3, 6)
            case .FULLY_CONNECTED: (axis, version) = (0, 12)
            default: continue
            }
            let entry = model.operators[op]
            guard entry.inputs.count > 1, quantizable(entry.inputs[1], of: entry) else { continue }
            try quantize(entry.inputs[1], axis: axis)
            model.operators[op].opcodeIndex = model.opcodeIndex(code, version: version)
            if code == .FULLY_CONNECTED, let fullyConnected = entry.fullyConnected {
                // Hybrid FULLY_CONNECTED quantizes its input asymmetrically, as TensorFlow writes it.
                model.operators[op].options = Options.table { builder in
                    try builder.add(Field.FullyConnectedOptions.fused_activation_function, fullyConnected.activation.rawValue, default: 0)
                    try builder.add(Field.FullyConnectedOptions.keep_num_dims, fullyConnected.keepNumDims, default: false)
                    try builder.add(Field.FullyConnectedOptions.asymmetric_quantize_inputs, true, default: false)
                }
            }
        }
        model.pruneOperatorCodes()
    }

    /// Symmetric int8 per channel along `axis` of the tensor's final layout `shape` (nil: one scale
    /// for the whole tensor): scale = max|w| / 127, q = round(w / scale) in [-127, 127]
    /// (`SymmetricInt8`). Weights still in their Keras layout are quantized as they are stored and
    /// only the bytes reordered, so no float copy of the reordered tensor is made.
    static func symmetricInt8(_ contents: TFLiteModel.Contents, shape: [Int], axis: Int?) throws -> (bytes: [UInt8], scales: [Float]) {
        func layout(_ shape: [Int], _ axis: Int?, count: Int) -> (channels: Int, inner: Int) {
            axis.map { (shape[$0], shape[($0 + 1)...].reduce(1, *)) } ?? (1, count)
        }
        if case .permuted(let values, let stored, let permutation) = contents, permutation.map({ stored[$0] }) == shape,
           let (rows, columns) = transposeSides(stored, permutation) {
            let (channels, inner) = layout(stored, axis.map { permutation[$0] }, count: values.count)
            var quantized = [Int8](repeating: 0, count: values.count)
            let scales = values.withUnsafeBufferPointer { values in
                quantized.withUnsafeMutableBufferPointer { SymmetricInt8.quantize(values, channels: channels, inner: inner, into: $0) }
            }
            var bytes = [UInt8](repeating: 0, count: values.count)
            quantized.withUnsafeBufferPointer { quantized in
                bytes.withUnsafeMutableBytes { SymmetricInt8.transpose(quantized, rows: rows, columns: columns, into: $0.bindMemory(to: Int8.self)) }
            }
            return (bytes, scales)
        }
        let values = try contents.floatValues()
        let (channels, inner) = layout(shape, axis, count: values.count)
        var bytes = [UInt8](repeating: 0, count: values.count)
        let scales = values.withUnsafeBufferPointer { values in
            bytes.withUnsafeMutableBytes { SymmetricInt8.quantize(values, channels: channels, inner: inner, into: $0.bindMemory(to: Int8.self)) }
        }
        return (bytes, scales)
    }

    /// Tensor index → the operators reading it.
    private func consumerMap(_ model: TFLiteModel) -> [Int32: [Int]] {
        var map: [Int32: [Int]] = [:]
        for (index, op) in model.operators.enumerated() {
            for input in Set(op.inputs) where input >= 0 { map[input, default: []].append(index) }
        }
        return map
    }
}

extension TFLiteModel.Contents {
    /// The float values in their final layout (permutations applied).
    func floatValues() throws -> [Float] {
        switch self {
        case .floats(let values): return values
        case .permuted(let values, let shape, let permutation): return permute(values, shape: shape, permutation)
        default: throw ConversionError.unsupported(op: "model", detail: "a float32 constant holds non-float data")
        }
    }
}
