// conv_lstm2d: Keras' ConvLSTM2D over a whole sequence of NHWC frames, one op per layer like the
// recurrent ops of OpSchema+Recurrent.swift (which it shares its activation and sequence attributes with).

extension OpSchema {
    /// conv_lstm2d: inputs x [N, T, H, W, C], kernel [KH, KW, C, 4F] (HWIO, gates i f c o),
    /// recurrent_kernel [RH, RW, F, 4F] and an optional bias [4F]. The input convolution takes
    /// `strides`, `dilations` and `padding`; the recurrent one is stride 1, SAME, over the state
    /// [N, H', W', F]. Outputs: the output sequence [N, T, H', W', F] or last output [N, H', W', F],
    /// the final h and the final c (each [N, H', W', F]).
    static let convLstm2d = OpSchema(inputs: 3...4, attributes: [
        .required(.strides), .required(.dilations), .required(.padding),
        .required(.cellActivation), .required(.recurrentActivation),
        .optional(.returnSequences, default: false), .optional(.goBackwards, default: false),
    ]) { op in
        let x = op.inputs[0], kernel = op.inputs[1], recurrent = op.inputs[2]
        try requireRank(op, x, 5, "input")
        try requireRank(op, kernel, 4, "kernel")
        try requireRank(op, recurrent, 4, "recurrent kernel")
        let strides = try op.attribute(.strides), dilations = try op.attribute(.dilations), padding = try op.attribute(.padding)
        guard strides.count == 2, dilations.count == 2 else {
            throw GraphError.shape(op: op.name, message: "strides/dilations need 2 values")
        }
        let filters = recurrent.shape[2]
        if let filters, let width = recurrent.shape[3], width != 4 * filters {
            throw GraphError.shape(op: op.name, message: "recurrent kernel \(recurrent.shape.text) needs 4·\(filters) output channels")
        }
        if let filters, let width = kernel.shape[3], width != 4 * filters {
            throw GraphError.shape(op: op.name, message: "kernel \(kernel.shape.text) needs 4·\(filters) output channels")
        }
        if let channels = x.shape[4], let rows = kernel.shape[2], channels != rows {
            throw GraphError.shape(op: op.name, message: "input has \(channels) channels, kernel expects \(rows)")
        }
        if op.inputs.count == 4, let filters, let count = op.inputs[3].shape.elementCount, count != 4 * filters {
            throw GraphError.shape(op: op.name, message: "bias \(op.inputs[3].shape.text) does not fit 4·\(filters) filters")
        }
        let height = try windowOutputLength(x.shape[2], window: kernel.shape[0] ?? 1, stride: strides[0], dilation: dilations[0], padding: padding)
        let width = try windowOutputLength(x.shape[3], window: kernel.shape[1] ?? 1, stride: strides[1], dilation: dilations[1], padding: padding)
        let state: Shape = [x.shape[0], height, width, filters]
        let first: Shape = try op.attribute(.returnSequences) ? [x.shape[0], x.shape[1], height, width, filters] : state
        return [first, state, state]
    }
}
