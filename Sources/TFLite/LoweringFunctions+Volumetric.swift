import FlatBuffers
import GraphIR

// Volumetric (NDHWC) ops. conv3d and transpose_conv3d have builtins whose filters are Keras'
// layouts (CONV_3D D×H×W×I×O, CONV_3D_TRANSPOSE D×H×W×O×I), written as they are. TFLite's builtin
// set has no 3-D pooling (TensorFlow's converter needs Flex for MaxPool3D / AvgPool3D), so pools
// are separable: a 2-D pool over (H, W), then one over D — exact for max, and for average too,
// because every depth slice of a window has the same (H, W) window. UpSampling3D repeats each axis
// with RESHAPE + TILE, as TensorFlow's converter writes it.

/// The product of known sizes, nil when one is unknown.
private func product(_ sizes: ArraySlice<Int?>) -> Int? {
    sizes.reduce(1 as Int?) { total, size in total.flatMap { t in size.map { t * $0 } } }
}

private func conv3DOptions(_ op: Op) throws -> (inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset {
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)
    let padding = Options.padding(try op.attribute(.padding))
    return Options.table { builder in
        try builder.add(Field.Conv3DOptions.padding, padding.rawValue, default: 0)
        try builder.add(Field.Conv3DOptions.stride_d, Int32(strides[0]), default: 0)
        try builder.add(Field.Conv3DOptions.stride_w, Int32(strides[2]), default: 0)
        try builder.add(Field.Conv3DOptions.stride_h, Int32(strides[1]), default: 0)
        try builder.add(Field.Conv3DOptions.dilation_d_factor, Int32(dilations[0]), default: 1)
        try builder.add(Field.Conv3DOptions.dilation_w_factor, Int32(dilations[2]), default: 1)
        try builder.add(Field.Conv3DOptions.dilation_h_factor, Int32(dilations[1]), default: 1)
    }
}

/// conv3d → CONV_3D(input, filter D×H×W×I×O, bias).
func lowerConv3D(_ context: LoweringContext, _ op: Op) throws {
    let shape = try staticShape(op.inputs[1], op: op)  // D H W I O
    context.emit(.CONV_3D, [context.tensor(for: op.inputs[0]), context.tensor(for: op.inputs[1]), biasTensor(op, channels: shape[4], in: context)],
                 [context.tensor(for: op.outputs[0])], options: .Conv3DOptions, try conv3DOptions(op))
}

/// transpose_conv3d → CONV_3D_TRANSPOSE(output_shape, filter D×H×W×O×I, input, bias).
func lowerTransposeConv3D(_ context: LoweringContext, _ op: Op) throws {
    let shape = try staticShape(op.inputs[1], op: op)  // D H W O I
    if try op.attribute(.dilations) != [1, 1, 1] {
        throw ConversionError.unsupported(op: op.name, detail: "dilated Conv3DTranspose")
    }
    let output = op.outputs[0]
    guard output.shape[0] != nil else {
        throw ConversionError.unsupported(op: op.name, detail: "Conv3DTranspose with a dynamic batch (use --batch N)")
    }
    let outputShape = try staticShape(output, op: op)
    let shapeTensor = context.constantInt32(op.name + "/output_shape", outputShape.map(Int32.init))
    context.emit(.CONV_3D_TRANSPOSE, [shapeTensor, context.tensor(for: op.inputs[1]), context.tensor(for: op.inputs[0]),
                                      biasTensor(op, channels: shape[3], in: context)],
                 [context.tensor(for: output)], options: .Conv3DOptions, try conv3DOptions(op))
}

/// max/avg_pool3d → RESHAPE [N·D, H, W, C] → pool (H, W) → RESHAPE [N, D, H'·W', C] → pool (D, 1)
/// → RESHAPE [N, D', H', W', C]; a stage whose window and stride are 1 is left out.
func lowerPool3D(_ context: LoweringContext, _ op: Op, code: BuiltinOperator) throws {
    let x = op.inputs[0], output = op.outputs[0]
    let size = try op.attribute(.poolSize), strides = try op.attribute(.strides)
    let padding = Options.padding(try op.attribute(.padding))
    guard x.shape[1...3].allSatisfy({ $0 != nil }) else {
        throw ConversionError.unsupported(op: op.name, detail: "3-D pooling needs static depth, height and width")
    }
    let batch = x.shape[0], depth = x.shape[1]!, channels = x.shape[4]
    let outputHeight = output.shape[2]!, outputWidth = output.shape[3]!
    var current = context.tensor(for: x)
    func reshaped(_ shape: Shape, _ suffix: String) throws {
        let next = context.tensor("\(op.name)/\(suffix)", shape: shape)
        try reshape(current, to: shape, output: next, name: "\(op.name)/\(suffix)", in: context)
        current = next
    }
    func pooled(_ shape: Shape, size: [Int], strides: [Int], _ suffix: String) {
        current = context.emitTemporary(code, [current], name: "\(op.name)/\(suffix)", shape: shape, options: .Pool2DOptions,
                                        pool2DOptions(padding: padding, strides: strides, size: size, activation: .NONE))
    }
    if size[1] != 1 || size[2] != 1 || strides[1] != 1 || strides[2] != 1 {
        try reshaped([batch.map { $0 * depth }, x.shape[2], x.shape[3], channels], "slices")
        pooled([batch.map { $0 * depth }, outputHeight, outputWidth, channels], size: [size[1], size[2]], strides: [strides[1], strides[2]], "pooled_hw")
    }
    if size[0] != 1 || strides[0] != 1 {
        try reshaped([batch, depth, outputHeight * outputWidth, channels], "columns")
        pooled([batch, output.shape[1], outputHeight * outputWidth, channels], size: [size[0], 1], strides: [strides[0], 1], "pooled_d")
    }
    try reshape(current, to: output.shape, output: context.tensor(for: output), name: op.name, in: context)
}

/// upsample3d → per repeated axis a: RESHAPE [before·n_a, 1, after] → TILE [1, f, 1]; then RESHAPE
/// to N×D'×H'×W'×C. Row-major, element i of the axis becomes elements i·f … i·f + f − 1.
func lowerUpsample3D(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], output = op.outputs[0]
    let scale = try op.attribute(.resizeScale)
    guard x.shape[1...].allSatisfy({ $0 != nil }) else {
        throw ConversionError.unsupported(op: op.name, detail: "UpSampling3D needs static depth, height, width and channels")
    }
    var current = context.tensor(for: x)
    var shape = x.shape
    for axis in 1...3 where scale[axis - 1] > 1 {
        let factor = scale[axis - 1]
        let outer = product(shape[...axis]), inner = product(shape[(axis + 1)...])
        let name = "\(op.name)/axis\(axis)"
        let expanded = context.tensor(name + "_expanded", shape: [outer, 1, inner])
        try reshape(current, to: [outer, 1, inner], output: expanded, name: name + "_expanded", in: context)
        let multiples = context.constantInt32(name + "_multiples", [1, Int32(factor), 1])
        current = context.emitTemporary(.TILE, [expanded, multiples], name: name + "_tiled", shape: [outer, factor, inner],
                                        options: .TileOptions, Options.table { _ in })
        shape[axis] = shape[axis]! * factor
    }
    try reshape(current, to: output.shape, output: context.tensor(for: output), name: op.name, in: context)
}
