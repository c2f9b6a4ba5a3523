import FlatBuffers
import GraphIR
import Kernels

// MARK: - helpers

/// Reorders a row-major array of `shape` by `permutation` (output axis i = input axis permutation[i]).
func permute(_ values: [Float], shape: [Int], _ permutation: [Int]) -> [Float] {
    var result = [Float](repeating: 0, count: values.count)
    result.withUnsafeMutableBufferPointer { permute(values, shape: shape, permutation, into: $0) }
    return result
}

/// Writes `values` reordered by `permutation` into `destination`. Permutations that move a trailing
/// block of axes in front of the rest (HWIO → OHWI, I×O → O×I, K×I×O → O×K×I) are a 2-D transpose
/// and take the tiled fast path.
func permute(_ values: [Float], shape: [Int], _ permutation: [Int], into destination: UnsafeMutableBufferPointer<Float>) {
    let rank = shape.count
    if let (rows, columns) = transposeSides(shape, permutation) {
        transpose2D(values, rows: rows, columns: columns, into: destination)
        return
    }
    var strides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
    let outputShape = permutation.map { shape[$0] }
    let sourceStrides = permutation.map { strides[$0] }
    var index = [Int](repeating: 0, count: rank)
    for position in 0..<values.count {
        var source = 0
        for axis in 0..<rank { source += index[axis] * sourceStrides[axis] }
        destination[position] = values[source]
        var axis = rank - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < outputShape[axis] { break }
            index[axis] = 0
            axis -= 1
        }
    }
}

/// The rows and columns of the 2-D transpose `permutation` amounts to when it moves a trailing
/// block of axes in front of the rest (HWIO → OHWI: rows H·W·I, columns O), else nil.
func transposeSides(_ shape: [Int], _ permutation: [Int]) -> (rows: Int, columns: Int)? {
    let rank = shape.count
    guard let split = (1..<max(rank, 1)).first(where: { permutation == Array($0..<rank) + Array(0..<$0) }) else { return nil }
    return (shape[..<split].reduce(1, *), shape[split...].reduce(1, *))
}

/// [rows × columns] → [columns × rows], in 32×32 tiles to stay in cache: each tile's source rows
/// are read once into L1 and its destination rows written contiguously; blocks of output rows on
/// every core when the matrix is large. With `outputRows`, only those rows of the result (source
/// columns), written from the start of `destination`.
func transpose2D(_ values: [Float], rows: Int, columns: Int, outputRows: Range<Int>? = nil,
                 into destination: UnsafeMutableBufferPointer<Float>) {
    let tile = 32
    let range = outputRows ?? 0..<columns
    guard rows > 0, !range.isEmpty, let target = destination.baseAddress else { return }
    precondition(range.count * rows <= destination.count)
    values.withUnsafeBufferPointer { source in
        let source = source.baseAddress!
        Parallel.forEach(range.count, grain: max(tile, (1 << 20) / rows)) { block in
            let first = range.lowerBound + block.lowerBound, end = range.lowerBound + block.upperBound
            for rowStart in stride(from: 0, to: rows, by: tile) {
                let rowEnd = min(rowStart + tile, rows)
                for columnStart in stride(from: first, to: end, by: tile) {
                    for column in columnStart..<min(columnStart + tile, end) {
                        let out = target + (column &- range.lowerBound) &* rows, input = source + column
                        for row in rowStart..<rowEnd { out[row] = input[row &* columns] }
                    }
                }
            }
        }
    }
}

func staticShape(_ tensor: Tensor, op: Op) throws -> [Int] {
    guard tensor.shape.allSatisfy({ $0 != nil }) else {
        throw ConversionError.unsupported(op: op.name, detail: "\(tensor.name) needs a static shape")
    }
    return tensor.shape.map { $0! }
}

/// The bias input, or zeros when the layer has none (TFLite kernels are happiest with one).
func biasTensor(_ op: Op, channels: Int, in context: LoweringContext) -> Int32 {
    if op.inputs.count > 2 { return context.tensor(for: op.inputs[2]) }
    return context.constantFloats(op.name + "/bias", [Float](repeating: 0, count: channels))
}

/// RESHAPE `x` to `shape` (an unknown batch becomes -1).
func reshape(_ x: Int32, to shape: Shape, output: Int32, name: String, in context: LoweringContext) throws {
    let target = shape.map { Int32($0 ?? -1) }
    guard target.filter({ $0 == -1 }).count <= 1 else {
        throw ConversionError.unsupported(op: name, detail: "reshape with more than one unknown dimension")
    }
    let shapeTensor = context.constantInt32(name + "/shape", target)
    context.emit(.RESHAPE, [x, shapeTensor], [output], options: .ReshapeOptions) { builder in
        let newShape = try builder.createVector(target)
        builder.startTable()
        try builder.add(Field.ReshapeOptions.new_shape, newShape)
        return try builder.endTable()
    }
}

