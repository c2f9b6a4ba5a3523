import GraphIR
import JSON

// Recurrent and text layers: Embedding, Masking, SimpleRNN, GRU, LSTM, Bidirectional — and the
// Keras masks they make and consume, carried as [N, T] 0/1 float tensors beside the activations.

extension LayerTable {
    static let recurrentRows: [String: LayerSpec] = {
        var table: [String: LayerSpec] = [:]
        table["Embedding"] = LayerSpec(variables: { _ in [VariableSpec(name: "embeddings")] }) { context in
            let config = context.config
            if try config.int("lora_rank", default: 0) > 0 {
                throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "lora_rank")
            }
            var ids = try context.input()
            // Keras casts non-integer ids to int32, truncating, as TensorFlow's converter writes a CAST.
            if ids.dtype != .int32 {
                ids = try context.emit(.cast, [ids], Attributes { $0[.targetType] = .int32 })
            }
            let embedded = try context.emit(.gather, [try context.weight("embeddings"), ids])
            if try config.bool("mask_zero", default: false) {
                guard ids.shape.count == 2 else {
                    throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className,
                                                       option: "mask_zero on ids of rank \(ids.shape.count) (needs [batch, steps])")
                }
                context.outputMasks = [try context.emit(.sequenceMask, [ids], Attributes { $0[.maskValue] = 0 })]
            }
            return [embedded]
        }
        table["Masking"] = LayerSpec { context in
            let x = try context.input()
            guard x.shape.count == 3 else {
                throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: "Masking",
                                                   option: "an input of rank \(x.shape.count) (needs [batch, steps, features])")
            }
            let value = try context.config.float("mask_value", default: 0)
            let mask = try context.emit(.sequenceMask, [x], Attributes { $0[.maskValue] = value })
            let column = try context.emit(.reshape, [mask], Attributes { $0[.shape] = [-1, 1] })
            context.outputMasks = [mask]
            return [try context.emit(.multiply, [x, column])]
        }
        for (className, kind) in [("SimpleRNN", OpKind.simpleRnn), ("GRU", .gru), ("LSTM", .lstm)] {
            table[className] = LayerSpec(variables: { try recurrentVariables($0, prefix: "") }, weightsFromSublayers: true, build: { context in
                let x = try recurrentInput(context)
                let mask = context.inputMasks.first ?? nil
                let outputs = try recurrentOp(context, kind: kind, config: context.config, x: x, mask: mask, prefix: "",
                                              zeroOutputForMask: nil)
                let returnSequences = try context.config.bool("return_sequences", default: false)
                context.outputMasks = [returnSequences ? mask : nil]
                return try context.config.bool("return_state", default: false) ? outputs : [outputs[0]]
            })
        }
        table["Bidirectional"] = LayerSpec(variables: { config in
            let (forward, backward) = try bidirectionalLayers(config)
            return try recurrentVariables(forward.config, prefix: "forward/") + recurrentVariables(backward.config, prefix: "backward/")
        }, weightsFromSublayers: true, build: bidirectional)
        return table
    }()

    /// Layers through which a Keras mask passes unchanged (`supports_masking` without a `compute_mask` of their own).
    static let maskPassing: Set<String> = [
        "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
        "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dense", "BatchNormalization", "LayerNormalization",
    ]

    /// Layers that would use a mask in a way keraslite does not lower; a masked input is an error
    /// rather than a silently different result.
    static let maskUsing: Set<String> = [
        "GlobalAveragePooling1D", "GlobalAvgPool1D", "Attention", "AdditiveAttention", "MultiHeadAttention", "TimeDistributed",
    ]

    static func checkMasks(_ context: LayerContext) throws {
        let config = context.config
        if maskUsing.contains(config.className), context.inputMasks.contains(where: { $0 != nil }) {
            throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className,
                                               option: "a masked input (from Embedding mask_zero or Masking)")
        }
    }

    /// A recurrent layer's stored weights without Keras 3's seed-generator state, forward layer first.
    static func sublayerOrder(_ stored: [StoredWeight]) -> [StoredWeight] {
        let weights = stored.filter { !$0.dataset.path.contains("seed_generator") }
        func isBackward(_ weight: StoredWeight) -> Bool {
            weight.dataset.path.split(separator: "/").contains { $0.hasPrefix("backward") }
        }
        return weights.filter { !isBackward($0) } + weights.filter(isBackward)
    }
}

// MARK: - Recurrent layers

private func recurrentVariables(_ config: LayerConfig, prefix: String) throws -> [VariableSpec] {
    let names = ["kernel", "recurrent_kernel"] + (try config.bool("use_bias", default: true) ? ["bias"] : [])
    return names.map { VariableSpec(name: prefix + $0) }
}

func recurrentInput(_ context: LayerContext) throws -> Tensor {
    let config = context.config
    guard context.inputs.count == 1 else {
        throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className,
                                           option: "initial_state or constants (\(context.inputs.count) inputs)")
    }
    return context.inputs[0]
}

/// An activation option's name: a string, or Keras 3's serialized object around one.
private func activationName(_ value: JSON?) -> String? {
    guard let value else { return nil }
    return value.string ?? value["config"]?.string ?? value["config"]?["name"]?.string
}

func cellActivation(_ context: LayerContext, _ config: LayerConfig, _ key: String, default fallback: String) throws -> ActivationFunction {
    let name = activationName(config[key]) ?? fallback
    guard let function = activationFunction(named: name, kerasMajor: context.kerasMajor), function != .softmax, function != .logSoftmax else {
        throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: config.className, option: "\(key) '\(name)'")
    }
    return function
}

