import FlatBuffers
import GraphIR

/// What full-integer quantization does with one builtin: the op version of its int8 kernel, how
/// its output's scale and zero point are chosen, and which inputs are weights. Builtins without a
/// row stay float32, with DEQUANTIZE/QUANTIZE around them.
struct Int8OpRule {
    enum Output {
        /// From the output's calibrated range.
        case calibrated
        /// The input's parameters: the kernel moves or picks values without rescaling them, and
        /// LiteRT requires equal parameters (pools, reshape, pad, transpose, resize, …).
        case sameAsInput
        /// Parameters LiteRT's kernel requires (SOFTMAX and LOGISTIC: 1/256 and −128).
        case fixed(scale: Float, zeroPoint: Int64)
    }

    var version: Int32
    var output: Output
    /// The input that holds the weights (symmetric int8, one scale per channel along `axis`).
    var weight: (index: Int, axis: Int)? = nil
    /// The int32 bias input (scale = input scale × weight scale per channel).
    var bias: Int? = nil
    /// The activation input whose scale the bias uses.
    var activation = 0
    /// Every input must have the output's parameters (LiteRT compares raw int8 values).
    var inputsShareOutput = false
}

/// Builtin → int8 rule: the op versions are those TensorFlow's op_version.cc assigns to int8
/// kernels; the parameter constraints are the ones LiteRT's kernels check in Prepare.
enum Int8OpTable {
    static let rules: [BuiltinOperator: Int8OpRule] = [
        .CONV_2D: .init(version: 3, output: .calibrated, weight: (1, 0), bias: 2),
        .DEPTHWISE_CONV_2D: .init(version: 3, output: .calibrated, weight: (1, 3), bias: 2),
        .FULLY_CONNECTED: .init(version: 4, output: .calibrated, weight: (1, 0), bias: 2),
        .TRANSPOSE_CONV: .init(version: 3, output: .calibrated, weight: (1, 0), bias: 3, activation: 2),
        .ADD: .init(version: 2, output: .calibrated),
        .SUB: .init(version: 2, output: .calibrated),
        .MUL: .init(version: 2, output: .calibrated),
        .MEAN: .init(version: 2, output: .calibrated),
        .RELU: .init(version: 2, output: .calibrated),
        .RELU6: .init(version: 2, output: .calibrated),
        .LEAKY_RELU: .init(version: 2, output: .calibrated),
        .HARD_SWISH: .init(version: 1, output: .calibrated),
        .PRELU: .init(version: 1, output: .calibrated),
        .GELU: .init(version: 2, output: .calibrated),
        .ELU: .init(version: 1, output: .calibrated),
        .CONCATENATION: .init(version: 2, output: .calibrated, inputsShareOutput: true),
        .MAXIMUM: .init(version: 2, output: .calibrated, inputsShareOutput: true),
        .MINIMUM: .init(version: 2, output: .calibrated, inputsShareOutput: true),
        .MAX_POOL_2D: .init(version: 2, output: .sameAsInput),
        .AVERAGE_POOL_2D: .init(version: 2, output: .sameAsInput),
        .RESHAPE: .init(version: 1, output: .sameAsInput),
        .TRANSPOSE: .init(version: 2, output: .sameAsInput),
        .PAD: .init(version: 2, output: .sameAsInput),
        .SLICE: .init(version: 2, output: .sameAsInput),
        .SPLIT: .init(version: 2, output: .sameAsInput),
        .UNPACK: .init(version: 2, output: .sameAsInput),
        .PACK: .init(version: 2, output: .calibrated, inputsShareOutput: true),
        .TILE: .init(version: 2, output: .sameAsInput),
        .REDUCE_MAX: .init(version: 2, output: .sameAsInput),
        .RESIZE_BILINEAR: .init(version: 2, output: .sameAsInput),
        .RESIZE_NEAREST_NEIGHBOR: .init(version: 2, output: .sameAsInput),
        .SOFTMAX: .init(version: 2, output: .fixed(scale: 1.0 / 256, zeroPoint: -128)),
        .LOGISTIC: .init(version: 2, output: .fixed(scale: 1.0 / 256, zeroPoint: -128)),
        .TANH: .init(version: 2, output: .fixed(scale: 1.0 / 128, zeroPoint: 0)),
        .LOG_SOFTMAX: .init(version: 2, output: .fixed(scale: 16.0 / 256, zeroPoint: 127)),
    ]

