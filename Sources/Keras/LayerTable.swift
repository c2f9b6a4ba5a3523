import GraphIR

/// The weight variables a layer class stores, in Keras' order (trainable first, then the rest).
struct VariableSpec {
    var name: String
    /// Other spellings used by some Keras versions (Keras 3 names the depthwise kernel `kernel`).
    var aliases: [String] = []
}

/// What keraslite knows about one Keras layer class: its stored variables and how it becomes IR ops.
struct LayerSpec: Sendable {
    var variables: @Sendable (LayerConfig) throws -> [VariableSpec] = { _ in [] }
    /// The variables live in sublayers (MultiHeadAttention's `query`, TimeDistributed's `layer`, a
    /// recurrent layer's `cell`, a Bidirectional's `forward_layer` / `backward_layer`): all of them are
    /// read (Keras 3's seed-generator state left out, forward before backward) and matched by their
    /// sublayer-qualified names (`query/kernel`, `query_dense/0`), else their variable names, else
    /// by position.
    var weightsFromSublayers = false
    var build: @Sendable (LayerContext) throws -> [Tensor]
}

/// Keras layer class → IR. Every supported class is one row; aliases share a row.
enum LayerTable {
    static func spec(for className: String) -> LayerSpec? { table[className] }

    /// Layer classes that exist in Keras but that keraslite does not convert, so that an
    /// unsupported built-in is not mistaken for a custom layer.
    static let knownUnsupported: Set<String> = [
        "ConvLSTM1D", "ConvLSTM3D", "Conv1DTranspose", "SeparableConv1D", "DepthwiseConv1D", "CategoryEncoding", "Hashing",
        "StringLookup", "IntegerLookup", "TextVectorization", "RandomFlip", "RandomRotation", "RandomZoom",
        "RandomCrop", "RandomContrast",
        "RandomTranslation", "GroupNormalization", "UnitNormalization", "ThresholdedReLU",
        "SlicingOpLambda", "Identity", "EinsumDense", "Discretization", "LocallyConnected1D", "LocallyConnected2D",
    ]

