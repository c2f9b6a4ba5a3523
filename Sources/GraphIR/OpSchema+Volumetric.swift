// Shape functions of the volumetric (NDHWC) ops: conv3d, transpose_conv3d, max/avg_pool3d
// (through `inferPool`) and upsample3d.

/// conv3d: x N×D×H×W×C, filter D×H×W×C×O (Keras' layout) → N×D'×H'×W'×O.
func inferConv3D(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0], filter = op.inputs[1]
    try requireRank(op, x, 5, "input")
    try requireRank(op, filter, 5, "filter")
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)
    let padding = try op.attribute(.padding)
    guard strides.count == 3, dilations.count == 3 else {
        throw GraphError.shape(op: op.name, message: "strides/dilations need 3 values")
    }
    if let channels = x.shape[4], let filterChannels = filter.shape[3], channels != filterChannels {
        throw GraphError.shape(op: op.name, message: "input has \(channels) channels, filter expects \(filterChannels)")
    }
    var output: Shape = [x.shape[0]]
    for axis in 0..<3 {
        output.append(try windowOutputLength(x.shape[axis + 1], window: filter.shape[axis] ?? 1,
                                             stride: strides[axis], dilation: dilations[axis], padding: padding))
    }
    return [output + [filter.shape[4]]]
}

/// transpose_conv3d: x N×D×H×W×C, filter D×H×W×O×C (Keras' layout) → N×D'×H'×W'×O, Keras' deconv_output_length per axis.
func inferTransposeConv3D(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0], filter = op.inputs[1]
    try requireRank(op, x, 5, "input")
    try requireRank(op, filter, 5, "filter")
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)
    let padding = try op.attribute(.padding)
    let outputPadding = op.attributes[.outputPadding]
    guard strides.count == 3, dilations.count == 3, outputPadding == nil || outputPadding?.count == 3 else {
        throw GraphError.shape(op: op.name, message: "strides/dilations/output_padding need 3 values")
    }
    if let channels = x.shape[4], let filterChannels = filter.shape[4], channels != filterChannels {
        throw GraphError.shape(op: op.name, message: "input has \(channels) channels, filter expects \(filterChannels)")
    }
    var output: Shape = [x.shape[0]]
    for axis in 0..<3 {
        output.append(transposedLength(x.shape[axis + 1], window: filter.shape[axis] ?? 1, stride: strides[axis],
                                       dilation: dilations[axis], padding: padding, outputPadding: outputPadding?[axis]))
    }
    return [output + [filter.shape[3]]]
}

/// upsample3d: each of D, H, W repeated by its integer factor (Keras' UpSampling3D).
func inferUpsample3D(_ op: Op) throws -> [Shape] {
    let x = op.inputs[0]
    try requireRank(op, x, 5, "input")
    let scale = try op.attribute(.resizeScale)
    guard scale.count == 3, scale.allSatisfy({ $0 >= 1 }) else {
        throw GraphError.shape(op: op.name, message: "scale \(scale) needs 3 factors ≥ 1")
    }
    return [[x.shape[0]] + (0..<3).map { axis in x.shape[axis + 1].map { $0 * scale[axis] } } + [x.shape[4]]]
}