    /// Builtins the lowering emits that full-integer models keep float32 (between DEQUANTIZE and
    /// QUANTIZE, one warning per type), with the reason. With `rules` this covers every builtin
    /// `LoweringTable` declares (a test checks it).
    static let keptFloat: [BuiltinOperator: String] = [
        .RSQRT: "the layer-norm variance keeps full precision",
        .GREATER: "the parameterized ReLU's boolean condition",
        .SELECT_V2: "the parameterized ReLU's select of float branches",
        .EXP: "inside composite activations (ELU with α ≠ 1, softplus, mish) and `exponential`; no int8 rule",
        .LOG: "inside softplus and mish; no int8 rule",
        .ABS: "inside softplus, mish and softsign; no int8 rule",
        .NEG: "inside softplus and mish; no int8 rule",
        .DIV: "softsign's division; no int8 rule",
        .BATCH_MATMUL: "a product of two activations (attention scores and context); no int8 rule yet",
        .L2_NORMALIZATION: "Dot(normalize=True); no int8 rule yet",
        .CONV_3D: "LiteRT's CONV_3D kernel is float32 only",
        .CONV_3D_TRANSPOSE: "LiteRT's CONV_3D_TRANSPOSE kernel is float32 only",
        .GATHER: "Embedding's table lookup on int32 ids; readers quantize its output",
        .CAST: "integer ids and masks, not activations",
        .NOT_EQUAL: "the mask's boolean comparison", .REDUCE_ANY: "the mask's boolean reduction",
        .REVERSE_V2: "Bidirectional's backward sequence; no int8 rule",
        .UNIDIRECTIONAL_SEQUENCE_LSTM: "LiteRT's integer LSTM needs 16-bit states and calibrated gate intermediates keraslite does not compute; the LSTM runs float32",
    ]
}

/// The model inputs' and outputs' type after full-integer quantization (`--io`).
public enum QuantizedIOType: String, Sendable, CaseIterable {
    /// float32 in and out, QUANTIZE after the inputs and DEQUANTIZE before the outputs (TensorFlow's default).
    case float32
    /// int8 in and out with the calibrated scales: no conversion ops.
    case int8
    /// uint8 in and out (zero point + 128), QUANTIZE ops converting to and from int8 at the boundary.
    case uint8
}

/// A float32 activation of the float model and its quantized version in the full-integer model:
/// what a quantization report compares, paired by identity rather than by name.
public struct QuantizedTensorPair: Sendable, Equatable {
    /// The tensor's index in the float model (`TFLiteConverter.Result.floatModel`).
    public var floatTensor: Int
    /// The index of its int8 version in the full-integer model (the tensor itself once rewritten,
    /// or its QUANTIZE copy; a uint8 model input is its own version).
    public var quantizedTensor: Int
    /// The Keras layer of the operator that writes it (after fusions, the last of the op's
    /// layers: what `--keep-float` takes); a model input's own name.
    public var layer: String
}

/// Rewrites a lowered float32 `TFLiteModel` into a full-integer one: int8 activations with
/// calibrated scales, symmetric per-channel int8 weights, int32 biases. Ops without an int8 kernel
/// (or without a calibrated range, or kept float) stay float32 behind DEQUANTIZE/QUANTIZE.
struct Int8Quantizer {
    /// What `apply` did: one warning per reason ops stayed float (empty when every op is int8),
    /// and every float activation that has a quantized version, in float tensor order.
    struct Outcome {
        var warnings: [String]
        var pairs: [QuantizedTensorPair]
    }

    let ranges: [Int32: ValueRange]
    let io: QuantizedIOType
    let keptFloat: (TFLiteModel.OperatorEntry) -> Bool

    private typealias Parameters = (scale: Float, zeroPoint: Int64)
    private static let keptFloatReason = "--keep-float"
    private static let onlyFloatReadersReason = "only float32 ops read its output"