    static let table: [String: LayerSpec] = {
        var table: [String: LayerSpec] = [:]

        table["Dense"] = LayerSpec(variables: kernelAndBias) { context in
            var inputs = [try context.input(), try context.weight("kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            return [try context.activate(try context.emit(.fullyConnected, inputs))]
        }
        table["Conv1D"] = LayerSpec(variables: kernelAndBias) { try convolution($0, kind: .conv1d, rank: 1) }
        table["Conv2D"] = LayerSpec(variables: kernelAndBias) { try convolution($0, kind: .conv2d, rank: 2) }
        table["DepthwiseConv2D"] = LayerSpec(variables: { config in
            [VariableSpec(name: "depthwise_kernel", aliases: ["kernel"])] + (try biasIfUsed(config))
        }) { context in
            try context.config.requireChannelsLast()
            var inputs = [try context.input(), try context.weight("depthwise_kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            let y = try context.emit(.depthwiseConv2d, inputs, try windowAttributes(context.config, rank: 2))
            return [try context.activate(y)]
        }
        table["SeparableConv2D"] = LayerSpec(variables: { config in
            [VariableSpec(name: "depthwise_kernel"), VariableSpec(name: "pointwise_kernel")] + (try biasIfUsed(config))
        }) { context in
            try context.config.requireChannelsLast()
            let depthwise = try context.emit(.depthwiseConv2d, [try context.input(), try context.weight("depthwise_kernel")],
                                             try windowAttributes(context.config, rank: 2))
            var inputs = [depthwise, try context.weight("pointwise_kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            let pointwise = try context.emit(.conv2d, inputs, Attributes {
                $0[.strides] = [1, 1]
                $0[.dilations] = [1, 1]
                $0[.padding] = "valid"
            })
            return [try context.activate(pointwise)]
        }
        table["Conv2DTranspose"] = LayerSpec(variables: kernelAndBias) { context in
            let config = context.config
            try config.requireChannelsLast()
            var attributes = try windowAttributes(config, rank: 2)
            if config["output_padding"] != nil {
                attributes[.outputPadding] = try config.ints("output_padding", count: 2)
            }
            var inputs = [try context.input(), try context.weight("kernel")]
            if let bias = context.weights["bias"] { inputs.append(bias) }
            return [try context.activate(try context.emit(.transposeConv2d, inputs, attributes))]
        }
        table["BatchNormalization"] = LayerSpec(variables: { config in
            var variables: [VariableSpec] = []
            if try config.bool("scale", default: true) { variables.append(VariableSpec(name: "gamma")) }
            if try config.bool("center", default: true) { variables.append(VariableSpec(name: "beta")) }
            return variables + [VariableSpec(name: "moving_mean"), VariableSpec(name: "moving_variance")]
        }) { context in
            let x = try context.input()
            try requireLastAxis(context, rank: x.shape.count)
            let config = context.config
            let scale = try config.bool("scale", default: true), center = try config.bool("center", default: true)
            var inputs = [x]
            if scale { inputs.append(try context.weight("gamma")) }
            if center { inputs.append(try context.weight("beta")) }
            inputs += [try context.weight("moving_mean"), try context.weight("moving_variance")]
            return [try context.emit(.batchNorm, inputs, try normalizationAttributes(config, scale: scale, center: center))]
        }
        table["LayerNormalization"] = LayerSpec(variables: { config in
            var variables: [VariableSpec] = []
            if try config.bool("scale", default: true) { variables.append(VariableSpec(name: "gamma")) }
            if try config.bool("center", default: true) { variables.append(VariableSpec(name: "beta")) }
            return variables
        }) { context in
            let x = try context.input()
            let config = context.config
            if try config.bool("rms_scaling", default: false) {
                throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "rms_scaling")
            }
            let rank = x.shape.count
            let axes = try axesList(config, rank: rank, default: [rank - 1])
            let scale = try config.bool("scale", default: true), center = try config.bool("center", default: true)
            var inputs = [x]
            if scale { inputs.append(try context.weight("gamma")) }
            if center { inputs.append(try context.weight("beta")) }
            var attributes = try normalizationAttributes(config, scale: scale, center: center)
            attributes[.axes] = axes
            return [try context.emit(.layerNorm, inputs, attributes)]
        }
        table["Activation"] = LayerSpec { context in
            let x = try context.input()
            let y = try context.activate(x)
            return [y === x ? try context.emit(.identity, [x]) : y]
        }
        table["ReLU"] = LayerSpec { context in
            let config = context.config
            let maxValue = try config.optionalFloat("max_value")
            let slope = try config.float("negative_slope", default: 0)
            let threshold = try config.float("threshold", default: 0)
            let x = try context.input()
            if slope == 0, threshold == 0, maxValue == nil || maxValue == 6 {
                return [try context.emit(.activation, [x], Attributes { $0[.function] = maxValue == nil ? .relu : .relu6 })]
            }
            return [try context.emit(.relu, [x], Attributes {
                $0[.negativeSlope] = slope
                $0[.threshold] = threshold
                $0[.maxValue] = maxValue
            })]
        }
        table["LeakyReLU"] = LayerSpec { context in
            let config = context.config
            let alpha = try config.optionalFloat("negative_slope") ?? config.optionalFloat("alpha") ?? 0.3
            return [try context.emit(.leakyRelu, [try context.input()], Attributes { $0[.alpha] = alpha })]
        }
        table["PReLU"] = LayerSpec(variables: { _ in [VariableSpec(name: "alpha")] }) { context in
            [try context.emit(.prelu, [try context.input(), try context.weight("alpha")])]
        }
        table["ELU"] = LayerSpec { context in
            let alpha = try context.config.float("alpha", default: 1)
            return [try context.emit(.elu, [try context.input()], Attributes { $0[.alpha] = alpha })]
        }
        table["Softmax"] = LayerSpec { context in
            let x = try context.input()
            let axes = try axesList(context.config, rank: x.shape.count, default: [x.shape.count - 1])
            guard axes.count == 1 else {
                throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: "Softmax", option: "several axes")
            }
            return [try context.emit(.softmax, [x], Attributes { $0[.axis] = axes[0] })]
        }
        for (name, kind, rank) in [("MaxPooling1D", OpKind.maxPool1d, 1), ("MaxPool1D", .maxPool1d, 1),
                                   ("MaxPooling2D", .maxPool2d, 2), ("MaxPool2D", .maxPool2d, 2),
                                   ("AveragePooling1D", .avgPool1d, 1), ("AvgPool1D", .avgPool1d, 1),
                                   ("AveragePooling2D", .avgPool2d, 2), ("AvgPool2D", .avgPool2d, 2)] {
            table[name] = LayerSpec { context in
                let config = context.config
                try config.requireChannelsLast()
                let size = try config.ints("pool_size", count: rank, default: Array(repeating: 2, count: rank))
                let strides = try config.ints("strides", count: rank, default: size)
                let padding = try config.padding()
                return [try context.emit(kind, [try context.input()], Attributes {
                    $0[.poolSize] = size
                    $0[.strides] = strides
                    $0[.padding] = padding
                })]
            }
        }
        for (name, kind) in [("GlobalAveragePooling1D", OpKind.globalAvgPool), ("GlobalAveragePooling2D", .globalAvgPool),
                             ("GlobalAvgPool1D", .globalAvgPool), ("GlobalAvgPool2D", .globalAvgPool),
                             ("GlobalMaxPooling1D", .globalMaxPool), ("GlobalMaxPooling2D", .globalMaxPool),
                             ("GlobalMaxPool1D", .globalMaxPool), ("GlobalMaxPool2D", .globalMaxPool)] {
            table[name] = LayerSpec { context in
                try context.config.requireChannelsLast()
                let keepDims = try context.config.bool("keepdims", default: false)
                return [try context.emit(kind, [try context.input()], Attributes { $0[.keepDims] = keepDims })]
            }
        }
        table["Flatten"] = LayerSpec { context in
            try context.config.requireChannelsLast()
            let x = try context.input()
            let inner = Array(x.shape.dropFirst()).elementCount ?? -1
            return [try context.emit(.reshape, [x], Attributes { $0[.shape] = [inner] })]
        }
        table["Reshape"] = LayerSpec { context in
            guard let target = context.config["target_shape"]?.array?.map({ $0.int ?? -1 }) else {
                throw context.config.malformed("target_shape", "a list of integers")
            }
            return [try context.emit(.reshape, [try context.input()], Attributes { $0[.shape] = target })]
        }
        table["Permute"] = LayerSpec { context in
            guard let dims = context.config["dims"]?.array?.compactMap(\.int) else {
                throw context.config.malformed("dims", "a list of integers")
            }
            return [try context.emit(.transpose, [try context.input()], Attributes { $0[.permutation] = [0] + dims })]
        }
        table["RepeatVector"] = LayerSpec { context in
            let repeats = try context.config.int("n")
            return [try context.emit(.repeatVector, [try context.input()], Attributes { $0[.repeats] = repeats })]
        }
        table["ZeroPadding1D"] = LayerSpec { context in
            let pairs = try context.config.pairs("padding", count: 1)
            return [try context.emit(.pad, [try context.input()], Attributes { $0[.paddings] = [0, 0, pairs[0].0, pairs[0].1, 0, 0] })]
        }
        table["ZeroPadding2D"] = LayerSpec { context in
            try context.config.requireChannelsLast()
            let pairs = try context.config.pairs("padding", count: 2)
            return [try context.emit(.pad, [try context.input()], Attributes {
                $0[.paddings] = [0, 0, pairs[0].0, pairs[0].1, pairs[1].0, pairs[1].1, 0, 0]
            })]
        }
        table["Cropping1D"] = LayerSpec { try cropping($0, rank: 1) }
        table["Cropping2D"] = LayerSpec { try cropping($0, rank: 2) }
        table["UpSampling2D"] = LayerSpec { context in
            let config = context.config
            try config.requireChannelsLast()
            let method = try config.string("interpolation", default: "nearest")
            guard method == "nearest" || method == "bilinear" else {
                throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "interpolation=\(method)")
            }
            let scale = try config.ints("size", count: 2, default: [2, 2])
            return [try context.emit(.resize, [try context.input()], Attributes {
                $0[.resizeScale] = scale
                $0[.method] = method
            })]
        }
        for (name, kind) in [("Add", OpKind.add), ("Subtract", .subtract), ("Multiply", .multiply),
                             ("Average", .average), ("Maximum", .maximum), ("Minimum", .minimum)] {
            table[name] = LayerSpec { context in [try context.emit(kind, context.inputs)] }
        }
        table["Concatenate"] = LayerSpec { context in
            let axis = try context.config.int("axis", default: -1)
            return [try context.emit(.concatenate, context.inputs, Attributes { $0[.axis] = axis })]
        }
        for name in ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                     "GaussianDropout", "AlphaDropout", "ActivityRegularization"] {
            table[name] = LayerSpec { context in [try context.emit(.identity, [try context.input()])] }
        }
        // Keras 3 records `x * 0.5`, `x / y` on symbolic tensors as operation nodes with these names.
        table["Divide"] = LayerSpec { try divide($0) }
        table["TrueDivide"] = table["Divide"]
        // tf.keras records TensorFlow functions called on Keras tensors as TFOpLambda layers; the
        // arithmetic ones (MobileNetV3's hard-swish, ConvNeXt's residual adds) become IR ops.
        table["TFOpLambda"] = LayerSpec { context in
            let function = try context.config.string("function", default: "")
            switch function {
            case "__operators__.add", "math.add": return [try context.emit(.add, context.inputs)]
            case "math.multiply", "__operators__.mul": return [try context.emit(.multiply, context.inputs)]
            case "math.subtract", "__operators__.sub": return [try context.emit(.subtract, context.inputs)]
            case "math.truediv", "__operators__.truediv", "math.divide": return try divide(context)
            default:
                throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: "TFOpLambda",
                                                   option: "the TensorFlow function '\(function)'")
            }
        }
        // keras.applications' ConvNeXt: a learned per-channel scale.
        table["LayerScale"] = LayerSpec(variables: { _ in [VariableSpec(name: "gamma")] }) { context in
            [try context.emit(.multiply, [try context.input(), try context.weight("gamma")])]
        }
        table["Rescaling"] = LayerSpec { context in
            let scale = try context.config.floats("scale") ?? [1]
            let offset = try context.config.floats("offset") ?? [0]
            return [try context.emit(.rescale, [try context.input()], Attributes {
                $0[.rescaleScale] = scale
                $0[.rescaleOffset] = offset
            })]
        }
        table["Normalization"] = LayerSpec(variables: { config in
            config["mean"] == nil ? [VariableSpec(name: "mean"), VariableSpec(name: "variance"), VariableSpec(name: "count")] : []
        }) { context in
            let config = context.config, x = try context.input()
            if try config.bool("invert", default: false) {
                throw KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: "invert=True")
            }
            let axes = try axesList(config, rank: x.shape.count, default: [x.shape.count - 1])
            var broadcastShape: Shape = Array(repeating: 1, count: x.shape.count)
            for axis in axes { broadcastShape[axis] = x.shape[axis] }
            let count = broadcastShape.elementCount ?? 1
            func statistic(_ name: String) throws -> Tensor {
                if let stored = context.weights[name], let data = stored.constant {
                    return Tensor(name: stored.name, shape: data.count == count ? broadcastShape : stored.shape, constant: data)
                }
                var values = try config.floats(name) ?? []
                if values.count == 1 { values = Array(repeating: values[0], count: count) }
                guard values.count == count else { throw config.malformed(name, "\(count) values") }
                return context.constant(name, shape: broadcastShape, values: values)
            }
            return [try context.emit(.normalize, [x, try statistic("mean"), try statistic("variance")])]
        }
        addMiscLayers(to: &table)
        addVolumetricLayers(to: &table)
        table.merge(recurrentRows) { existing, _ in existing }
        table.merge(convRecurrentRows) { existing, _ in existing }
        return table
    }()
}

