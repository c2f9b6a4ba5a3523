/// What the IR knows about each op kind: how many inputs it takes and how its output shapes
/// follow from its inputs and attributes. One table; no per-op switches elsewhere.
public struct OpSchema: Sendable {
    /// Allowed number of inputs (weights included).
    public var inputs: ClosedRange<Int>
    /// The attributes the kind takes; `verify()` rejects others, missing required ones and wrong types.
    public var attributes: [AttributeSpec]
    /// Output shapes from the op's inputs and attributes; throws on inconsistent shapes.
    public var inferShapes: @Sendable (Op) throws -> [Shape]
    /// Output element types from the op; nil: every output is float32.
    public var inferTypes: (@Sendable (Op) -> [DType])?

    public init(inputs: ClosedRange<Int>, attributes: [AttributeSpec] = [], inferShapes: @escaping @Sendable (Op) throws -> [Shape]) {
        self.inputs = inputs
        self.attributes = attributes
        self.inferShapes = inferShapes
    }

    public static func of(_ kind: OpKind) -> OpSchema { table[kind]! }

    public func attribute(named name: String) -> AttributeSpec? { attributes.first { $0.name == name } }

    /// Attributes of strided-window ops.
    private static let window: [AttributeSpec] = [.required(.strides), .required(.dilations), .required(.padding)]
    /// The ops `fuse-activation` may merge a relu/relu6 into.
    private static let fusable: [AttributeSpec] = [.optional(.fusedActivation)]
    private static let pool: [AttributeSpec] = [.required(.poolSize), .required(.strides), .required(.padding)]
    private static let normalization: [AttributeSpec] = [
        .required(.epsilon), .optional(.scaled, default: true), .optional(.centered, default: true),
    ]

