import GraphIR

// ConvLSTM2D: one conv_lstm2d op over the whole sequence of frames. Its weights live in the
// `cell` sublayer (Keras 3: `conv_lstm_cell`, `.keras`: `cell/vars/0…2`; Keras 2: the layer itself).

extension LayerTable {
    static let convRecurrentRows: [String: LayerSpec] = [
        "ConvLSTM2D": LayerSpec(variables: { config in
            ["kernel", "recurrent_kernel"].map { VariableSpec(name: $0) }
                + (try config.bool("use_bias", default: true) ? [VariableSpec(name: "bias")] : [])
        }, weightsFromSublayers: true, build: convLSTM2D),
    ]
}

private func convLSTM2D(_ context: LayerContext) throws -> [Tensor] {
    let config = context.config
    func unsupported(_ option: String) -> KerasError {
        KerasError.unsupportedOption(file: context.file, layer: config.layer, className: config.className, option: option)
    }
    try config.requireChannelsLast()
    if try config.bool("stateful", default: false) {
        throw unsupported("stateful=True (the state carried between batches is not part of a .tflite model; rebuild the layer with stateful=False)")
    }
    if context.inputMasks.contains(where: { $0 != nil }) { throw unsupported("a masked input (from Masking)") }
    let x = try recurrentInput(context)
    guard x.shape.count == 5 else {
        throw KerasError.graph(file: context.file, layer: config.layer, reason: "needs an input [batch, steps, height, width, channels], got \(x.shape.text)")
    }
    var inputs = [x, try context.weight("kernel"), try context.weight("recurrent_kernel")]
    if let bias = context.weights["bias"] { inputs.append(bias) }
    var attributes = try windowAttributes(config, rank: 2)
    attributes[.cellActivation] = try cellActivation(context, config, "activation", default: "tanh")
    // Keras 2's default gate activation is hard_sigmoid, Keras 3's sigmoid; the config names it either way.
    attributes[.recurrentActivation] = try cellActivation(context, config, "recurrent_activation", default: "hard_sigmoid")
    if try config.bool("return_sequences", default: false) { attributes[.returnSequences] = true }
    if try config.bool("go_backwards", default: false) { attributes[.goBackwards] = true }
    try context.emit(.convLstm2d, inputs, attributes)
    let outputs = context.emitted.last!.outputs
    context.outputMasks = []  // ConvLSTM2D outputs carry no mask
    return try config.bool("return_state", default: false) ? outputs : [outputs[0]]
}