// MARK: - convolutions

func lowerConv2D(_ context: LoweringContext, _ op: Op) throws {
    let kernel = op.inputs[1]
    // A convolution with one group per input channel is a depthwise convolution (ConvNeXt): the
    // H×W×1×O kernel has the memory of the depthwise 1×H×W×(C·M) filter, output c·M + m.
    if let groups = op.attributes[.groups], groups > 1, groups == op.inputs[0].shape.last ?? 0 {
        try lowerDepthwiseConv2D(context, op, multiplier: (kernel.shape[3] ?? groups) / groups)
        return
    }
    // Other groupings: CONV_2D reads the group count from input channels ÷ filter channels.
    let shape = try staticShape(kernel, op: op)  // H W I O
    let filter = context.constantPermuted(kernel, shape: shape, [3, 0, 1, 2])
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)
    let padding = Options.padding(try op.attribute(.padding)), activation = Options.activation(op)
    context.emit(.CONV_2D, [context.tensor(for: op.inputs[0]), filter, biasTensor(op, channels: shape[3], in: context)],
                 [context.tensor(for: op.outputs[0])], options: .Conv2DOptions, Options.table { builder in
                     try builder.add(Field.Conv2DOptions.padding, padding.rawValue, default: 0)
                     try builder.add(Field.Conv2DOptions.stride_w, Int32(strides[1]), default: 0)
                     try builder.add(Field.Conv2DOptions.stride_h, Int32(strides[0]), default: 0)
                     try builder.add(Field.Conv2DOptions.fused_activation_function, activation.rawValue, default: 0)
                     try builder.add(Field.Conv2DOptions.dilation_w_factor, Int32(dilations[1]), default: 1)
                     try builder.add(Field.Conv2DOptions.dilation_h_factor, Int32(dilations[0]), default: 1)
                 })
}

/// conv1d → RESHAPE to [N, 1, L, C] → (PAD for causal) → CONV_2D with a 1×K filter → RESHAPE back.
func lowerConv1D(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], kernel = op.inputs[1]
    let shape = try staticShape(kernel, op: op)  // K I O
    let stride = try op.attribute(.strides)[0], dilation = try op.attribute(.dilations)[0]
    var padding = try op.attribute(.padding)
    var input = context.tensor(op.name + "/expanded", shape: [x.shape[0], 1, x.shape[1], x.shape[2]])
    try reshape(context.tensor(for: x), to: [x.shape[0], 1, x.shape[1], x.shape[2]], output: input, name: op.name + "/expanded", in: context)
    var length = x.shape[1]
    if padding == "causal" {
        let left = (shape[0] - 1) * dilation
        let paddings = context.constantInt32(op.name + "/causal_paddings", [0, 0, 0, 0, Int32(left), 0, 0, 0], shape: [4, 2])
        length = length.map { $0 + left }
        input = context.emitTemporary(.PAD, [input, paddings], name: op.name + "/causal_pad", shape: [x.shape[0], 1, length, x.shape[2]],
                                      options: .PadOptions, Options.table { _ in })
        padding = "valid"
    }
    let filter = context.constantPermuted(kernel, shape: shape, [2, 0, 1], as: [shape[2], 1, shape[0], shape[1]])
    let output = op.outputs[0]
    let convolved = context.tensor(op.name + "/conv2d", shape: [output.shape[0], 1, output.shape[1], output.shape[2]])
    let paddingValue = Options.padding(padding)
    context.emit(.CONV_2D, [input, filter, biasTensor(op, channels: shape[2], in: context)], [convolved],
                 options: .Conv2DOptions, Options.table { builder in
                     try builder.add(Field.Conv2DOptions.padding, paddingValue.rawValue, default: 0)
                     try builder.add(Field.Conv2DOptions.stride_w, Int32(stride), default: 0)
                     try builder.add(Field.Conv2DOptions.stride_h, Int32(1), default: 0)
                     try builder.add(Field.Conv2DOptions.dilation_w_factor, Int32(dilation), default: 1)
                 })
    try reshape(convolved, to: output.shape, output: context.tensor(for: output), name: op.name, in: context)
}