    static let table: [OpKind: OpSchema] = [
        .conv1d: OpSchema(inputs: 2...3, attributes: window + [.optional(.groups, default: 1)], inferShapes: inferConv1D),
        .conv2d: OpSchema(inputs: 2...3, attributes: window + fusable + [.optional(.groups, default: 1)], inferShapes: inferConv2D),
        .depthwiseConv2d: OpSchema(inputs: 2...3, attributes: window + fusable, inferShapes: inferDepthwiseConv2D),
        .transposeConv2d: OpSchema(inputs: 2...3, attributes: window + [.optional(.outputPadding)], inferShapes: inferTransposeConv2D),
        .fullyConnected: OpSchema(inputs: 2...3, attributes: fusable, inferShapes: inferFullyConnected),
        .batchNorm: OpSchema(inputs: 3...5, attributes: normalization, inferShapes: sameAsFirstInput),
        .layerNorm: OpSchema(inputs: 1...3, attributes: normalization + [.required(.axes)], inferShapes: sameAsFirstInput),
        .activation: OpSchema(inputs: 1...1, attributes: [.required(.function)], inferShapes: sameAsFirstInput),
        .relu: OpSchema(inputs: 1...1, attributes: [
            .optional(.negativeSlope, default: 0), .optional(.threshold, default: 0), .optional(.maxValue),
        ], inferShapes: sameAsFirstInput),
        .leakyRelu: OpSchema(inputs: 1...1, attributes: [.optional(.alpha, default: 0.3)], inferShapes: sameAsFirstInput),
        .prelu: OpSchema(inputs: 2...2, inferShapes: sameAsFirstInput),
        .elu: OpSchema(inputs: 1...1, attributes: [.optional(.alpha, default: 1)], inferShapes: sameAsFirstInput),
        .softmax: OpSchema(inputs: 1...1, attributes: [.required(.axis)], inferShapes: sameAsFirstInput),
        .maxPool1d: OpSchema(inputs: 1...1, attributes: pool, inferShapes: { try inferPool($0, spatialRank: 1) }),
        .maxPool2d: OpSchema(inputs: 1...1, attributes: pool + fusable, inferShapes: { try inferPool($0, spatialRank: 2) }),
        .avgPool1d: OpSchema(inputs: 1...1, attributes: pool, inferShapes: { try inferPool($0, spatialRank: 1) }),
        .avgPool2d: OpSchema(inputs: 1...1, attributes: pool + fusable, inferShapes: { try inferPool($0, spatialRank: 2) }),
        .globalAvgPool: OpSchema(inputs: 1...1, attributes: [.optional(.keepDims, default: false)], inferShapes: inferGlobalPool),
        .globalMaxPool: OpSchema(inputs: 1...1, attributes: [.optional(.keepDims, default: false)], inferShapes: inferGlobalPool),
        .reshape: OpSchema(inputs: 1...1, attributes: [.required(.shape), .optional(.includesBatch, default: false)], inferShapes: inferReshape),
        .transpose: OpSchema(inputs: 1...1, attributes: [.required(.permutation)], inferShapes: inferTranspose),
        .repeatVector: OpSchema(inputs: 1...1, attributes: [.required(.repeats)], inferShapes: inferRepeatVector),
        .pad: OpSchema(inputs: 1...1, attributes: [.required(.paddings)], inferShapes: inferPad),
        .slice: OpSchema(inputs: 1...1, attributes: [.required(.begin), .required(.size)], inferShapes: inferSlice),
        .resize: OpSchema(inputs: 1...1, attributes: [.optional(.resizeScale), .optional(.resizeSize), .required(.method)], inferShapes: inferResize),
        .add: OpSchema(inputs: 2...64, attributes: fusable, inferShapes: inferBroadcast),
        .subtract: OpSchema(inputs: 2...2, attributes: fusable, inferShapes: inferBroadcast),
        .multiply: OpSchema(inputs: 2...64, attributes: fusable, inferShapes: inferBroadcast),
        .average: OpSchema(inputs: 2...64, inferShapes: inferBroadcast),
        .maximum: OpSchema(inputs: 2...64, inferShapes: inferBroadcast),
        .minimum: OpSchema(inputs: 2...64, inferShapes: inferBroadcast),
        .concatenate: OpSchema(inputs: 1...64, attributes: [.required(.axis)], inferShapes: inferConcatenate),
        .identity: OpSchema(inputs: 1...1, inferShapes: sameAsFirstInput),
        .rescale: OpSchema(inputs: 1...1, attributes: [.required(.rescaleScale), .required(.rescaleOffset)], inferShapes: sameAsFirstInput),
        .normalize: OpSchema(inputs: 3...3, inferShapes: sameAsFirstInput),
        .batchMatmul: OpSchema(inputs: 2...2, attributes: [.optional(.adjointX, default: false), .optional(.adjointY, default: false)],
                               inferShapes: inferBatchMatmul),
        .l2Normalize: OpSchema(inputs: 1...1, attributes: [.required(.axis)], inferShapes: sameAsFirstInput),
        .conv3d: OpSchema(inputs: 2...3, attributes: window, inferShapes: inferConv3D),
        .transposeConv3d: OpSchema(inputs: 2...3, attributes: window + [.optional(.outputPadding)], inferShapes: inferTransposeConv3D),
        .maxPool3d: OpSchema(inputs: 1...1, attributes: pool, inferShapes: { try inferPool($0, spatialRank: 3) }),
        .avgPool3d: OpSchema(inputs: 1...1, attributes: pool, inferShapes: { try inferPool($0, spatialRank: 3) }),
        .upsample3d: OpSchema(inputs: 1...1, attributes: [.required(.resizeScale)], inferShapes: inferUpsample3D),
        .simpleRnn: .recurrent(gates: 1), .gru: .recurrent(gates: 3), .lstm: .recurrent(gates: 4),
        .gather: .gather, .cast: .cast, .reverse: .reverse, .sequenceMask: .sequenceMask,
        .convLstm2d: .convLstm2d,
    ]

    /// Problems with an op's attributes against its schema: undeclared names, wrong types, missing required ones.
    public func attributeProblems(of op: Op) -> [String] {
        var problems: [String] = []
        for name in op.attributes.sortedNames {
            guard let spec = attribute(named: name) else {
                problems.append("op '\(op.name)' (\(op.kind.rawValue)) has attribute '\(name)', which \(op.kind.rawValue) does not take")
                continue
            }
            if !spec.accepts(op.attributes[name]!) {
                problems.append("\(GraphError.wrongAttributeType(op: op.name, attribute: name, expected: spec.typeName))")
            }
        }
        for spec in attributes where spec.isRequired && op.attributes[spec.name] == nil {
            problems.append("\(GraphError.missingAttribute(op: op.name, attribute: spec.name))")
        }
        return problems
    }
}

// MARK: - Shape functions

private func sameAsFirstInput(_ op: Op) throws -> [Shape] { [op.inputs[0].shape] }