/// Emits one simple_rnn / gru / lstm op for the layer `config` (a Bidirectional's inner layer
/// config, with weights under `prefix`) and returns all its outputs: output, h (, c).
private func recurrentOp(_ context: LayerContext, kind: OpKind, config: LayerConfig, x: Tensor, mask: Tensor?, prefix: String,
                         zeroOutputForMask: Bool?) throws -> [Tensor] {
    func unsupported(_ option: String) -> KerasError {
        KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: config.className, option: option)
    }
    if try config.bool("stateful", default: false) {
        throw unsupported("stateful=True (the state carried between batches is not part of a .tflite model; rebuild the layer with stateful=False)")
    }
    if try config.bool("time_major", default: false) { throw unsupported("time_major=True") }
    guard x.shape.count == 3 else {
        throw KerasError.graph(file: context.file, layer: context.config.layer, reason: "needs an input [batch, steps, features], got \(x.shape.text)")
    }
    var inputs = [x, try context.weight(prefix + "kernel"), try context.weight(prefix + "recurrent_kernel")]
    if let bias = context.weights[prefix + "bias"] { inputs.append(bias) }
    if let mask { inputs.append(mask) }
    let activation = try cellActivation(context, config, "activation", default: "tanh")
    let gateActivation = kind == .simpleRnn ? nil : try cellActivation(context, config, "recurrent_activation", default: "sigmoid")
    let returnSequences = try config.bool("return_sequences", default: false)
    let goBackwards = try config.bool("go_backwards", default: false)
    let zeroOutput = try zeroOutputForMask ?? config.bool("zero_output_for_mask", default: false)
    let resetAfter = kind == .gru ? try config.bool("reset_after", default: false) : nil
    try context.emit(kind, inputs, Attributes {
        $0[.cellActivation] = activation
        $0[.recurrentActivation] = gateActivation
        if returnSequences { $0[.returnSequences] = true }
        if goBackwards { $0[.goBackwards] = true }
        if mask != nil { $0[.masked] = true }
        if zeroOutput && mask != nil { $0[.zeroOutputForMask] = true }
        $0[.resetAfter] = resetAfter
    })
    return context.emitted.last!.outputs
}

private func recurrentKind(_ className: String) -> OpKind? {
    switch className {
    case "SimpleRNN": return .simpleRnn
    case "GRU": return .gru
    case "LSTM": return .lstm
    default: return nil
    }
}

/// The forward and backward layers of a Bidirectional: `layer`, and `backward_layer` when the
/// config has one, else `layer` reading the other way (what Keras builds).
private func bidirectionalLayers(_ config: LayerConfig) throws -> (forward: (kind: OpKind, config: LayerConfig), backward: (kind: OpKind, config: LayerConfig)) {
    func inner(_ json: JSON?, flip: Bool) throws -> (kind: OpKind, config: LayerConfig) {
        let className = json?["class_name"]?.string ?? ""
        guard var values = json?["config"]?.object else { throw config.malformed("layer", "a serialized recurrent layer") }
        guard let kind = recurrentKind(className) else {
            throw KerasError.unsupportedOption(file: config.file, layer: config.layer, className: config.className,
                                               option: "the wrapped layer \(className.isEmpty ? "?" : className)")
        }
        if flip { values["go_backwards"] = .bool(!((values["go_backwards"]?.bool) ?? false)) }
        return (kind, LayerConfig(values: values, layer: config.layer, className: className, file: config.file))
    }
    let forward = try inner(config["layer"], flip: false)
    let backwardJSON = config["backward_layer"]
    let backward = backwardJSON?.object == nil ? try inner(config["layer"], flip: true) : try inner(backwardJSON, flip: false)
    return (forward, backward)
}

private func bidirectional(_ context: LayerContext) throws -> [Tensor] {
    let config = context.config
    let x = try recurrentInput(context)
    let mask = context.inputMasks.first ?? nil
    let (forward, backward) = try bidirectionalLayers(config)
    let returnSequences = try forward.config.bool("return_sequences", default: false)
    let returnState = try forward.config.bool("return_state", default: false)
    // Keras forces zero_output_for_mask = return_sequences on both directions.
    let forwardOutputs = try recurrentOp(context, kind: forward.kind, config: forward.config, x: x, mask: mask, prefix: "forward/",
                                         zeroOutputForMask: returnSequences)
    let backwardOutputs = try recurrentOp(context, kind: backward.kind, config: backward.config, x: x, mask: mask, prefix: "backward/",
                                          zeroOutputForMask: returnSequences)
    var backwardOutput = backwardOutputs[0]
    if returnSequences {
        backwardOutput = try context.emit(.reverse, [backwardOutput], Attributes { $0[.axis] = 1 })
    }
    let pair = [forwardOutputs[0], backwardOutput]
    let merged: [Tensor]
    let mode = config.values["merge_mode"].map { $0.string ?? "none" } ?? "concat"  // null: the two outputs as they are
    switch mode {
    case "concat": merged = [try context.emit(.concatenate, pair, Attributes { $0[.axis] = -1 })]
    case "sum": merged = [try context.emit(.add, pair)]
    case "ave": merged = [try context.emit(.average, pair)]
    case "mul": merged = [try context.emit(.multiply, pair)]
    case "none": merged = pair
    default: throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "merge_mode '\(mode)'")
    }
    let states = returnState ? Array(forwardOutputs.dropFirst()) + Array(backwardOutputs.dropFirst()) : []
    context.outputMasks = merged.map { _ in returnSequences ? mask : nil } + states.map { _ in nil }
    return merged + states
}
