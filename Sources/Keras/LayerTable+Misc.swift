import GraphIR
import JSON

// Layer rows for TimeDistributed, the resizing/cropping preprocessing layers, UpSampling1D, Dot
// and the attention layers (Attention, AdditiveAttention, MultiHeadAttention).

extension LayerTable {
    static func addMiscLayers(to table: inout [String: LayerSpec]) {
        table["UpSampling1D"] = LayerSpec { context in
            // [N, T, C] → [N, T, 1, C] → nearest ×(size, 1) → [N, T·size, C].
            let x = try context.input()
            let size = try context.config.int("size", default: 2)
            guard x.shape.count == 3 else { throw context.rankError(x, expected: "3") }
            let expanded = try context.emit(.reshape, [x], Attributes { $0[.shape] = [x.shape[1] ?? -1, 1, x.shape[2] ?? -1] })
            let repeated = try context.emit(.resize, [expanded], Attributes {
                $0[.resizeScale] = [size, 1]
                $0[.method] = "nearest"
            })
            return [try context.emit(.reshape, [repeated], Attributes { $0[.shape] = [x.shape[1].map { $0 * size } ?? -1, x.shape[2] ?? -1] })]
        }
        table["Resizing"] = LayerSpec { context in
            let config = context.config
            try config.requireChannelsLast()
            for option in ["crop_to_aspect_ratio", "pad_to_aspect_ratio", "antialias"] where try config.bool(option, default: false) {
                throw context.unsupported("\(option)=True")
            }
            let method = try config.string("interpolation", default: "bilinear")
            guard method == "bilinear" || method == "nearest" else { throw context.unsupported("interpolation=\(method)") }
            let size = [try config.int("height"), try config.int("width")]
            let x = try context.input()
            guard x.shape.count == 4 else { throw context.rankError(x, expected: "4 (a batch of images)") }
            return [try context.emit(.resize, [x], Attributes {
                $0[.resizeSize] = size
                $0[.method] = method
            })]
        }
        table["CenterCrop"] = LayerSpec { context in
            let config = context.config
            try config.requireChannelsLast()
            let x = try context.input()
            guard x.shape.count == 4 else { throw context.rankError(x, expected: "4 (a batch of images)") }
            let target = [try config.int("height"), try config.int("width")]
            var begin = [0], size = [-1]
            for axis in 0..<2 {
                // Keras resizes images smaller than the crop; keraslite crops only.
                guard let length = x.shape[axis + 1], length >= target[axis] else { throw context.unsupported("an input smaller than the crop") }
                begin.append((length - target[axis]) / 2)
                size.append(target[axis])
            }
            return [try context.emit(.slice, [x], Attributes {
                $0[.begin] = begin + [0]
                $0[.size] = size + [-1]
            })]
        }
        table["Dot"] = LayerSpec { try dot($0) }
        table["Attention"] = LayerSpec(variables: { config in
            var variables: [VariableSpec] = []
            if try config.bool("use_scale", default: false) { variables.append(VariableSpec(name: "scale")) }
            if try config.string("score_mode", default: "dot") == "concat" { variables.append(VariableSpec(name: "concat_score_weight")) }
            return variables
        }) { try attention($0, additive: false) }
        table["AdditiveAttention"] = LayerSpec(variables: { config in
            try config.bool("use_scale", default: true) ? [VariableSpec(name: "scale")] : []
        }) { try attention($0, additive: true) }
        table["MultiHeadAttention"] = LayerSpec(variables: multiHeadVariables, weightsFromSublayers: true) { try multiHeadAttention($0) }
        table["TimeDistributed"] = LayerSpec(variables: { config in
            let (spec, inner) = try timeDistributedInner(config)
            return try spec.variables(inner)
        }, weightsFromSublayers: true) { try timeDistributed($0) }
    }
}

extension LayerContext {
    func unsupported(_ option: String) -> KerasError {
        .unsupportedOption(file: file, layer: config.layer, className: config.className, option: option)
    }

    func rankError(_ x: Tensor, expected: String) -> KerasError {
        .graph(file: file, layer: config.layer, reason: "input \(x.shape.text) has rank \(x.shape.count), needs \(expected)")
    }

    /// Reshape keeping the batch axis: `shape` without it.
    func reshape(_ x: Tensor, _ shape: Shape) throws -> Tensor {
        try emit(.reshape, [x], Attributes { $0[.shape] = shape.map { $0 ?? -1 } })
    }
}