    /// Rewrites `model` in place; its tensor indices before are those of the float model.
    func apply(to model: TFLiteModel) throws -> Outcome {
        let original = model.operators
        var rewritten: [TFLiteModel.OperatorEntry] = []
        /// Tensor index → its int8 version (itself once rewritten, or a QUANTIZE copy) and parameters.
        var int8Version: [Int32: (tensor: Int32, parameters: Parameters)] = [:]
        /// Tensor index (now int8) → a DEQUANTIZE copy for float consumers.
        var floatVersion: [Int32: Int32] = [:]
        var requantized: [String: Int32] = [:]
        var weightCache: [String: Int32] = [:]
        var fallbacks: [String: [String]] = [:]  // "CODE\treason" → output tensor names

        func name(_ tensor: Int32) -> String { model.tensors[Int(tensor)].name }
        let floatNames = model.tensors.map(\.name)  // model outputs are renamed below
        func isConstant(_ tensor: Int32) -> Bool {
            let entry = model.tensors[Int(tensor)]
            return entry.buffer != 0 && model.buffers[Int(entry.buffer)].byteCount > 0
        }
        /// The float32 activations of the float model (some become int8 as the rewrite goes).
        let activations = Set(model.tensors.indices.map(Int32.init).filter { model.tensors[Int($0)].type == .FLOAT32 && !isConstant($0) })
        func isFloatActivation(_ tensor: Int32) -> Bool { activations.contains(tensor) }
        func newTensor(_ name: String, like tensor: Int32, type: TensorType, _ parameters: Parameters?) -> Int32 {
            var entry = model.tensors[Int(tensor)]
            entry.name = name
            entry.type = type
            entry.buffer = 0
            entry.quantization = parameters.map { QuantizationParameters(scales: [$0.scale], zeroPoints: [$0.zeroPoint]) }
            model.tensors.append(entry)
            return Int32(model.tensors.count - 1)
        }
        func emit(_ code: BuiltinOperator, version: Int32, _ input: Int32, _ output: Int32) {
            rewritten.append(.init(opcodeIndex: model.opcodeIndex(code, version: version), inputs: [input], outputs: [output],
                                   optionsType: .NONE, options: nil))
        }
        /// The int8 version of an activation tensor, with `required` parameters when given.
        func int8(_ tensor: Int32, required: Parameters? = nil) -> (tensor: Int32, parameters: Parameters)? {
            if let existing = int8Version[tensor] {
                guard let required, required != existing.parameters else { return existing }
                let key = "\(tensor)/\(required.scale)/\(required.zeroPoint)"
                if let copy = requantized[key] { return (copy, required) }
                let copy = newTensor(name(tensor) + "/requantize", like: tensor, type: .INT8, required)
                emit(.QUANTIZE, version: 2, existing.tensor, copy)
                requantized[key] = copy
                return (copy, required)
            }
            guard let parameters = required ?? ranges[tensor]?.int8Parameters else { return nil }
            let copy = newTensor(name(tensor) + "/quantize", like: tensor, type: .INT8, parameters)
            emit(.QUANTIZE, version: 1, tensor, copy)
            if required == nil { int8Version[tensor] = (copy, parameters) } else { requantized["\(tensor)/\(parameters.scale)/\(parameters.zeroPoint)"] = copy }
            return (copy, parameters)
        }
        /// The float version of a tensor that may have become int8.
        func float(_ tensor: Int32) -> Int32 {
            guard let version = int8Version[tensor], version.tensor == tensor else { return tensor }
            if let copy = floatVersion[tensor] { return copy }
            let copy = newTensor(name(tensor) + "/dequantize", like: tensor, type: .FLOAT32, nil)
            emit(.DEQUANTIZE, version: 2, tensor, copy)
            floatVersion[tensor] = copy
            return copy
        }

        // Model inputs (integer ids stay as they are).
        for input in model.inputs where io != .float32 && isFloatActivation(input) {
            guard let parameters = ranges[input]?.int8Parameters else {
                throw ConversionError.unsupported(op: name(input), detail: "no calibration range for the model input")
            }
            if io == .int8 {
                setQuantized(model, input, type: .INT8, parameters)
                int8Version[input] = (input, parameters)
            } else {
                let copy = newTensor(name(input) + "/int8", like: input, type: .INT8, parameters)
                setQuantized(model, input, type: .UINT8, (parameters.scale, parameters.zeroPoint + 128))
                emit(.QUANTIZE, version: 1, input, copy)
                int8Version[input] = (copy, parameters)
            }
        }

        // A light op (not a convolution or dense layer) whose every reader has no int8 kernel, or
        // is such a light op itself, stays float32: quantizing a value only float ops read adds a
        // rounding and a DEQUANTIZE for nothing — e.g. the variance feeding a layer norm's RSQRT
        // keeps full precision. Ops kept float by --keep-float or a missing range do not spread.
        var readers: [Int32: [Int]] = [:]
        for (position, op) in original.enumerated() {
            for input in Set(op.inputs) where input >= 0 { readers[input, default: []].append(position) }
        }
        var staysFloat = [Bool](repeating: false, count: original.count)
        let modelOutputs = Set(model.outputs)
        for position in original.indices.reversed() {
            let op = original[position]
            let code = model.operatorCodes[Int(op.opcodeIndex)].code
            if Int8OpTable.rules[code] == nil {
                staysFloat[position] = true
            } else if Int8OpTable.rules[code]?.weight == nil, !op.outputs.isEmpty, op.outputs.allSatisfy({ output in
                          guard !modelOutputs.contains(output), let users = readers[output], !users.isEmpty else { return false }
                          return users.allSatisfy { staysFloat[$0] }
                      }) {
                staysFloat[position] = true
            }
        }

        for (position, var op) in original.enumerated() {
            let (code, version) = model.operatorCodes[Int(op.opcodeIndex)]
            let reason = whyFloat(op, code: code, model: model, activations: activations, ranges: ranges, int8Version: int8Version)
                ?? (staysFloat[position] ? Self.onlyFloatReadersReason : nil)
            guard reason == nil, let rule = Int8OpTable.rules[code] else {
                if let reason, reason != Self.keptFloatReason, reason != Self.onlyFloatReadersReason { fallbacks["\(code)\t\(reason)", default: []].append(name(op.outputs[0])) }
                op.inputs = op.inputs.map { $0 >= 0 ? float($0) : $0 }
                rewritten.append(op)
                continue
            }
            let output = op.outputs[0]
            // Output parameters first: shared-parameter ops requantize their inputs to them.
            var outputParameters: Parameters
            switch rule.output {
            case .calibrated: outputParameters = ranges[output]!.int8Parameters
            case .fixed(let scale, let zeroPoint): outputParameters = (scale, zeroPoint)
            case .sameAsInput: outputParameters = (0, 0)  // set from the first activation input below
            }
            var activationScale: Float = 1
            var weightScales: [Float] = []
            var inputs = op.inputs
            for (position, input) in op.inputs.enumerated() where input >= 0 {
                if let weight = rule.weight, position == weight.index {
                    let key = "\(input)/\(weight.axis)"
                    if weightCache[key] == nil {
                        weightCache[key] = try quantizeWeight(model, input, axis: weight.axis)
                    }
                    inputs[position] = weightCache[key]!
                    weightScales = model.tensors[Int(inputs[position])].quantization!.scales
                } else if position == rule.bias {
                    continue  // after the activation scale is known
                } else if isFloatActivation(input) {
                    let version = int8(input, required: rule.inputsShareOutput ? outputParameters : nil)!
                    inputs[position] = version.tensor
                    if position == rule.activation { activationScale = version.parameters.scale }
                    if case .sameAsInput = rule.output, outputParameters.scale == 0 { outputParameters = version.parameters }
                } else if model.tensors[Int(input)].type == .FLOAT32, isConstant(input) {
                    inputs[position] = try quantizeConstant(model, input, rule.inputsShareOutput ? outputParameters : nil)
                }
            }
            if let bias = rule.bias, bias < op.inputs.count, op.inputs[bias] >= 0 {
                inputs[bias] = try quantizeBias(model, op.inputs[bias], inputScale: activationScale, weightScales: weightScales)
            }
            op.inputs = inputs
            for output in op.outputs {  // several only for sameAsInput ops (SPLIT, UNPACK)
                setQuantized(model, output, type: .INT8, outputParameters)
                int8Version[output] = (output, outputParameters)
            }
            var newVersion = max(version, rule.version)
            if code == .FULLY_CONNECTED, op.fullyConnected?.keepNumDims == true { newVersion = max(newVersion, 5) }
            op.opcodeIndex = model.opcodeIndex(code, version: newVersion)
            rewritten.append(op)
        }

        // Model outputs.
        for (position, output) in model.outputs.enumerated() {
            let final: Int32
            switch io {
            case .float32:
                final = int8Version[output]?.tensor == output ? float(output) : output
            case .int8:
                if let version = int8Version[output] {
                    final = version.tensor
                } else {
                    guard let version = int8(output) else {
                        throw ConversionError.unsupported(op: name(output), detail: "no calibration range for the model output")
                    }
                    final = version.tensor
                }
            case .uint8:
                let source = int8Version[output] ?? int8(output)
                guard let source else {
                    throw ConversionError.unsupported(op: name(output), detail: "no calibration range for the model output")
                }
                final = newTensor(name(output) + "/uint8", like: output, type: .UINT8,
                                  (source.parameters.scale, source.parameters.zeroPoint + 128))
                emit(.QUANTIZE, version: 1, source.tensor, final)
            }
            guard final != output else { continue }
            // The tensor the caller reads keeps the Keras output name.
            let keras = name(output)
            model.tensors[Int(output)].name = keras + "/int8"
            model.tensors[Int(final)].name = keras
            model.outputs[position] = final
            for index in model.signatureOutputs.indices where model.signatureOutputs[index].tensor == output {
                model.signatureOutputs[index].tensor = final
            }
        }

        // Each float activation's quantized version, before renumbering; the writer's last layer.
        var layer: [Int32: String] = [:]
        for op in original { for output in op.outputs { layer[output] = op.layers.last } }
        let inputs = Set(model.inputs)
        var quantized: [(float: Int32, quantized: Int32, layer: String)] = []
        for tensor in activations.sorted() {
            // A uint8 model input is the quantized tensor the caller feeds; its int8 copy follows it.
            let version = io == .uint8 && inputs.contains(tensor) ? tensor : int8Version[tensor]?.tensor
            guard let version else { continue }
            let name = floatNames[Int(tensor)]
            quantized.append((tensor, version, inputs.contains(tensor) ? name : layer[tensor] ?? name))
        }

        model.operators = rewritten
        let renumbered = model.removeUnusedTensors()
        model.pruneOperatorCodes()
        let pairs = quantized.compactMap { pair in
            renumbered[pair.quantized].map { QuantizedTensorPair(floatTensor: Int(pair.float), quantizedTensor: Int($0), layer: pair.layer) }
        }
        let warnings = fallbacks.sorted { $0.key < $1.key }.map { key, tensors in
            let parts = key.split(separator: "\t", maxSplits: 1)
            let listed = tensors.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (tensors.count > 3 ? ", …" : "")
            return "\(tensors.count) \(parts[0]) op\(tensors.count == 1 ? " stays" : "s stay") float32 (\(parts[1])): \(listed)"
        }
        return Outcome(warnings: warnings, pairs: pairs)
    }