func requireRank(_ op: Op, _ tensor: Tensor, _ rank: Int, _ role: String) throws {
    guard tensor.shape.count == rank else {
        throw GraphError.shape(op: op.name, message: "\(role) \(tensor.name) has rank \(tensor.shape.count), needs \(rank)")
    }
}

/// Output length of a strided window: Keras' conv_output_length.
func windowOutputLength(_ length: Int?, window: Int, stride: Int, dilation: Int = 1, padding: String) throws -> Int? {
    guard let length else { return nil }
    let effective = (window - 1) * dilation + 1
    switch padding {
    case "same", "causal": return (length + stride - 1) / stride
    case "valid": return max(0, (length - effective) / stride + 1)
    default: throw GraphError.invalid("unknown padding '\(padding)'")
    }
}

private func inferConvND(_ op: Op, spatialRank: Int) throws -> [Shape] {
    let x = op.inputs[0], filter = op.inputs[1]
    try requireRank(op, x, spatialRank + 2, "input")
    try requireRank(op, filter, spatialRank + 2, "filter")
    let strides = try op.attribute(.strides)
    let dilations = try op.attribute(.dilations)
    let padding = try op.attribute(.padding)
    let groups = try op.attribute(.groups)
    guard strides.count == spatialRank, dilations.count == spatialRank else {
        throw GraphError.shape(op: op.name, message: "strides/dilations need \(spatialRank) values")
    }
    if let channels = x.shape.last!, let filterChannels = filter.shape[spatialRank], channels != filterChannels * groups {
        throw GraphError.shape(op: op.name, message: "input has \(channels) channels, filter expects \(filterChannels)×\(groups)")
    }
    var output: Shape = [x.shape[0]]
    for axis in 0..<spatialRank {
        output.append(try windowOutputLength(x.shape[axis + 1], window: filter.shape[axis] ?? 1,
                                             stride: strides[axis], dilation: dilations[axis], padding: padding))
    }
    output.append(filter.shape[spatialRank + 1])
    return [output]
}

private func inferConv1D(_ op: Op) throws -> [Shape] { try inferConvND(op, spatialRank: 1) }
private func inferConv2D(_ op: Op) throws -> [Shape] { try inferConvND(op, spatialRank: 2) }

private func inferDepthwiseConv2D(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0], filter = op.inputs[1]
    try requireRank(op, x, 4, "input")
    try requireRank(op, filter, 4, "filter")
    let strides = try op.attribute(.strides)
    let dilations = try op.attribute(.dilations)
    let padding = try op.attribute(.padding)
    if let channels = x.shape[3], let filterChannels = filter.shape[2], channels != filterChannels {
        throw GraphError.shape(op: op.name, message: "input has \(channels) channels, depthwise filter \(filterChannels)")
    }
    let height = try windowOutputLength(x.shape[1], window: filter.shape[0] ?? 1, stride: strides[0], dilation: dilations[0], padding: padding)
    let width = try windowOutputLength(x.shape[2], window: filter.shape[1] ?? 1, stride: strides[1], dilation: dilations[1], padding: padding)
    let channels = filter.shape[2].flatMap { c in filter.shape[3].map { c * $0 } }
    return [[x.shape[0], height, width, channels]]
}

/// Keras' deconv_output_length.
func transposedLength(_ length: Int?, window: Int, stride: Int, dilation: Int, padding: String, outputPadding: Int?) -> Int? {
    guard let length else { return nil }
    let effective = window + (window - 1) * (dilation - 1)
    guard let outputPadding else {
        return padding == "valid" ? length * stride + max(effective - stride, 0) : length * stride
    }
    let pad = padding == "same" ? effective / 2 : 0
    return (length - 1) * stride + effective - 2 * pad + outputPadding
}

private func inferTransposeConv2D(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0], filter = op.inputs[1]
    try requireRank(op, x, 4, "input")
    try requireRank(op, filter, 4, "filter")
    let strides = try op.attribute(.strides)
    let dilations = try op.attribute(.dilations)
    let padding = try op.attribute(.padding)
    let outputPadding = op.attributes[.outputPadding]
    if let channels = x.shape[3], let filterChannels = filter.shape[3], channels != filterChannels {
        throw GraphError.shape(op: op.name, message: "input has \(channels) channels, filter expects \(filterChannels)")
    }
    let height = transposedLength(x.shape[1], window: filter.shape[0] ?? 1, stride: strides[0], dilation: dilations[0],
                                  padding: padding, outputPadding: outputPadding?[0])
    let width = transposedLength(x.shape[2], window: filter.shape[1] ?? 1, stride: strides[1], dilation: dilations[1],
                                 padding: padding, outputPadding: outputPadding?[1])
    return [[x.shape[0], height, width, filter.shape[2]]]
}

