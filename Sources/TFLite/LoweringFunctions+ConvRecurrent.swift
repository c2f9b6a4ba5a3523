import FlatBuffers
import GraphIR

// conv_lstm2d unrolled over its (known) steps: one CONV_2D for the input convolutions of every
// frame, then per step SLICE + RESHAPE of that frame's projection, CONV_2D of the state with the
// recurrent kernel, ADD, gate SLICEs, the activations' builtins and MUL/ADD; CONCATENATION + RESHAPE
// for sequences. Everything stays rank ≤ 4, which every LiteRT kernel takes.

extension LoweringTable {
    static let convRecurrentRule = LoweringRule(activationBuiltins.union([.CONV_2D, .ADD, .MUL, .SLICE, .RESHAPE, .CONCATENATION]),
                                                lowerConvLSTM2D)
}

/// The error of a recurrent op whose input has an unknown number of steps: it names the op's
/// input and, for each model input with unknown dimensions, the `--input-shape` that fixes them.
func unknownSequenceLength(_ op: Op, _ x: Tensor, in graph: Graph) -> ConversionError {
    let suggestions = graph.inputs.filter { $0.shape.dropFirst().contains(nil) }.map { input in
        "--input-shape \(input.name)=" + input.shape.dropFirst().map { $0.map(String.init) ?? "N" }.joined(separator: ",")
    }
    let fix = suggestions.isEmpty ? "give the model's Input a fixed length (shape=(steps, …))"
                                  : "convert with \(suggestions.joined(separator: " ")) (each N a fixed size), or give the model's Input a fixed length"
    return ConversionError.unsupported(op: op.name, detail: "the sequence length of its input '\(x.name)' \(x.shape.text) is unknown; "
                                       + "a recurrent layer is unrolled over a fixed number of steps: \(fix); --batch fixes only the batch")
}