// MARK: - TimeDistributed

/// The wrapped layer's spec and config (named after the wrapper, so ops and errors name it).
private func timeDistributedInner(_ config: LayerConfig) throws -> (LayerSpec, LayerConfig) {
    guard let layer = config["layer"], let className = layer["class_name"]?.string else { throw config.malformed("layer", "a layer") }
    let registered = layer["registered_name"]?.string, module = layer["module"]?.string
    if (registered.map { $0.contains(">") } ?? false) || (module.map { !$0.hasPrefix("keras") } ?? false) {
        throw KerasError.customObject(file: config.file, layer: config.layer, className: registered ?? className)
    }
    guard let spec = LayerTable.spec(for: className), className != "TimeDistributed" else {
        throw KerasError.unsupportedOption(file: config.file, layer: config.layer, className: config.className, option: "wrapping \(className)")
    }
    return (spec, LayerConfig(values: layer["config"]?.object ?? [:], layer: config.layer, className: className, file: config.file))
}

/// [N, T, …] → [N·T, …] (a reshape through the batch axis) → the wrapped layer → [N, T, …′].
private func timeDistributed(_ context: LayerContext) throws -> [Tensor] {
    let (spec, innerConfig) = try timeDistributedInner(context.config)
    let x = try context.input()
    guard x.shape.count >= 3, let steps = x.shape[1] else {
        throw KerasError.graph(file: context.file, layer: context.config.layer, reason: "needs a known time axis, input is \(x.shape.text)")
    }
    let inner = Array(x.shape.dropFirst(2))
    guard inner.allSatisfy({ $0 != nil }) else {
        throw KerasError.graph(file: context.file, layer: context.config.layer, reason: "needs known sizes after the time axis, input is \(x.shape.text)")
    }
    let merged = try context.emit(.reshape, [x], Attributes {
        $0[.shape] = [-1] + inner.map { $0! }
        $0[.includesBatch] = true
    })
    let wrapped = LayerContext(graph: context.graph, config: innerConfig, opName: "\(context.opName)/\(innerConfig.className.lowercased())",
                               inputs: [merged], weights: context.weights, kerasMajor: context.kerasMajor)
    let outputs = try spec.build(wrapped)
    guard outputs.count == 1 else {
        throw KerasError.graph(file: context.file, layer: context.config.layer, reason: "the wrapped layer has \(outputs.count) outputs")
    }
    let y = outputs[0]
    guard y.shape.dropFirst().allSatisfy({ $0 != nil }) else {
        throw KerasError.graph(file: context.file, layer: context.config.layer, reason: "the wrapped layer's output \(y.shape.text) is not static")
    }
    return [try context.emit(.reshape, [y], Attributes {
        $0[.shape] = [-1, steps] + y.shape.dropFirst().map { $0! }
        $0[.includesBatch] = true
    })]
}

// MARK: - Dot

/// Keras' batch_dot for rank-2 and rank-3 inputs: the contracted axes brought into matmul position
/// (adjoints), rank-2 operands given a unit axis, dropped again afterwards.
private func dot(_ context: LayerContext) throws -> [Tensor] {
    let config = context.config
    guard context.inputs.count == 2 else {
        throw KerasError.graph(file: context.file, layer: config.layer, reason: "expects two inputs, got \(context.inputs.count)")
    }
    var x = context.inputs[0], y = context.inputs[1]
    for operand in [x, y] where !(2...3).contains(operand.shape.count) { throw context.rankError(operand, expected: "2 or 3") }
    var axes = try config.ints("axes", count: 2)
    axes = zip(axes, [x, y]).map { axis, operand in axis < 0 ? axis + operand.shape.count : axis }
    guard axes.allSatisfy({ $0 >= 1 }) else { throw context.unsupported("axes=\(axes) (the batch axis)") }
    if try config.bool("normalize", default: false) {
        x = try context.emit(.l2Normalize, [x], Attributes { $0[.axis] = axes[0] })
        y = try context.emit(.l2Normalize, [y], Attributes { $0[.axis] = axes[1] })
    }
    // x: contracted axis last (or adjoint); y: contracted axis second to last (or adjoint).
    let xIsVector = x.shape.count == 2, yIsVector = y.shape.count == 2
    if xIsVector { x = try context.reshape(x, [1, x.shape[1]]) }
    if yIsVector { y = try context.reshape(y, [y.shape[1], 1]) }
    let adjointX = !xIsVector && axes[0] == 1
    let adjointY = !yIsVector && axes[1] == 2
    let product = try context.emit(.batchMatmul, [x, y], Attributes {
        if adjointX { $0[.adjointX] = true }
        if adjointY { $0[.adjointY] = true }
    })
    // Drop the unit axes the vectors brought; two vectors give [N, 1], as Keras.
    let rows = product.shape[1], columns = product.shape[2]
    switch (xIsVector, yIsVector) {
    case (true, true): return [try context.reshape(product, [1])]
    case (true, false): return [try context.reshape(product, [columns])]
    case (false, true): return [try context.reshape(product, [rows])]
    case (false, false): return [product]
    }
}