func lowerDepthwiseConv2D(_ context: LoweringContext, _ op: Op) throws {
    try lowerDepthwiseConv2D(context, op, multiplier: nil)
}

/// `multiplier` is given when a grouped conv2d (kernel H×W×1×(C·M)) is lowered as depthwise.
func lowerDepthwiseConv2D(_ context: LoweringContext, _ op: Op, multiplier: Int?) throws {
    let kernel = op.inputs[1]
    var shape = try staticShape(kernel, op: op)  // H W C M: the same memory as 1×H×W×(C·M)
    if let multiplier { shape = [shape[0], shape[1], shape[3] / multiplier, multiplier] }
    let filter = context.constantFloats(kernel.name, shape: [1, shape[0], shape[1], shape[2] * shape[3]]) { try kernel.constant!.valuesWithoutCaching() }
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)
    let padding = Options.padding(try op.attribute(.padding)), activation = Options.activation(op)
    let multiplier = Int32(shape[3])
    context.emit(.DEPTHWISE_CONV_2D, [context.tensor(for: op.inputs[0]), filter, biasTensor(op, channels: shape[2] * shape[3], in: context)],
                 [context.tensor(for: op.outputs[0])], options: .DepthwiseConv2DOptions, Options.table { builder in
                     try builder.add(Field.DepthwiseConv2DOptions.padding, padding.rawValue, default: 0)
                     try builder.add(Field.DepthwiseConv2DOptions.stride_w, Int32(strides[1]), default: 0)
                     try builder.add(Field.DepthwiseConv2DOptions.stride_h, Int32(strides[0]), default: 0)
                     try builder.add(Field.DepthwiseConv2DOptions.depth_multiplier, multiplier, default: 0)
                     try builder.add(Field.DepthwiseConv2DOptions.fused_activation_function, activation.rawValue, default: 0)
                     try builder.add(Field.DepthwiseConv2DOptions.dilation_w_factor, Int32(dilations[1]), default: 1)
                     try builder.add(Field.DepthwiseConv2DOptions.dilation_h_factor, Int32(dilations[0]), default: 1)
                 })
}

/// transpose_conv2d → TRANSPOSE_CONV(output_shape, weights O×H×W×I, input, bias).
func lowerTransposeConv2D(_ context: LoweringContext, _ op: Op) throws {
    let kernel = op.inputs[1], output = op.outputs[0]
    let shape = try staticShape(kernel, op: op)  // H W O I
    if try op.attribute(.dilations) != [1, 1] {
        throw ConversionError.unsupported(op: op.name, detail: "dilated Conv2DTranspose")
    }
    guard output.shape[0] != nil else {
        throw ConversionError.unsupported(op: op.name, detail: "Conv2DTranspose with a dynamic batch (use --batch N)")
    }
    let outputShape = try staticShape(output, op: op)
    let shapeTensor = context.constantInt32(op.name + "/output_shape", outputShape.map(Int32.init))
    let weights = context.constantPermuted(kernel, shape: shape, [2, 0, 1, 3])
    let strides = try op.attribute(.strides), padding = Options.padding(try op.attribute(.padding))
    context.emit(.TRANSPOSE_CONV, [shapeTensor, weights, context.tensor(for: op.inputs[0]), biasTensor(op, channels: shape[2], in: context)],
                 [context.tensor(for: output)], options: .TransposeConvOptions, Options.table { builder in
                     try builder.add(Field.TransposeConvOptions.padding, padding.rawValue, default: 0)
                     try builder.add(Field.TransposeConvOptions.stride_w, Int32(strides[1]), default: 0)
                     try builder.add(Field.TransposeConvOptions.stride_h, Int32(strides[0]), default: 0)
                 })
}

func lowerFullyConnected(_ context: LoweringContext, _ op: Op) throws {
    let kernel = op.inputs[1]
    let shape = try staticShape(kernel, op: op)  // I O
    let weights = context.constantPermuted(kernel, shape: shape, [1, 0])
    let keepDimensions = op.inputs[0].shape.count > 2
    let activation = Options.activation(op)
    context.emit(.FULLY_CONNECTED, [context.tensor(for: op.inputs[0]), weights, biasTensor(op, channels: shape[1], in: context)],
                 [context.tensor(for: op.outputs[0])], options: .FullyConnectedOptions, Options.table { builder in
                     try builder.add(Field.FullyConnectedOptions.fused_activation_function, activation.rawValue, default: 0)
                     try builder.add(Field.FullyConnectedOptions.keep_num_dims, keepDimensions, default: false)
                 })
    context.model.operators[context.model.operators.count - 1].fullyConnected = (activation, keepDimensions)
}