// MARK: - Shared pieces of the table

/// x / c for a constant c, as x · (1/c); division by a tensor is not an IR op yet.
private func divide(_ context: LayerContext) throws -> [Tensor] {
    guard context.inputs.count == 2, let divisor = context.inputs[1].constant, divisor.count == 1 else {
        throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: context.config.className,
                                           option: "division by a tensor")
    }
    let reciprocal = context.constant("reciprocal", shape: [], values: [1 / (try divisor.values()[0])])
    return [try context.emit(.multiply, [context.inputs[0], reciprocal])]
}

private func biasIfUsed(_ config: LayerConfig) throws -> [VariableSpec] {
    try config.bool("use_bias", default: true) ? [VariableSpec(name: "bias")] : []
}

func kernelAndBias(_ config: LayerConfig) throws -> [VariableSpec] {
    [VariableSpec(name: "kernel")] + (try biasIfUsed(config))
}

func windowAttributes(_ config: LayerConfig, rank: Int, allowCausal: Bool = false) throws -> Attributes {
    let ones = Array(repeating: 1, count: rank)
    let strides = try config.ints("strides", count: rank, default: ones)
    let dilations = try config.ints("dilation_rate", count: rank, default: ones)
    let padding = try config.padding(allowed: allowCausal ? ["same", "valid", "causal"] : ["same", "valid"])
    return Attributes {
        $0[.strides] = strides
        $0[.dilations] = dilations
        $0[.padding] = padding
    }
}