// MARK: - Attention and AdditiveAttention

/// Luong (`dot`: q·kᵀ, times `scale`; `concat`: w·Σ tanh(scale·(q + k))) or Bahdanau
/// (Σ scale·tanh(q + k)) scores, softmax over the keys, times the values. The sums over the
/// feature axis are a fully_connected with a constant [D, 1] kernel (ones, or Bahdanau's scale).
private func attention(_ context: LayerContext, additive: Bool) throws -> [Tensor] {
    let config = context.config
    guard (2...3).contains(context.inputs.count) else {
        throw KerasError.graph(file: context.file, layer: config.layer, reason: "expects [query, value] or [query, value, key], got \(context.inputs.count) inputs")
    }
    if try config.bool("causal", default: false) { throw context.unsupported("causal=True") }
    let query = context.inputs[0], value = context.inputs[1], key = context.inputs.count == 3 ? context.inputs[2] : context.inputs[1]
    for operand in [query, value, key] where operand.shape.count != 3 { throw context.rankError(operand, expected: "3") }
    let mode = additive ? "additive" : try config.string("score_mode", default: "dot")
    var scores: Tensor
    switch mode {
    case "dot":
        scores = try context.emit(.batchMatmul, [query, key], Attributes { $0[.adjointY] = true })
        if let scale = context.weights["scale"] { scores = try context.emit(.multiply, [scores, scale]) }
    case "concat", "additive":
        guard let features = query.shape[2], let steps = query.shape[1], let keySteps = key.shape[1] else {
            throw KerasError.graph(file: context.file, layer: config.layer, reason: "needs static query and key shapes")
        }
        let q = try context.reshape(query, [steps, 1, features]), k = try context.reshape(key, [1, keySteps, features])
        var sum = try context.emit(.add, [q, k])
        var kernel = context.constant("ones", shape: [features, 1], values: Array(repeating: 1, count: features))
        if additive {
            if let scale = context.weights["scale"], let data = scale.constant {
                kernel = Tensor(name: scale.name, shape: [features, 1], constant: data)
            }
        } else if let scale = context.weights["scale"] {
            sum = try context.emit(.multiply, [sum, scale])
        }
        let tanh = try context.emit(.activation, [sum], Attributes { $0[.function] = .tanh })
        scores = try context.reshape(try context.emit(.fullyConnected, [tanh, kernel]), [steps, keySteps])
        if !additive { scores = try context.emit(.multiply, [scores, try context.weight("concat_score_weight")]) }
    default:
        throw context.unsupported("score_mode=\(mode)")
    }
    let weights = try context.emit(.softmax, [scores], Attributes { $0[.axis] = -1 })
    return [try context.emit(.batchMatmul, [weights, value])]
}

// MARK: - MultiHeadAttention

private let projections = [("query", "query_dense"), ("key", "key_dense"), ("value", "value_dense"), ("attention_output", "output_dense")]

/// Kernels and biases of the four einsum-dense projections, in the order tf.keras and Keras 3
/// create them; `.keras` archives name the sublayers by attribute (`query_dense/vars/0`).
private func multiHeadVariables(_ config: LayerConfig) throws -> [VariableSpec] {
    let useBias = try config.bool("use_bias", default: true)
    return projections.flatMap { name, attribute -> [VariableSpec] in
        let kernel = VariableSpec(name: "\(name)/kernel", aliases: ["\(attribute)/0", "_\(attribute)/0"])
        let bias = VariableSpec(name: "\(name)/bias", aliases: ["\(attribute)/1", "_\(attribute)/1"])
        return useBias ? [kernel, bias] : [kernel]
    }
}