// MARK: - normalization

/// An unfolded batch_norm → MUL by s, ADD (β − μ·s), with s = γ/√(σ² + ε).
func lowerBatchNorm(_ context: LoweringContext, _ op: Op) throws {
    var next = 1
    func take() throws -> [Float] { defer { next += 1 }; return try op.inputs[next].constant?.values() ?? [] }
    let gamma = try op.attribute(.scaled) ? try take() : nil
    let beta = try op.attribute(.centered) ? try take() : nil
    let mean = try take(), variance = try take()
    let epsilon = Double(try op.attribute(.epsilon))
    var scale = [Float](), shift = [Float]()
    for channel in mean.indices {
        let s = Double(gamma?[channel] ?? 1) / (Double(variance[channel]) + epsilon).squareRoot()
        scale.append(Float(s))
        shift.append(Float(Double(beta?[channel] ?? 0) - Double(mean[channel]) * s))
    }
    let x = op.inputs[0]
    let scaled = context.emitTemporary(.MUL, [context.tensor(for: x), context.constantFloats(op.name + "/scale", scale)],
                                       name: op.name + "/scaled", shape: x.shape, options: .MulOptions, Options.table { _ in })
    context.emit(.ADD, [scaled, context.constantFloats(op.name + "/shift", shift)], [context.tensor(for: op.outputs[0])],
                 options: .AddOptions, Options.table { _ in })
}

/// layer_norm → MEAN, SUB, MUL (square), MEAN, ADD ε, RSQRT, MUL, then MUL γ / ADD β.
func lowerLayerNorm(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0]
    let axes = try op.attribute(.axes)
    var reducedShape = x.shape
    for axis in axes { reducedShape[axis] = 1 }
    let axesTensor = context.constantInt32(op.name + "/axes", axes.map(Int32.init))
    let keepDims = Options.table { try $0.add(Field.ReducerOptions.keep_dims, true, default: false) }
    let input = context.tensor(for: x)
    let mean = context.emitTemporary(.MEAN, [input, axesTensor], name: op.name + "/mean", shape: reducedShape, options: .ReducerOptions, keepDims)
    let centered = context.emitTemporary(.SUB, [input, mean], name: op.name + "/centered", shape: x.shape, options: .SubOptions, Options.table { _ in })
    let squared = context.emitTemporary(.MUL, [centered, centered], name: op.name + "/squared", shape: x.shape, options: .MulOptions, Options.table { _ in })
    let variance = context.emitTemporary(.MEAN, [squared, axesTensor], name: op.name + "/variance", shape: reducedShape, options: .ReducerOptions, keepDims)
    let epsilon = context.constantFloats(op.name + "/epsilon", [try op.attribute(.epsilon)])
    let shifted = context.emitTemporary(.ADD, [variance, epsilon], name: op.name + "/variance_epsilon", shape: reducedShape, options: .AddOptions, Options.table { _ in })
    let inverse = context.emitTemporary(.RSQRT, [shifted], name: op.name + "/rsqrt", shape: reducedShape)
    let hasScale = try op.attribute(.scaled), hasCenter = try op.attribute(.centered)
    let output = context.tensor(for: op.outputs[0])
    var next = 1
    var y = hasScale || hasCenter
        ? context.emitTemporary(.MUL, [centered, inverse], name: op.name + "/normalized", shape: x.shape, options: .MulOptions, Options.table { _ in })
        : output
    if !hasScale && !hasCenter {
        context.emit(.MUL, [centered, inverse], [output], options: .MulOptions, Options.table { _ in })
        return
    }
    if hasScale {
        let gamma = context.tensor(for: op.inputs[next]); next += 1
        if hasCenter {
            y = context.emitTemporary(.MUL, [y, gamma], name: op.name + "/scaled", shape: x.shape, options: .MulOptions, Options.table { _ in })
        } else {
            context.emit(.MUL, [y, gamma], [output], options: .MulOptions, Options.table { _ in })
            return
        }
    }
    context.emit(.ADD, [y, context.tensor(for: op.inputs[next])], [output], options: .AddOptions, Options.table { _ in })
}