private func inferFullyConnected(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0], kernel = op.inputs[1]
    try requireRank(op, kernel, 2, "kernel")
    guard x.shape.count >= 2 else { throw GraphError.shape(op: op.name, message: "input needs rank ≥ 2") }
    if let features = x.shape.last!, let kernelRows = kernel.shape[0], features != kernelRows {
        throw GraphError.shape(op: op.name, message: "input has \(features) features, kernel expects \(kernelRows)")
    }
    return [Array(x.shape.dropLast()) + [kernel.shape[1]]]
}

func inferPool(_ op: Op, spatialRank: Int) throws -> [Shape] {
    let x = op.inputs[0]
    try requireRank(op, x, spatialRank + 2, "input")
    let size = try op.attribute(.poolSize)
    let strides = try op.attribute(.strides)
    let padding = try op.attribute(.padding)
    var output: Shape = [x.shape[0]]
    for axis in 0..<spatialRank {
        output.append(try windowOutputLength(x.shape[axis + 1], window: size[axis], stride: strides[axis], padding: padding))
    }
    output.append(x.shape.last!)
    return [output]
}

private func inferGlobalPool(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    guard x.shape.count >= 3 else { throw GraphError.shape(op: op.name, message: "input needs rank ≥ 3") }
    let keepDims = try op.attribute(.keepDims)
    if keepDims {
        return [[x.shape[0]] + Array(repeating: 1, count: x.shape.count - 2) + [x.shape.last!]]
    }
    return [[x.shape[0], x.shape.last!]]
}

private func inferReshape(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    let target = try op.attribute(.shape)
    if try op.attribute(.includesBatch) {
        guard target.filter({ $0 == -1 }).count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw GraphError.shape(op: op.name, message: "target shape \(target) has more than one unknown or a negative dimension")
        }
        var output: Shape = target.map { $0 < 0 ? nil : $0 }
        let known = target.filter { $0 >= 0 }.reduce(1, *)
        if let total = x.shape.elementCount {
            if let unknown = target.firstIndex(of: -1) {
                guard known > 0, total % known == 0 else { throw GraphError.shape(op: op.name, message: "cannot reshape \(x.shape.text) to \(target)") }
                output[unknown] = total / known
            } else if total != known {
                throw GraphError.shape(op: op.name, message: "cannot reshape \(x.shape.text) to \(target)")
            }
        }
        return [output]
    }
    let inner = Array(x.shape.dropFirst()).elementCount
    var output: Shape = target.map { $0 < 0 ? nil : $0 }
    if let unknown = target.firstIndex(of: -1) {
        let known = target.filter { $0 >= 0 }.reduce(1, *)
        if let inner {
            guard known > 0, inner % known == 0 else {
                throw GraphError.shape(op: op.name, message: "cannot reshape \(x.shape.text) to \(target)")
            }
            output[unknown] = inner / known
        }
    } else if let inner, inner != target.reduce(1, *) {
        throw GraphError.shape(op: op.name, message: "cannot reshape \(x.shape.text) to \(target)")
    }
    return [[x.shape[0]] + output]
}

private func inferTranspose(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    let permutation = try op.attribute(.permutation)
    guard permutation.sorted() == Array(0..<x.shape.count) else {
        throw GraphError.shape(op: op.name, message: "perm \(permutation) does not fit rank \(x.shape.count)")
    }
    return [permutation.map { x.shape[$0] }]
}

private func inferRepeatVector(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    try requireRank(op, x, 2, "input")
    return [[x.shape[0], try op.attribute(.repeats), x.shape[1]]]
}

private func inferPad(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    let paddings = try op.attribute(.paddings)
    guard paddings.count == 2 * x.shape.count else {
        throw GraphError.shape(op: op.name, message: "paddings need \(2 * x.shape.count) values")
    }
    return [x.shape.enumerated().map { axis, size in size.map { $0 + paddings[2 * axis] + paddings[2 * axis + 1] } }]
}