    /// Why `op` cannot run in int8, or nil when it can.
    private func whyFloat(_ op: TFLiteModel.OperatorEntry, code: BuiltinOperator, model: TFLiteModel, activations: Set<Int32>,
                          ranges: [Int32: ValueRange], int8Version: [Int32: (tensor: Int32, parameters: Parameters)]) -> String? {
        guard let rule = Int8OpTable.rules[code] else { return "no int8 kernel" }
        if keptFloat(op) { return Self.keptFloatReason }
        guard !op.outputs.isEmpty, op.outputs.allSatisfy(activations.contains) else { return "not a float op" }
        if op.outputs.count > 1 {  // a split: its pieces share the input's parameters
            guard case .sameAsInput = rule.output else { return "not a float op" }
        }
        if case .calibrated = rule.output, ranges[op.outputs[0]] == nil { return "no calibration range" }
        if case .sameAsInput = rule.output {
            guard op.inputs.contains(where: activations.contains) else { return "not a float op" }  // SPLIT's axis comes first
        }
        for (position, input) in op.inputs.enumerated() where input >= 0 {
            let tensor = model.tensors[Int(input)]
            if position == rule.weight?.index || position == rule.bias {
                guard !activations.contains(input), tensor.type == .FLOAT32, tensor.buffer != 0 else { return "weights are not constant" }
                continue
            }
            if activations.contains(input), int8Version[input] == nil, ranges[input] == nil { return "no calibration range" }
        }
        return nil
    }