/// Query [N, T, D], value [N, S, Dv], key [N, S, Dk] (default: value), attention over the
/// sequence axis: each projection a fully_connected on the kernel seen as [D, H·K], heads split
/// and moved before time, scores batch_matmul(q/√K, kᵀ), softmax, context batch_matmul(·, v),
/// heads merged back and projected by the output kernel seen as [H·V, D].
private func multiHeadAttention(_ context: LayerContext) throws -> [Tensor] {
    let config = context.config
    guard (2...3).contains(context.inputs.count) else {
        throw KerasError.graph(file: context.file, layer: config.layer, reason: "expects query, value and optionally key, got \(context.inputs.count) inputs")
    }
    // The default (what tf.keras and Keras 3 store once built): attention over axis 1 of rank-3 inputs.
    if let axes = config["attention_axes"], (axes.int ?? axes.array?.first?.int) != 1 || (axes.array?.count ?? 1) != 1 {
        throw context.unsupported("attention_axes other than the sequence axis")
    }
    if config["output_shape"] != nil { throw context.unsupported("output_shape") }
    if try config.bool("use_gate", default: false) { throw context.unsupported("use_gate=True") }
    if config["sliding_window"] != nil { throw context.unsupported("sliding_window") }
    let heads = try config.int("num_heads"), keyDim = try config.int("key_dim")
    let valueDim = config["value_dim"] == nil ? keyDim : try config.int("value_dim")
    let query = context.inputs[0], value = context.inputs[1], key = context.inputs.count == 3 ? context.inputs[2] : value
    for operand in [query, value, key] where operand.shape.count != 3 {
        throw context.unsupported("inputs of rank \(operand.shape.count) (rank 3 only)")
    }
    /// x [N, L, D] → [N, H, L, size] through `name`'s kernel [D, H, size] and bias [H, size].
    func project(_ x: Tensor, _ name: String, size: Int) throws -> Tensor {
        let kernel = try context.weight("\(name)/kernel")
        guard let data = kernel.constant, let features = x.shape[2], let steps = x.shape[1] else {
            throw KerasError.graph(file: context.file, layer: config.layer, reason: "needs static shapes and stored weights")
        }
        var inputs = [x, Tensor(name: kernel.name, shape: [features, heads * size], dtype: kernel.dtype, constant: data)]
        if let bias = context.weights["\(name)/bias"], let biasData = bias.constant {
            inputs.append(Tensor(name: bias.name, shape: [heads * size], dtype: bias.dtype, constant: biasData))
        }
        let projected = try context.emit(.fullyConnected, inputs)
        let split = try context.reshape(projected, [steps, heads, size])
        return try context.emit(.transpose, [split], Attributes { $0[.permutation] = [0, 2, 1, 3] })
    }
    let scale = context.constant("inverse_sqrt_key_dim", shape: [], values: [1 / Float(keyDim).squareRoot()])
    let q = try context.emit(.multiply, [try project(query, "query", size: keyDim), scale])
    let k = try project(key, "key", size: keyDim)
    let v = try project(value, "value", size: valueDim)
    let scores = try context.emit(.batchMatmul, [q, k], Attributes { $0[.adjointY] = true })
    let weights = try context.emit(.softmax, [scores], Attributes { $0[.axis] = -1 })
    let attended = try context.emit(.batchMatmul, [weights, v])
    let timeMajor = try context.emit(.transpose, [attended], Attributes { $0[.permutation] = [0, 2, 1, 3] })
    let merged = try context.reshape(timeMajor, [query.shape[1], heads * valueDim])
    let kernel = try context.weight("attention_output/kernel")
    guard let data = kernel.constant, let outputFeatures = kernel.shape.last ?? nil else {
        throw KerasError.graph(file: context.file, layer: config.layer, reason: "needs a stored output kernel")
    }
    var inputs = [merged, Tensor(name: kernel.name, shape: [heads * valueDim, outputFeatures], dtype: kernel.dtype, constant: data)]
    if let bias = context.weights["attention_output/bias"] { inputs.append(bias) }
    return [try context.emit(.fullyConnected, inputs)]
}