func lowerNormalize(_ context: LoweringContext, _ op: Op) throws {
    // Keras: (x − mean) / max(√variance, 1e-7)
    let x = op.inputs[0], mean = op.inputs[1], variance = op.inputs[2]
    let meanShape = mean.shape.map { $0 ?? 1 }
    let inverse = try variance.constant!.values().map { 1 / max($0.squareRoot(), 1e-7) }
    let centered = context.emitTemporary(.SUB, [context.tensor(for: x), context.tensor(for: mean)], name: op.name + "/centered",
                                         shape: x.shape, options: .SubOptions, Options.table { _ in })
    context.emit(.MUL, [centered, context.constantFloats(op.name + "/inverse_std", inverse, shape: meanShape)],
                 [context.tensor(for: op.outputs[0])], options: .MulOptions, Options.table { _ in })
}

func lowerRescale(_ context: LoweringContext, _ op: Op) throws {
    let scale = try op.attribute(.rescaleScale), offset = try op.attribute(.rescaleOffset)
    let x = op.inputs[0], output = context.tensor(for: op.outputs[0])
    let needsScale = scale != [1], needsOffset = offset.contains { $0 != 0 }
    var y = context.tensor(for: x)
    if needsScale {
        let factor = context.constantFloats(op.name + "/scale", scale)
        if needsOffset {
            y = context.emitTemporary(.MUL, [y, factor], name: op.name + "/scaled", shape: x.shape, options: .MulOptions, Options.table { _ in })
        } else {
            context.emit(.MUL, [y, factor], [output], options: .MulOptions, Options.table { _ in })
            return
        }
    }
    if needsOffset {
        context.emit(.ADD, [y, context.constantFloats(op.name + "/offset", offset)], [output], options: .AddOptions, Options.table { _ in })
        return
    }
    try reshape(y, to: op.outputs[0].shape, output: output, name: op.name, in: context)
}

// MARK: - activations