    private func setQuantized(_ model: TFLiteModel, _ tensor: Int32, type: TensorType, _ parameters: Parameters) {
        model.tensors[Int(tensor)].type = type
        model.tensors[Int(tensor)].quantization = QuantizationParameters(scales: [parameters.scale], zeroPoints: [parameters.zeroPoint])
    }

    /// A new symmetric per-channel int8 copy of a float weight tensor (values read once, now).
    private func quantizeWeight(_ model: TFLiteModel, _ tensor: Int32, axis: Int) throws -> Int32 {
        let entry = model.tensors[Int(tensor)]
        let (bytes, scales) = try WeightQuantizer.symmetricInt8(try model.buffers[Int(entry.buffer)].contents(),
                                                                shape: entry.shape.map(Int.init), axis: axis)
        return appendConstant(model, entry, type: .INT8, bytes: bytes,
                              QuantizationParameters(scales: scales, zeroPoints: .init(repeating: 0, count: scales.count), axis: axis))
    }

    /// A new int32 bias: scale = input scale × weight scale of each channel, zero point 0.
    private func quantizeBias(_ model: TFLiteModel, _ tensor: Int32, inputScale: Float, weightScales: [Float]) throws -> Int32 {
        let entry = model.tensors[Int(tensor)]
        let values = try model.buffers[Int(entry.buffer)].contents().floatValues()
        let scales = values.indices.map { inputScale * weightScales[weightScales.count == 1 ? 0 : $0] }
        let quantized = zip(values, scales).map { value, scale -> Int32 in
            let q = (Double(value) / Double(scale)).rounded()
            return Int32(max(Double(Int32.min), min(Double(Int32.max), q.isFinite ? q : 0)))
        }
        let bytes = quantized.withUnsafeBytes { Array($0) }
        return appendConstant(model, entry, type: .INT32, bytes: bytes,
                              QuantizationParameters(scales: scales, zeroPoints: .init(repeating: 0, count: scales.count), axis: 0))
    }