private func inferSlice(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    let begin = try op.attribute(.begin)
    let size = try op.attribute(.size)
    guard begin.count == x.shape.count, size.count == x.shape.count else {
        throw GraphError.shape(op: op.name, message: "begin/size need \(x.shape.count) values")
    }
    return [try x.shape.enumerated().map { axis, dimension -> Int? in
        if size[axis] >= 0 { return size[axis] }
        guard let dimension else { return nil }
        guard dimension - begin[axis] > 0 else {
            throw GraphError.shape(op: op.name, message: "slice leaves nothing of axis \(axis)")
        }
        return dimension - begin[axis]
    }]
}

private func inferResize(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    try requireRank(op, x, 4, "input")
    if let size = op.attributes[.resizeSize] {
        guard size.count == 2, size.allSatisfy({ $0 > 0 }) else { throw GraphError.shape(op: op.name, message: "size \(size) needs 2 positive values") }
        return [[x.shape[0], size[0], size[1], x.shape[3]]]
    }
    guard let scale = op.attributes[.resizeScale], scale.count == 2 else {
        throw GraphError.shape(op: op.name, message: "resize needs a scale or a size of 2 values")
    }
    return [[x.shape[0], x.shape[1].map { $0 * scale[0] }, x.shape[2].map { $0 * scale[1] }, x.shape[3]]]
}

/// Matrix products over the last two axes, the leading axes broadcast (TFLite's BATCH_MATMUL).
private func inferBatchMatmul(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0].shape, y = op.inputs[1].shape
    guard x.count >= 2, y.count >= 2 else { throw GraphError.shape(op: op.name, message: "operands need rank ≥ 2") }
    let adjointX = try op.attribute(.adjointX), adjointY = try op.attribute(.adjointY)
    let rows = x[x.count - (adjointX ? 1 : 2)], inner = x[x.count - (adjointX ? 2 : 1)]
    let innerY = y[y.count - (adjointY ? 1 : 2)], columns = y[y.count - (adjointY ? 2 : 1)]
    if let inner, let innerY, inner != innerY {
        throw GraphError.shape(op: op.name, message: "inner dimensions of \(x.text) and \(y.text) differ")
    }
    guard let batch = broadcast(Array(x.dropLast(2)), Array(y.dropLast(2))) else {
        throw GraphError.shape(op: op.name, message: "batch axes of \(x.text) and \(y.text) do not broadcast")
    }
    return [batch + [rows, columns]]
}

/// numpy broadcasting; an unknown dimension broadcasts with anything to unknown unless the other is known > 1.
func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
    let rank = max(a.count, b.count)
    let left = Array(repeating: 1, count: rank - a.count) + a
    let right = Array(repeating: 1, count: rank - b.count) + b
    var result: Shape = []
    for (x, y) in zip(left, right) {
        switch (x, y) {
        case let (x?, y?):
            if x == y || y == 1 { result.append(x) } else if x == 1 { result.append(y) } else { return nil }
        case let (nil, y?): result.append(y == 1 ? nil : y)
        case let (x?, nil): result.append(x == 1 ? nil : x)
        case (nil, nil): result.append(nil)
        }
    }
    return result
}

private func inferBroadcast(_ op: Op) throws -> [Shape] {
    var shape = op.inputs[0].shape
    for input in op.inputs.dropFirst() {
        guard let next = broadcast(shape, input.shape) else {
            throw GraphError.shape(op: op.name, message: "shapes \(shape.text) and \(input.shape.text) do not broadcast")
        }
        shape = next
    }
    return [shape]
}

private func inferConcatenate(_ op: Op) throws -> [Shape] {
    let first = op.inputs[0].shape
    let rank = first.count
    var axis = try op.attribute(.axis)
    if axis < 0 { axis += rank }
    guard axis >= 0, axis < rank else { throw GraphError.shape(op: op.name, message: "axis out of range") }
    var output = first
    for input in op.inputs.dropFirst() {
        guard input.shape.count == rank else { throw GraphError.shape(op: op.name, message: "inputs differ in rank") }
        for dimension in 0..<rank where dimension != axis {
            if let a = output[dimension], let b = input.shape[dimension], a != b {
                throw GraphError.shape(op: op.name, message: "shapes \(first.text) and \(input.shape.text) differ off the concat axis")
            }
        }
        output[axis] = output[axis].flatMap { a in input.shape[axis].map { a + $0 } }
    }
    return [output]
}