func lowerConvLSTM2D(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], kernel = op.inputs[1], recurrent = op.inputs[2]
    guard let steps = x.shape[1] else { throw unknownSequenceLength(op, x, in: context.graph) }
    guard let height = x.shape[2], let width = x.shape[3], let channels = x.shape[4] else {
        throw ConversionError.unsupported(op: op.name, detail: "the frame size of its input '\(x.name)' \(x.shape.text) is unknown; "
                                          + "fix it with --input-shape or a fixed Input shape")
    }
    let state = op.outputs[1].shape
    guard let outputHeight = state[1], let outputWidth = state[2], let filters = state[3] else {
        throw ConversionError.unsupported(op: op.name, detail: "needs a known state shape, got \(state.text)")
    }
    let kernelShape = try staticShape(kernel, op: op), recurrentShape = try staticShape(recurrent, op: op)  // H W I O
    let batch = x.shape[0], name = op.name, width4 = 4 * filters
    let frames: Int? = batch.map { $0 * steps }
    let pixels = outputHeight * outputWidth
    let rowShape: Shape = [batch, outputHeight, outputWidth, filters]
    let activation = try op.attribute(.cellActivation), gateActivation = try op.attribute(.recurrentActivation)
    let returnSequences = try op.attribute(.returnSequences), goBackwards = try op.attribute(.goBackwards)
    let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations)

    func convolve(_ input: Int32, _ filter: Int32, _ bias: Int32, output: Int32, padding: Padding, strides: [Int], dilations: [Int]) {
        context.emit(.CONV_2D, [input, filter, bias], [output], options: .Conv2DOptions, Options.table { builder in
            try builder.add(Field.Conv2DOptions.padding, padding.rawValue, default: 0)
            try builder.add(Field.Conv2DOptions.stride_w, Int32(strides[1]), default: 0)
            try builder.add(Field.Conv2DOptions.stride_h, Int32(strides[0]), default: 0)
            try builder.add(Field.Conv2DOptions.dilation_w_factor, Int32(dilations[1]), default: 1)
            try builder.add(Field.Conv2DOptions.dilation_h_factor, Int32(dilations[0]), default: 1)
        })
    }
    func binary(_ code: BuiltinOperator, _ a: Int32, _ b: Int32, _ suffix: String) -> Int32 {
        context.emitTemporary(code, [a, b], name: "\(name)/\(suffix)", shape: rowShape, options: code == .ADD ? .AddOptions : .MulOptions,
                              Options.table { _ in })
    }
    func slice(_ input: Int32, begin: [Int32], size: [Int32], shape: Shape, _ suffix: String) -> Int32 {
        context.emitTemporary(.SLICE, [input, context.constantInt32("\(name)/\(suffix)/begin", begin), context.constantInt32("\(name)/\(suffix)/size", size)],
                              name: "\(name)/\(suffix)", shape: shape, options: .SliceOptions, Options.table { _ in })
    }
    func gate(_ z: Int32, _ index: Int, _ suffix: String) -> Int32 {
        slice(z, begin: [0, 0, 0, Int32(index * filters)], size: [-1, -1, -1, Int32(filters)], shape: rowShape, suffix)
    }
    func activate(_ function: ActivationFunction, _ input: Int32, _ suffix: String) throws -> Int32 {
        let output = context.tensor("\(name)/\(suffix)", shape: rowShape)
        let stand = Op(name: "\(name)/\(suffix)", kind: .activation, inputs: [], outputs: [Tensor(name: "\(name)/\(suffix)", shape: rowShape)])
        try lowerActivation(function, input, output: output, op: stand, in: context)
        return output
    }

    // Input convolutions of all N·T frames at once: [N·T, H, W, C] → [N·T, H', W', 4F] → [N, T, H'·W', 4F].
    let framesIn = context.tensor(name + "/frames", shape: [frames, height, width, channels])
    try reshape(context.tensor(for: x), to: [frames, height, width, channels], output: framesIn, name: name + "/frames", in: context)
    let inputFilter = context.constantPermuted(kernel, shape: kernelShape, [3, 0, 1, 2])
    let inputBias = op.inputs.count > 3 ? context.tensor(for: op.inputs[3]) : context.constantFloats(name + "/bias", [Float](repeating: 0, count: width4))
    let convolved = context.tensor(name + "/input_conv", shape: [frames, outputHeight, outputWidth, width4])
    convolve(framesIn, inputFilter, inputBias, output: convolved, padding: Options.padding(try op.attribute(.padding)),
             strides: strides, dilations: dilations)
    let projected = context.tensor(name + "/input_projection", shape: [batch, steps, pixels, width4])
    try reshape(convolved, to: [batch, steps, pixels, width4], output: projected, name: name + "/input_projection", in: context)

    let recurrentFilter = context.constantPermuted(recurrent, shape: recurrentShape, [3, 0, 1, 2])
    var zeroBias: Int32? = nil
    var h: Int32? = nil, c: Int32? = nil
    var outputs: [Int32] = []
    for step in 0..<steps {
        let t = goBackwards ? steps - 1 - step : step
        let p = "t\(step)"
        let sliced = slice(projected, begin: [0, Int32(t), 0, 0], size: [-1, 1, -1, -1], shape: [batch, 1, pixels, width4], "\(p)/x")
        var z = context.tensor("\(name)/\(p)/x_frame", shape: [batch, outputHeight, outputWidth, width4])
        try reshape(sliced, to: [batch, outputHeight, outputWidth, width4], output: z, name: "\(name)/\(p)/x_frame", in: context)
        if let h {  // step 0 starts from h = 0: no recurrent term
            let bias = zeroBias ?? context.constantFloats(name + "/zero_bias", [Float](repeating: 0, count: width4))
            zeroBias = bias
            let projection = context.tensor("\(name)/\(p)/recurrent", shape: [batch, outputHeight, outputWidth, width4])
            convolve(h, recurrentFilter, bias, output: projection, padding: .SAME, strides: [1, 1], dilations: [1, 1])
            z = context.emitTemporary(.ADD, [z, projection], name: "\(name)/\(p)/z", shape: [batch, outputHeight, outputWidth, width4],
                                      options: .AddOptions, Options.table { _ in })
        }
        let i = try activate(gateActivation, gate(z, 0, "\(p)/zi"), "\(p)/i")
        let f = try activate(gateActivation, gate(z, 1, "\(p)/zf"), "\(p)/f")
        let g = try activate(activation, gate(z, 2, "\(p)/zc"), "\(p)/g")
        let o = try activate(gateActivation, gate(z, 3, "\(p)/zo"), "\(p)/o")
        let ig = binary(.MUL, i, g, "\(p)/i_g")
        let cell = c.map { binary(.ADD, binary(.MUL, f, $0, "\(p)/f_c"), ig, "\(p)/c") } ?? ig
        let newH = binary(.MUL, o, try activate(activation, cell, "\(p)/act_c"), "\(p)/h")
        outputs.append(newH)
        h = newH
        c = cell
    }

    guard let h, let c else {  // zero steps: Keras refuses such inputs too
        throw ConversionError.unsupported(op: op.name, detail: "its input '\(x.name)' has no steps")
    }
    if context.isUsed(op.outputs[0]) {
        if returnSequences {
            // [N, H', W', F] × T joined on axis 1 is [N, T·H', W', F], the memory of [N, T, H', W', F].
            let joined = context.tensor(name + "/sequence", shape: [batch, steps * outputHeight, outputWidth, filters])
            context.emit(.CONCATENATION, outputs, [joined], options: .ConcatenationOptions,
                         Options.table { try $0.add(Field.ConcatenationOptions.axis, Int32(1), default: 0) })
            try context.copy(joined, to: op.outputs[0])
        } else {
            try context.copy(h, to: op.outputs[0])
        }
    }
    if context.isUsed(op.outputs[1]) { try context.copy(h, to: op.outputs[1]) }
    if context.isUsed(op.outputs[2]) { try context.copy(c, to: op.outputs[2]) }
}