    /// A new per-tensor int8 copy of another float constant (ADD/MUL operands, PRELU alphas):
    /// its own range, or `required` parameters.
    private func quantizeConstant(_ model: TFLiteModel, _ tensor: Int32, _ required: Parameters?) throws -> Int32 {
        let entry = model.tensors[Int(tensor)]
        let values = try model.buffers[Int(entry.buffer)].contents().floatValues()
        let parameters = required ?? ValueRange(min: values.min() ?? 0, max: values.max() ?? 0).int8Parameters
        let bytes = values.map { value -> UInt8 in
            let q = (value / parameters.scale).rounded() + Float(parameters.zeroPoint)
            return UInt8(bitPattern: Int8(max(-128, min(127, q.isFinite ? q : 0))))
        }
        return appendConstant(model, entry, type: .INT8, bytes: bytes,
                              QuantizationParameters(scales: [parameters.scale], zeroPoints: [parameters.zeroPoint]))
    }

    private func appendConstant(_ model: TFLiteModel, _ like: TFLiteModel.TensorEntry, type: TensorType, bytes: [UInt8],
                                _ parameters: QuantizationParameters) -> Int32 {
        model.buffers.append(.init(byteCount: bytes.count) { .bytes(bytes) })
        var entry = like
        entry.type = type
        entry.buffer = UInt32(model.buffers.count - 1)
        entry.quantization = parameters
        model.tensors.append(entry)
        return Int32(model.tensors.count - 1)
    }
}

extension TFLiteModel {
    /// Drops tensors no operator, model input/output or signature refers to, and buffers no
    /// tensor refers to (the float originals of quantized weights), renumbering both; returns the
    /// old → new index of every kept tensor.
    @discardableResult
    func removeUnusedTensors() -> [Int32: Int32] {
        var used = Set(inputs + outputs)
        for op in operators { used.formUnion(op.inputs.filter { $0 >= 0 }); used.formUnion(op.outputs) }
        var tensorMap: [Int32: Int32] = [:]
        var kept: [TensorEntry] = []
        for (index, tensor) in tensors.enumerated() where used.contains(Int32(index)) {
            tensorMap[Int32(index)] = Int32(kept.count)
            kept.append(tensor)
        }
        let usedBuffers = Set(kept.map(\.buffer))
        var bufferMap: [UInt32: UInt32] = [0: 0]
        var keptBuffers = [buffers[0]]
        for (index, buffer) in buffers.enumerated().dropFirst() where usedBuffers.contains(UInt32(index)) {
            bufferMap[UInt32(index)] = UInt32(keptBuffers.count)
            keptBuffers.append(buffer)
        }
        tensors = kept.map { var tensor = $0; tensor.buffer = bufferMap[tensor.buffer]!; return tensor }
        buffers = keptBuffers
        let remap: (Int32) -> Int32 = { $0 < 0 ? $0 : tensorMap[$0]! }
        for index in operators.indices {
            operators[index].inputs = operators[index].inputs.map(remap)
            operators[index].outputs = operators[index].outputs.map(remap)
        }
        inputs = inputs.map(remap)
        outputs = outputs.map(remap)
        signatureInputs = signatureInputs.map { ($0.name, remap($0.tensor)) }
        signatureOutputs = signatureOutputs.map { ($0.name, remap($0.tensor)) }
        return tensorMap
    }
}
