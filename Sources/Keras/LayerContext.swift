import GraphIR

/// What a layer builder sees for one call of one layer: its config, input tensors and weight
/// constants, and a way to append ops to the graph. The op that produces the layer's output is
/// renamed after the layer once the builder returns, so output tensors keep Keras layer names.
final class LayerContext {
    let graph: Graph
    let config: LayerConfig
    /// The unique name for this call's ops (the layer name, with `@k` for the k-th call of a shared layer).
    let opName: String
    let inputs: [Tensor]
    let weights: [String: Tensor]
    /// The Keras major version that wrote the file (2 or 3); decides version-dependent meanings.
    let kerasMajor: Int
    private(set) var emitted: [Op] = []
    /// The Keras masks ([N, T] 0/1 floats) arriving with the inputs (Embedding `mask_zero`, Masking).
    var inputMasks: [Tensor?] = []
    /// The masks of the outputs when the layer makes or consumes them (nil: the builder decides
    /// from `LayerTable.maskPassing`).
    var outputMasks: [Tensor?]?

    init(graph: Graph, config: LayerConfig, opName: String, inputs: [Tensor], weights: [String: Tensor], kerasMajor: Int) {
        self.graph = graph
        self.config = config
        self.opName = opName
        self.inputs = inputs
        self.weights = weights
        self.kerasMajor = kerasMajor
    }

    var file: String { config.file }
    var origin: Op.Origin { Op.Origin(layer: config.layer, className: config.className) }

    /// The single input of a one-input layer.
    func input() throws -> Tensor {
        guard inputs.count == 1 else {
            throw KerasError.graph(file: file, layer: config.layer, reason: "expects one input, got \(inputs.count)")
        }
        return inputs[0]
    }

    func weight(_ name: String) throws -> Tensor {
        guard let tensor = weights[name] else {
            throw KerasError.weights(file: file, layer: config.layer, reason: "no '\(name)' weight in the file")
        }
        return tensor
    }

    /// A constant made by the frontend (not stored in the file), e.g. Normalization's mean from its config.
    func constant(_ suffix: String, shape: Shape, values: [Float]) -> Tensor {
        Tensor(name: "\(opName)/\(suffix)", shape: shape, constant: ConstantData(values: values))
    }

    /// Appends an op reading `inputs` and returns its output.
    @discardableResult
    func emit(_ kind: OpKind, _ inputs: [Tensor], _ attributes: Attributes = Attributes()) throws -> Tensor {
        var name = "\(opName)/\(kind.rawValue)"
        var suffix = 1
        while emitted.contains(where: { $0.name == name }) {
            suffix += 1
            name = "\(opName)/\(kind.rawValue)_\(suffix)"
        }
        let op = Op(name: name, kind: kind, inputs: inputs, attributes: attributes, origin: origin)
        do {
            let outputs = try graph.append(op)
            emitted.append(op)
            return outputs[0]
        } catch let error as GraphError {
            throw KerasError.graph(file: file, layer: config.layer, reason: "\(error)")
        }
    }

    /// Applies the layer's `activation` option (nothing for `linear`).
    func activate(_ x: Tensor, key: String = "activation") throws -> Tensor {
        guard let value = config[key] else { return x }
        var name = value.string
        // Keras 3 may serialize built-in activations as objects wrapping the name.
        if name == nil, let object = value.object, let inner = object["config"]?.string { name = inner }
        if name == nil, let object = value.object, let inner = object["config"]?["name"]?.string { name = inner }
        guard let name else {
            let className = value["class_name"]?.string ?? "activation object"
            throw KerasError.customObject(file: file, layer: config.layer, className: className)
        }
        guard let function = activationFunction(named: name, kerasMajor: kerasMajor) else {
            throw KerasError.unsupportedOption(file: file, layer: config.layer, className: config.className, option: "activation '\(name)'")
        }
        if function == .linear { return x }
        return try emit(.activation, [x], Attributes { $0[.function] = function })
    }

    /// Renames the op producing `output` after the layer, when this call emitted it.
    func finish(_ outputs: [Tensor]) {
        guard outputs.count == 1, let op = emitted.last(where: { $0.outputs.first === outputs[0] }) else { return }
        op.name = opName
        op.outputs[0].name = opName
    }
}

/// Keras activation names (both versions' spellings) to IR functions; nil when unknown.
func activationFunction(named name: String, kerasMajor: Int) -> ActivationFunction? {
    switch name {
    case "linear", "identity": return .linear
    case "hard_sigmoid": return kerasMajor >= 3 ? .hardSigmoid : .hardSigmoidKeras2
    case "silu", "swish": return .swish
    case "hard_silu", "hard_swish": return .hardSwish
    case "gelu": return .gelu
    default:
        guard let function = ActivationFunction(rawValue: name), function != .hardSigmoidKeras2, function != .geluTanh else {
            return nil
        }
        return function
    }
}