private func normalizationAttributes(_ config: LayerConfig, scale: Bool, center: Bool) throws -> Attributes {
    let epsilon = try config.float("epsilon", default: 1e-3)
    return Attributes {
        $0[.epsilon] = epsilon
        $0[.scaled] = scale
        $0[.centered] = center
    }
}

private func convolution(_ context: LayerContext, kind: OpKind, rank: Int) throws -> [Tensor] {
    try context.config.requireChannelsLast()
    var attributes = try windowAttributes(context.config, rank: rank, allowCausal: rank == 1)
    let groups = try context.config.int("groups", default: 1)
    if groups != 1 { attributes[.groups] = groups }
    var inputs = [try context.input(), try context.weight("kernel")]
    if let bias = context.weights["bias"] { inputs.append(bias) }
    return [try context.activate(try context.emit(kind, inputs, attributes))]
}

func cropping(_ context: LayerContext, rank: Int) throws -> [Tensor] {
    let config = context.config
    if rank >= 2 { try config.requireChannelsLast() }
    let x = try context.input()
    let pairs = try config.pairs("cropping", count: rank)
    var begin = [0], size = [-1]
    for (axis, pair) in pairs.enumerated() {
        guard let length = x.shape[axis + 1] else {
            throw KerasError.graph(file: context.file, layer: config.layer, reason: "cropping needs a known size on axis \(axis + 1)")
        }
        begin.append(pair.0)
        size.append(length - pair.0 - pair.1)
    }
    return [try context.emit(.slice, [x], Attributes {
        $0[.begin] = begin + [0]
        $0[.size] = size + [-1]
    })]
}

/// A layer's `axis` option (int or list, negative allowed) as sorted non-negative axes.
private func axesList(_ config: LayerConfig, rank: Int, default fallback: [Int]) throws -> [Int] {
    var axes: [Int]
    if let value = config["axis"] {
        if let int = value.int { axes = [int] } else if let array = value.array?.compactMap(\.int) { axes = array } else {
            throw config.malformed("axis", "an integer or a list of integers")
        }
    } else {
        axes = fallback
    }
    axes = axes.map { $0 < 0 ? $0 + rank : $0 }
    guard axes.allSatisfy({ (0..<rank).contains($0) }) else { throw config.malformed("axis", "within the input's rank \(rank)") }
    return axes.sorted()
}

/// BatchNormalization normalizes one axis; keraslite supports the channels-last one.
private func requireLastAxis(_ context: LayerContext, rank: Int) throws {
    let axes = try axesList(context.config, rank: rank, default: [rank - 1])
    guard axes == [rank - 1] else {
        throw KerasError.unsupportedOption(file: context.file, layer: context.config.layer, className: context.config.className,
                                           option: "axis=\(axes) (only the last axis is supported)")
    }
}