/// One activation function as TFLite builtins, reading `x` and writing `output`.
func lowerActivation(_ function: ActivationFunction, _ x: Int32, output: Int32, op: Op, in context: LoweringContext) throws {
    let shape = op.outputs[0].shape
    let name = op.name
    func unary(_ code: BuiltinOperator, _ input: Int32, _ result: Int32) { context.emit(code, [input], [result]) }
    func scalar(_ suffix: String, _ value: Float) -> Int32 { context.constantFloats("\(name)/\(suffix)", [value]) }
    func temporary(_ code: BuiltinOperator, _ inputs: [Int32], _ suffix: String, options: BuiltinOptions = .NONE) -> Int32 {
        let table: ((inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset)? = options == .NONE ? nil : Options.table { _ in }
        return context.emitTemporary(code, inputs, name: "\(name)/\(suffix)", shape: shape, options: options, table)
    }
    func binary(_ code: BuiltinOperator, _ a: Int32, _ b: Int32, _ result: Int32) {
        let options: BuiltinOptions
        switch code {
        case .ADD: options = .AddOptions
        case .SUB: options = .SubOptions
        case .MUL: options = .MulOptions
        case .DIV: options = .DivOptions
        default: options = .NONE
        }
        context.emit(code, [a, b], [result], options: options, options == .NONE ? nil : Options.table { _ in })
    }
    /// softplus(x) = relu(x) + log(1 + exp(−|x|)), stable for large |x|.
    func softplus(_ input: Int32, into result: Int32) {
        let magnitude = temporary(.ABS, [input], "abs")
        let negated = temporary(.NEG, [magnitude], "neg_abs")
        let exponential = temporary(.EXP, [negated], "exp")
        let onePlus = temporary(.ADD, [exponential, scalar("one", 1)], "one_plus", options: .AddOptions)
        let logarithm = temporary(.LOG, [onePlus], "log")
        let positive = temporary(.RELU, [input], "relu")
        binary(.ADD, positive, logarithm, result)
    }

    switch function {
    case .linear:
        try reshape(x, to: shape, output: output, name: name, in: context)
    case .relu: unary(.RELU, x, output)
    case .relu6: unary(.RELU6, x, output)
    case .sigmoid: unary(.LOGISTIC, x, output)
    case .tanh: unary(.TANH, x, output)
    case .exponential: unary(.EXP, x, output)
    case .hardSwish: unary(.HARD_SWISH, x, output)
    case .elu: try lowerELU(x, alpha: 1, output: output, op: op, in: context)
    case .softmax:
        context.emit(.SOFTMAX, [x], [output], options: .SoftmaxOptions, Options.table { try $0.add(Field.SoftmaxOptions.beta, Float(1), default: 0) })
    case .logSoftmax:
        context.emit(.LOG_SOFTMAX, [x], [output], options: .LogSoftmaxOptions, Options.table { _ in })
    case .gelu, .geluTanh:
        let approximate = function == .geluTanh
        context.emit(.GELU, [x], [output], options: .GeluOptions, Options.table { try $0.add(Field.GeluOptions.approximate, approximate, default: false) })
    case .leakyRelu:
        context.emit(.LEAKY_RELU, [x], [output], options: .LeakyReluOptions, Options.table { try $0.add(Field.LeakyReluOptions.alpha, Float(0.2), default: 0) })
    case .swish:
        binary(.MUL, x, temporary(.LOGISTIC, [x], "sigmoid"), output)
    case .hardSigmoid:  // Keras 3: relu6(x + 3) / 6
        let shifted = temporary(.ADD, [x, scalar("three", 3)], "plus_three", options: .AddOptions)
        binary(.MUL, temporary(.RELU6, [shifted], "relu6"), scalar("sixth", 1.0 / 6.0), output)
    case .hardSigmoidKeras2:  // Keras 2: clip(0.2·x + 0.5, 0, 1)
        let scaled = temporary(.MUL, [x, scalar("slope", 0.2)], "scaled", options: .MulOptions)
        let shifted = temporary(.ADD, [scaled, scalar("half", 0.5)], "shifted", options: .AddOptions)
        let floor = temporary(.MAXIMUM, [shifted, scalar("zero", 0)], "floor")
        context.emit(.MINIMUM, [floor, scalar("one", 1)], [output])
    case .selu:
        let alpha: Float = 1.6732632423543772848170429916717, scaleValue: Float = 1.0507009873554804934193349852946
        let elu = context.tensor("\(name)/elu", shape: shape)
        try lowerELU(x, alpha: alpha, output: elu, op: op, in: context, suffix: "elu_")
        binary(.MUL, elu, scalar("scale", scaleValue), output)
    case .softplus:
        softplus(x, into: output)
    case .softsign:  // x / (1 + |x|)
        let magnitude = temporary(.ABS, [x], "abs")
        let denominator = temporary(.ADD, [magnitude, scalar("one", 1)], "one_plus_abs", options: .AddOptions)
        binary(.DIV, x, denominator, output)
    case .mish:  // x · tanh(softplus(x))
        let soft = context.tensor("\(name)/softplus", shape: shape)
        softplus(x, into: soft)
        binary(.MUL, x, temporary(.TANH, [soft], "tanh"), output)
    }
}

/// elu with α: ELU when α = 1, else relu(x) + α·(exp(min(x, 0)) − 1).
func lowerELU(_ x: Int32, alpha: Float, output: Int32, op: Op, in context: LoweringContext, suffix: String = "") throws {
    if alpha == 1 {
        context.emit(.ELU, [x], [output])
        return
    }
    let shape = op.outputs[0].shape, name = op.name + "/" + suffix
    let zero = context.constantFloats(name + "zero", [0])
    let negative = context.emitTemporary(.MINIMUM, [x, zero], name: name + "negative", shape: shape)
    let exponential = context.emitTemporary(.EXP, [negative], name: name + "exp", shape: shape)
    let minusOne = context.emitTemporary(.SUB, [exponential, context.constantFloats(name + "one", [1])], name: name + "exp_minus_one",
                                         shape: shape, options: .SubOptions, Options.table { _ in })
    let scaled = context.emitTemporary(.MUL, [minusOne, context.constantFloats(name + "alpha", [alpha])], name: name + "scaled",
                                       shape: shape, options: .MulOptions, Options.table { _ in })
    let positive = context.emitTemporary(.RELU, [x], name: name + "positive", shape: shape)
    context.emit(.ADD, [positive, scaled], [output], options: .AddOptions, Options.table { _ in })
}

/// relu with max_value / threshold / negative_slope (Keras' backend.relu):
/// x > threshold ? clip(x, 0, max_value) : negative_slope · (x − threshold).
func lowerParameterizedReLU(_ context: LoweringContext, _ op: Op) throws {
    let x = context.tensor(for: op.inputs[0]), output = context.tensor(for: op.outputs[0])
    let shape = op.outputs[0].shape, name = op.name
    let slope = try op.attribute(.negativeSlope), threshold = try op.attribute(.threshold)
    let maxValue = op.attributes[.maxValue]
    let simple = slope == 0 && threshold == 0
    func positivePart(into result: Int32?) -> Int32 {
        if let maxValue {
            let relu = context.emitTemporary(.RELU, [x], name: name + "/relu", shape: shape)
            let limit = context.constantFloats(name + "/max_value", [maxValue])
            if let result { context.emit(.MINIMUM, [relu, limit], [result]); return result }
            return context.emitTemporary(.MINIMUM, [relu, limit], name: name + "/clipped", shape: shape)
        }
        if let result { context.emit(.RELU, [x], [result]); return result }
        return context.emitTemporary(.RELU, [x], name: name + "/relu", shape: shape)
    }
    if simple { _ = positivePart(into: output); return }
    let positive = positivePart(into: nil)
    let thresholdTensor = context.constantFloats(name + "/threshold", [threshold])
    let condition = context.tensor(name + "/above_threshold", shape: shape, type: .BOOL)
    context.emit(.GREATER, [x, thresholdTensor], [condition])
    let negative: Int32
    if slope == 0 {
        negative = context.constantFloats(name + "/zero", [0])
    } else {
        let shifted = context.emitTemporary(.SUB, [x, thresholdTensor], name: name + "/shifted", shape: shape, options: .SubOptions, Options.table { _ in })
        negative = context.emitTemporary(.MUL, [shifted, context.constantFloats(name + "/negative_slope", [slope])], name: name + "/negative",
                                         shape: shape, options: .MulOptions, Options.table { _ in })
    }
    context.emit(.SELECT_V2, [condition, positive, negative], [output], options: .SelectV2Options, Options.table { _ in })
}

func lowerSoftmax(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0]
    let rank = x.shape.count
    var axis = try op.attribute(.axis)
    if axis < 0 { axis += rank }
    let softmaxOptions = Options.table { try $0.add(Field.SoftmaxOptions.beta, Float(1), default: 0) }
    if axis == rank - 1 {
        context.emit(.SOFTMAX, [context.tensor(for: x)], [context.tensor(for: op.outputs[0])], options: .SoftmaxOptions, softmaxOptions)
        return
    }
    // Move the axis last, softmax, move it back.
    var permutation = Array(0..<rank)
    permutation.swapAt(axis, rank - 1)
    let perm = context.constantInt32(op.name + "/perm", permutation.map(Int32.init))
    let movedShape = permutation.map { x.shape[$0] }
    let moved = context.emitTemporary(.TRANSPOSE, [context.tensor(for: x), perm], name: op.name + "/moved", shape: movedShape,
                                      options: .TransposeOptions, Options.table { _ in })
    let soft = context.emitTemporary(.SOFTMAX, [moved], name: op.name + "/softmax", shape: movedShape, options: .SoftmaxOptions, softmaxOptions)
    context.emit(.TRANSPOSE, [soft, perm], [context.tensor(for: op.outputs[0])], options: .TransposeOptions, Options.table { _ in })
}

// MARK: - pooling, resizing, elementwise

func pool2DOptions(padding: Padding, strides: [Int], size: [Int], activation: ActivationFunctionType) -> (inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset {
    Options.table { builder in
        try builder.add(Field.Pool2DOptions.padding, padding.rawValue, default: 0)
        try builder.add(Field.Pool2DOptions.stride_w, Int32(strides[1]), default: 0)
        try builder.add(Field.Pool2DOptions.stride_h, Int32(strides[0]), default: 0)
        try builder.add(Field.Pool2DOptions.filter_width, Int32(size[1]), default: 0)
        try builder.add(Field.Pool2DOptions.filter_height, Int32(size[0]), default: 0)
        try builder.add(Field.Pool2DOptions.fused_activation_function, activation.rawValue, default: 0)
    }
}

func lowerPool2D(_ context: LoweringContext, _ op: Op, code: BuiltinOperator) throws {
    let options = pool2DOptions(padding: Options.padding(try op.attribute(.padding)), strides: try op.attribute(.strides),
                                size: try op.attribute(.poolSize), activation: Options.activation(op))
    context.emit(code, [context.tensor(for: op.inputs[0])], [context.tensor(for: op.outputs[0])], options: .Pool2DOptions, options)
}

func lowerPool1D(_ context: LoweringContext, _ op: Op, code: BuiltinOperator) throws {
    let x = op.inputs[0], output = op.outputs[0]
    let expandedShape: Shape = [x.shape[0], 1, x.shape[1], x.shape[2]]
    let expanded = context.tensor(op.name + "/expanded", shape: expandedShape)
    try reshape(context.tensor(for: x), to: expandedShape, output: expanded, name: op.name + "/expanded", in: context)
    let options = pool2DOptions(padding: Options.padding(try op.attribute(.padding)), strides: [1, try op.attribute(.strides)[0]],
                                size: [1, try op.attribute(.poolSize)[0]], activation: .NONE)
    let pooled = context.emitTemporary(code, [expanded], name: op.name + "/pooled", shape: [output.shape[0], 1, output.shape[1], output.shape[2]],
                                       options: .Pool2DOptions, options)
    try reshape(pooled, to: output.shape, output: context.tensor(for: output), name: op.name, in: context)
}

func lowerGlobalPool(_ context: LoweringContext, _ op: Op, code: BuiltinOperator) throws {
    let x = op.inputs[0]
    let axes = Array(1..<(x.shape.count - 1)).map(Int32.init)
    let keepDims = try op.attribute(.keepDims)
    context.emit(code, [context.tensor(for: x), context.constantInt32(op.name + "/axes", axes)], [context.tensor(for: op.outputs[0])],
                 options: .ReducerOptions, Options.table { try $0.add(Field.ReducerOptions.keep_dims, keepDims, default: false) })
}

func lowerResize(_ context: LoweringContext, _ op: Op) throws {
    let output = op.outputs[0]
    guard let height = output.shape[1], let width = output.shape[2] else {
        throw ConversionError.unsupported(op: op.name, detail: "resize needs static spatial sizes")
    }
    let size = context.constantInt32(op.name + "/size", [Int32(height), Int32(width)])
    let inputs = [context.tensor(for: op.inputs[0]), size], outputs = [context.tensor(for: output)]
    // Keras resizes through tf.image.resize: half-pixel centres, no corner alignment.
    if try op.attribute(.method) == "bilinear" {
        context.emit(.RESIZE_BILINEAR, inputs, outputs, options: .ResizeBilinearOptions, Options.table { builder in
            try builder.add(Field.ResizeBilinearOptions.half_pixel_centers, true, default: false)
        })
    } else {
        context.emit(.RESIZE_NEAREST_NEIGHBOR, inputs, outputs, options: .ResizeNearestNeighborOptions, Options.table { builder in
            try builder.add(Field.ResizeNearestNeighborOptions.half_pixel_centers, true, default: false)
        })
    }
}

private func binaryOptions(_ code: BuiltinOperator, activation: ActivationFunctionType) -> (BuiltinOptions, ((inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset)?) {
    switch code {
    case .ADD: return (.AddOptions, Options.table { try $0.add(Field.AddOptions.fused_activation_function, activation.rawValue, default: 0) })
    case .SUB: return (.SubOptions, Options.table { try $0.add(Field.SubOptions.fused_activation_function, activation.rawValue, default: 0) })
    case .MUL: return (.MulOptions, Options.table { try $0.add(Field.MulOptions.fused_activation_function, activation.rawValue, default: 0) })
    default: return (.NONE, nil)
    }
}

/// n-ary add/sub/mul/max/min as a chain of binary builtins; the fused activation goes on the last.
func lowerElementwise(_ context: LoweringContext, _ op: Op, code: BuiltinOperator) throws {
    var accumulated = context.tensor(for: op.inputs[0])
    var accumulatedShape = op.inputs[0].shape
    let output = op.outputs[0]
    for (index, input) in op.inputs.enumerated().dropFirst() {
        let last = index == op.inputs.count - 1
        let (optionsType, options) = binaryOptions(code, activation: last ? Options.activation(op) : .NONE)
        accumulatedShape = broadcastShape(accumulatedShape, input.shape)
        let result = last ? context.tensor(for: output) : context.tensor("\(op.name)/partial_\(index)", shape: accumulatedShape)
        context.emit(code, [accumulated, context.tensor(for: input)], [result], options: optionsType, options)
        accumulated = result
    }
}

private func broadcastShape(_ a: Shape, _ b: Shape) -> Shape {
    let rank = max(a.count, b.count)
    let left = Array(repeating: 1, count: rank - a.count) + a, right = Array(repeating: 1, count: rank - b.count) + b
    return zip(left, right).map { x, y in x == 1 ? y : x }
}

/// average of n inputs → ADD chain, then MUL by 1/n.
func lowerAverage(_ context: LoweringContext, _ op: Op) throws {
    var accumulated = context.tensor(for: op.inputs[0])
    for (index, input) in op.inputs.enumerated().dropFirst() {
        accumulated = context.emitTemporary(.ADD, [accumulated, context.tensor(for: input)], name: "\(op.name)/sum_\(index)",
                                            shape: op.outputs[0].shape, options: .AddOptions, Options.table { _ in })
    }
    context.emit(.MUL, [accumulated, context.constantFloats(op.name + "/inverse_count", [1 / Float(op.inputs.count)])],
                 [context.tensor(for: op.outputs[0])], options: .MulOptions, Options.table { _ in })
}
