import FlatBuffers
import GraphIR

// lstm as one UNIDIRECTIONAL_SEQUENCE_LSTM where LiteRT's op computes it exactly (what TensorFlow's
// converter writes); simple_rnn, gru and the other lstms unrolled over their (known) steps into
// FULLY_CONNECTED, ADD, SUB, MUL, SLICE, RESHAPE, CONCATENATION and the activations' builtins;
// gather, cast, reverse and sequence_mask as GATHER, CAST, REVERSE_V2 and NOT_EQUAL / REDUCE_ANY / CAST.

extension LoweringTable {
    static let recurrentRule = LoweringRule(activationBuiltins.union([.FULLY_CONNECTED, .ADD, .SUB, .MUL, .SLICE, .RESHAPE, .CONCATENATION]),
                                            lowerRecurrent)
    static let lstmRule = LoweringRule(recurrentRule.builtins.union([.UNIDIRECTIONAL_SEQUENCE_LSTM, .REVERSE_V2]), { context, op in
        if let activation = sequenceLSTMActivation(op, in: context) {
            try lowerSequenceLSTM(context, op, activation: activation)
        } else {
            try lowerRecurrent(context, op)
        }
    })
}

/// The fused activation UNIDIRECTIONAL_SEQUENCE_LSTM would compute `op` with, or nil when LiteRT's
/// op is not exact for it and the lowering unrolls: LiteRT's gates are sigmoids and its cell
/// activation one of NONE / RELU / RELU6 / TANH; it has no mask input and does not expose the
/// final states (return_state); its states are variable tensors of a fixed [N, U], so the batch
/// and (like the unrolled form) the number of steps must be known.
func sequenceLSTMActivation(_ op: Op, in context: LoweringContext) -> ActivationFunctionType? {
    guard op.kind == .lstm, op.attributes[.recurrentActivation] == .sigmoid, op.attributes[.masked] != true else { return nil }
    let activation: ActivationFunctionType
    switch op.attributes[.cellActivation] {
    case .tanh?: activation = .TANH
    case .relu?: activation = .RELU
    case .relu6?: activation = .RELU6
    case .linear?: activation = .NONE
    default: return nil
    }
    let x = op.inputs[0]
    guard x.shape.count == 3, x.shape.allSatisfy({ $0 != nil }), op.inputs[2].shape[0] != nil,
          op.inputs.dropFirst().allSatisfy({ $0.constant != nil }) else { return nil }
    let statesUsed = op.outputs.dropFirst().contains { state in
        context.graph.outputs.contains { $0 === state } || !context.graph.consumers(of: state).isEmpty
    }
    return statesUsed ? nil : activation
}

/// [REVERSE_V2 over time when go_backwards →] UNIDIRECTIONAL_SEQUENCE_LSTM [→ SLICE of the last
/// step + RESHAPE when not returning sequences]. Inputs as LiteRT numbers them: x, the input and
/// recurrent weights of gates i, f, c, o ([U, F] and [U, U]: Keras' [F, 4U] / [U, 4U] split per
/// gate and transposed), no peepholes, the four gate biases, no projection, the output and cell
/// states (variable tensors without buffers: zeros), no layer-norm coefficients. Sequences come
/// out in processing order, as Keras returns them with go_backwards. cell_clip stays 0 (Keras
/// does not clip; TensorFlow writes 10).
func lowerSequenceLSTM(_ context: LoweringContext, _ op: Op, activation: ActivationFunctionType) throws {
    let x = op.inputs[0], kernel = op.inputs[1], recurrent = op.inputs[2]
    guard let batch = x.shape[0], let steps = x.shape[1], let features = x.shape[2], let units = recurrent.shape[0] else {
        throw ConversionError.unsupported(op: op.name, detail: "needs a known batch, sequence length, features and units")
    }
    let name = op.name
    let masked = try op.attribute(.masked)
    let bias = op.inputs.count - (masked ? 1 : 0) == 4 ? op.inputs[3] : nil
    var input = context.tensor(for: x)
    if try op.attribute(.goBackwards) {
        input = context.emitTemporary(.REVERSE_V2, [input, context.constantInt32(name + "/time_axis", [1])], name: name + "/reversed_input",
                                      shape: x.shape, options: .ReverseV2Options, Options.table { _ in })
    }
    let gates = ["input", "forget", "cell", "output"]
    let inputWeights = gates.indices.map { gate in
        context.constantBlock(kernel, shape: [features, 4, units], [1, 2, 0], block: gate, blockShape: [units, features],
                              name: "\(name)/input_to_\(gates[gate])_weights")
    }
    let recurrentWeights = gates.indices.map { gate in
        context.constantBlock(recurrent, shape: [units, 4, units], [1, 2, 0], block: gate, blockShape: [units, units],
                              name: "\(name)/recurrent_to_\(gates[gate])_weights")
    }
    let zeroBias = bias == nil ? context.constantFloats(name + "/zero_bias", [Float](repeating: 0, count: units)) : nil
    let biases = gates.indices.map { gate in
        bias.map { context.constantBlock($0, shape: [4 * units], [0], block: gate, blockShape: [units], name: "\(name)/\(gates[gate])_gate_bias") }
            ?? zeroBias!
    }
    func state(_ suffix: String) -> Int32 {
        let index = context.tensor(name + suffix, shape: [batch, units])
        context.model.tensors[Int(index)].isVariable = true
        return index
    }
    let outputState = state("/output_state"), cellState = state("/cell_state")
    let returnSequences = try op.attribute(.returnSequences)
    let sequence = returnSequences ? context.tensor(for: op.outputs[0]) : context.tensor(name + "/sequence", shape: [batch, steps, units])
    let absent: [Int32] = [-1]
    context.emit(.UNIDIRECTIONAL_SEQUENCE_LSTM,
                 [input] + inputWeights + recurrentWeights + absent + absent + absent + biases + absent + absent
                 + [outputState, cellState] + absent + absent + absent + absent,
                 [sequence], options: .UnidirectionalSequenceLSTMOptions, Options.table { builder in
        try builder.add(Field.UnidirectionalSequenceLSTMOptions.fused_activation_function, activation.rawValue, default: 0)
    })
    context.model.operators[context.model.operators.count - 1].sequenceLSTM = activation
    guard !returnSequences else { return }
    let last = context.emitTemporary(.SLICE, [sequence, context.constantInt32(name + "/last_begin", [0, Int32(steps - 1), 0]),
                                              context.constantInt32(name + "/last_size", [-1, 1, Int32(units)])],
                                     name: name + "/last", shape: [batch, 1, units], options: .SliceOptions, Options.table { _ in })
    try reshape(last, to: op.outputs[0].shape, output: context.tensor(for: op.outputs[0]), name: name, in: context)
}

extension LoweringContext {
    static func tensorType(_ dtype: DType) -> TensorType {
        switch dtype {
        case .float32: return .FLOAT32
        case .float16: return .FLOAT16
        case .float64: return .FLOAT64
        case .int8: return .INT8
        case .uint8: return .UINT8
        case .int16: return .INT16
        case .int32: return .INT32
        case .int64: return .INT64
        case .bool: return .BOOL
        }
    }
}

func lowerGather(_ context: LoweringContext, _ op: Op) throws {
    context.emit(.GATHER, [context.tensor(for: op.inputs[0]), context.tensor(for: op.inputs[1])], [context.tensor(for: op.outputs[0])],
                 options: .GatherOptions, Options.table { try $0.add(0, Int32(0), default: 0) })  // axis (field 0) = 0
}

func lowerCast(_ context: LoweringContext, _ op: Op) throws {
    let from = LoweringContext.tensorType(op.inputs[0].dtype), to = LoweringContext.tensorType(op.outputs[0].dtype)
    context.emit(.CAST, [context.tensor(for: op.inputs[0])], [context.tensor(for: op.outputs[0])], options: .CastOptions, Options.table { builder in
        try builder.add(Field.CastOptions.in_data_type, from.rawValue, default: 0)
        try builder.add(Field.CastOptions.out_data_type, to.rawValue, default: 0)
    })
}

func lowerReverse(_ context: LoweringContext, _ op: Op) throws {
    var axis = try op.attribute(.axis)
    if axis < 0 { axis += op.inputs[0].shape.count }
    context.emit(.REVERSE_V2, [context.tensor(for: op.inputs[0]), context.constantInt32(op.name + "/axis", [Int32(axis)])],
                 [context.tensor(for: op.outputs[0])], options: .ReverseV2Options, Options.table { _ in })
}

/// ids ≠ v → CAST to float; features: NOT_EQUAL → REDUCE_ANY over the last axis → CAST.
func lowerSequenceMask(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], value = try op.attribute(.maskValue)
    let compared: Int32
    switch x.dtype {
    case .float32: compared = context.constantFloats(op.name + "/mask_value", [value])
    case .int32: compared = context.constantInt32(op.name + "/mask_value", [Int32(value)])
    default: throw ConversionError.unsupported(op: op.name, detail: "a mask of \(x.dtype.rawValue) values")
    }
    var kept = context.tensor(op.name + "/not_equal", shape: x.shape, type: .BOOL)
    context.emit(.NOT_EQUAL, [context.tensor(for: x), compared], [kept])
    if x.shape.count == 3 {
        let any = context.tensor(op.name + "/any", shape: op.outputs[0].shape, type: .BOOL)
        context.emit(.REDUCE_ANY, [kept, context.constantInt32(op.name + "/axis", [2])], [any], options: .ReducerOptions,
                     Options.table { try $0.add(Field.ReducerOptions.keep_dims, false, default: false) })
        kept = any
    }
    context.emit(.CAST, [kept], [context.tensor(for: op.outputs[0])], options: .CastOptions, Options.table { builder in
        try builder.add(Field.CastOptions.in_data_type, TensorType.BOOL.rawValue, default: 0)
        try builder.add(Field.CastOptions.out_data_type, TensorType.FLOAT32.rawValue, default: 0)
    })
}

/// The whole sequence's input projection once (FULLY_CONNECTED keeping [N, T, G·U]), then per
/// step: SLICE + RESHAPE of that step, FULLY_CONNECTED of the state with the recurrent kernel,
/// the gates as SLICEs and the cell arithmetic. Step 0 starts from zero states, so its recurrent
/// terms are left out. A masked step keeps the states: h ← h + m·(h_new − h).
func lowerRecurrent(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], recurrent = op.inputs[2]
    guard let steps = x.shape[1] else { throw unknownSequenceLength(op, x, in: context.graph) }
    guard let features = x.shape[2], let units = recurrent.shape[0], let kernelData = op.inputs[1].constant,
          let recurrentData = recurrent.constant else {
        throw ConversionError.unsupported(op: op.name, detail: "needs constant kernels and known features and units")
    }
    let gates = OpSchema.gateCount(op.kind), width = gates * units
    let batch = x.shape[0]
    let masked = try op.attribute(.masked)
    let biasData: ConstantData? = op.inputs.count - (masked ? 1 : 0) == 4 ? op.inputs[3].constant : nil
    let resetAfter = op.kind == .gru ? try op.attribute(.resetAfter) : false
    let splitBias = biasData.map { $0.count == 2 * width } ?? false
    let activation = try op.attribute(.cellActivation)
    let gateActivation = op.kind == .simpleRnn ? activation : try op.attribute(.recurrentActivation)
    let returnSequences = try op.attribute(.returnSequences), goBackwards = try op.attribute(.goBackwards)
    let zeroOutput = try op.attribute(.zeroOutputForMask)
    let name = op.name
    let rowShape: Shape = [batch, units]

    // Weights in TFLite's O×I layout; a GRU without reset_after multiplies r·h by the candidate block alone.
    let inputKernel = context.constantPermuted(op.inputs[1], shape: [features, width], [1, 0])
    func recurrentRows(_ rows: Range<Int>, _ suffix: String) -> Int32 {
        context.constantFloats(name + suffix, shape: [rows.count, units]) {
            Array(permute(try recurrentData.valuesWithoutCaching(), shape: [units, width], [1, 0])[(rows.lowerBound * units)..<(rows.upperBound * units)])
        }
    }
    let fullRecurrent = op.kind == .gru && !resetAfter ? recurrentRows(0..<(2 * units), "/recurrent_kernel_zr")
                                                       : context.constantPermuted(recurrent, shape: [units, width], [1, 0])
    let candidateRecurrent = op.kind == .gru && !resetAfter ? recurrentRows((2 * units)..<width, "/recurrent_kernel_h") : nil
    func biasSlice(_ range: Range<Int>, _ suffix: String) -> Int32 {
        guard let biasData else { return context.constantFloats(name + suffix, [Float](repeating: 0, count: range.count)) }
        return context.constantFloats(name + suffix, shape: [range.count]) { Array(try biasData.valuesWithoutCaching()[range]) }
    }
    let inputBias = biasSlice(0..<width, "/input_bias")
    // The recurrent bias of a reset-after GRU, nil when zero.
    let recurrentBiasRange = splitBias ? width..<(2 * width) : nil

    // helpers
    func binary(_ code: BuiltinOperator, _ a: Int32, _ b: Int32, _ suffix: String, shape: Shape) -> Int32 {
        let options: BuiltinOptions = code == .ADD ? .AddOptions : code == .SUB ? .SubOptions : .MulOptions
        return context.emitTemporary(code, [a, b], name: "\(name)/\(suffix)", shape: shape, options: options, Options.table { _ in })
    }
    func add(_ a: Int32, _ b: Int32?, _ suffix: String) -> Int32 { b.map { binary(.ADD, a, $0, suffix, shape: rowShape) } ?? a }
    func multiply(_ a: Int32, _ b: Int32, _ suffix: String) -> Int32 { binary(.MUL, a, b, suffix, shape: rowShape) }
    func subtract(_ a: Int32, _ b: Int32, _ suffix: String) -> Int32 { binary(.SUB, a, b, suffix, shape: rowShape) }
    func fullyConnected(_ input: Int32, _ weights: Int32, _ bias: Int32, columns: Int, _ suffix: String) -> Int32 {
        let output = context.tensor("\(name)/\(suffix)", shape: [batch, columns])
        context.emit(.FULLY_CONNECTED, [input, weights, bias], [output], options: .FullyConnectedOptions, Options.table { _ in })
        context.model.operators[context.model.operators.count - 1].fullyConnected = (.NONE, false)
        return output
    }
    func slice(_ input: Int32, begin: [Int32], size: [Int32], shape: Shape, _ suffix: String) -> Int32 {
        context.emitTemporary(.SLICE, [input, context.constantInt32("\(name)/\(suffix)/begin", begin), context.constantInt32("\(name)/\(suffix)/size", size)],
                              name: "\(name)/\(suffix)", shape: shape, options: .SliceOptions, Options.table { _ in })
    }
    func gate(_ z: Int32, _ index: Int, _ suffix: String) -> Int32 {
        slice(z, begin: [0, Int32(index * units)], size: [-1, Int32(units)], shape: rowShape, suffix)
    }
    func activate(_ function: ActivationFunction, _ input: Int32, _ suffix: String) throws -> Int32 {
        let output = context.tensor("\(name)/\(suffix)", shape: rowShape)
        let stand = Op(name: "\(name)/\(suffix)", kind: .activation, inputs: [], outputs: [Tensor(name: "\(name)/\(suffix)", shape: rowShape)])
        try lowerActivation(function, input, output: output, op: stand, in: context)
        return output
    }
    // Constants made once, on first use.
    var zeros: [Int: Int32] = [:]
    func zeroBias(_ count: Int) -> Int32 {
        if let existing = zeros[count] { return existing }
        let made = context.constantFloats("\(name)/zero_bias_\(count)", [Float](repeating: 0, count: count))
        zeros[count] = made
        return made
    }
    var oneTensor: Int32? = nil
    func one() -> Int32 {
        if let oneTensor { return oneTensor }
        let made = context.constantFloats(name + "/one", [1])
        oneTensor = made
        return made
    }
    let recurrentBias = recurrentBiasRange.map { biasSlice($0, "/recurrent_bias") }
    // Step 0 of a reset-after GRU: h = 0, so the recurrent projection is its bias.
    let initialRecurrent: [Int32]? = recurrentBiasRange.map { range in
        (0..<3).map { biasSlice((range.lowerBound + $0 * units)..<(range.lowerBound + ($0 + 1) * units), "/initial_recurrent_\($0)") }
    }

    let projectedShape: Shape = [batch, steps, width]
    let projected = context.tensor(name + "/input_projection", shape: projectedShape)
    context.emit(.FULLY_CONNECTED, [context.tensor(for: x), inputKernel, inputBias], [projected], options: .FullyConnectedOptions,
                 Options.table { try $0.add(Field.FullyConnectedOptions.keep_num_dims, true, default: false) })
    context.model.operators[context.model.operators.count - 1].fullyConnected = (.NONE, true)
    let mask = masked ? context.tensor(for: op.inputs[op.inputs.count - 1]) : nil

    var h: Int32? = nil, c: Int32? = nil
    var outputs: [Int32] = []
    for step in 0..<steps {
        let t = goBackwards ? steps - 1 - step : step
        let p = "t\(step)"
        let sliced = slice(projected, begin: [0, Int32(t), 0], size: [-1, 1, Int32(width)], shape: [batch, 1, width], "\(p)/x")
        let xt = context.tensor("\(name)/\(p)/x_row", shape: [batch, width])
        try reshape(sliced, to: [batch, width], output: xt, name: "\(name)/\(p)/x_row", in: context)
        var newH: Int32, newC: Int32? = nil
        switch op.kind {
        case .simpleRnn:
            let z = add(xt, h.map { fullyConnected($0, fullRecurrent, zeroBias(width), columns: width, "\(p)/recurrent") }, "\(p)/z")
            newH = try activate(activation, z, "\(p)/h")
        case .lstm:
            let z = h.map { add(xt, fullyConnected($0, fullRecurrent, zeroBias(width), columns: width, "\(p)/recurrent"), "\(p)/z") } ?? xt
            let i = try activate(gateActivation, gate(z, 0, "\(p)/zi"), "\(p)/i")
            let f = try activate(gateActivation, gate(z, 1, "\(p)/zf"), "\(p)/f")
            let g = try activate(activation, gate(z, 2, "\(p)/zc"), "\(p)/g")
            let o = try activate(gateActivation, gate(z, 3, "\(p)/zo"), "\(p)/o")
            let ig = multiply(i, g, "\(p)/i_g")
            let cell = c.map { add(multiply(f, $0, "\(p)/f_c"), ig, "\(p)/c") } ?? ig
            newC = cell
            newH = multiply(o, try activate(activation, cell, "\(p)/act_c"), "\(p)/h")
        default:  // gru
            var recurrentZ: Int32? = nil, recurrentR: Int32? = nil, recurrentH: Int32? = nil
            if let h {
                let projection = resetAfter
                    ? fullyConnected(h, fullRecurrent, recurrentBias ?? zeroBias(width), columns: width, "\(p)/recurrent")
                    : fullyConnected(h, fullRecurrent, zeroBias(2 * units), columns: 2 * units, "\(p)/recurrent")
                recurrentZ = gate(projection, 0, "\(p)/rz")
                recurrentR = gate(projection, 1, "\(p)/rr")
                if resetAfter { recurrentH = gate(projection, 2, "\(p)/rh") }
            } else if let initialRecurrent {
                (recurrentZ, recurrentR, recurrentH) = (initialRecurrent[0], initialRecurrent[1], initialRecurrent[2])
            }
            let z = try activate(gateActivation, add(gate(xt, 0, "\(p)/xz"), recurrentZ, "\(p)/zz"), "\(p)/z")
            var inner: Int32? = nil
            if resetAfter, let recurrentH {
                let r = try activate(gateActivation, add(gate(xt, 1, "\(p)/xr"), recurrentR, "\(p)/zr"), "\(p)/r")
                inner = multiply(r, recurrentH, "\(p)/r_rh")
            } else if !resetAfter, let h, let candidateRecurrent {
                let r = try activate(gateActivation, add(gate(xt, 1, "\(p)/xr"), recurrentR, "\(p)/zr"), "\(p)/r")
                inner = fullyConnected(multiply(r, h, "\(p)/r_h"), candidateRecurrent, zeroBias(units), columns: units, "\(p)/rh")
            }
            let candidate = try activate(activation, add(gate(xt, 2, "\(p)/xh"), inner, "\(p)/zh"), "\(p)/hh")
            let keep = multiply(subtract(one(), z, "\(p)/one_minus_z"), candidate, "\(p)/new_part")
            newH = h.map { add(multiply(z, $0, "\(p)/z_h"), keep, "\(p)/h") } ?? keep
        }
        if let mask {
            let m = slice(mask, begin: [0, Int32(t)], size: [-1, 1], shape: [batch, 1], "\(p)/m")
            func hold(_ new: Int32, _ old: Int32?, _ suffix: String) -> Int32 {
                guard let old else { return binary(.MUL, m, new, "\(p)/\(suffix)_masked", shape: rowShape) }
                let change = binary(.MUL, m, subtract(new, old, "\(p)/\(suffix)_change"), "\(p)/\(suffix)_masked_change", shape: rowShape)
                return add(old, change, "\(p)/\(suffix)_kept")
            }
            newH = hold(newH, h, "h")
            if let newCell = newC { newC = hold(newCell, c, "c") }
            outputs.append(zeroOutput ? binary(.MUL, m, newH, "\(p)/output", shape: rowShape) : newH)
        } else {
            outputs.append(newH)
        }
        h = newH
        c = newC
    }

    func isUsed(_ tensor: Tensor) -> Bool {
        context.graph.outputs.contains { $0 === tensor } || !context.graph.consumers(of: tensor).isEmpty
    }
    func copy(_ value: Int32, to tensor: Tensor) throws {
        try reshape(value, to: tensor.shape, output: context.tensor(for: tensor), name: tensor.name, in: context)
    }
    if isUsed(op.outputs[0]) {
        if returnSequences {
            let joined = context.tensor(name + "/sequence", shape: [batch, steps * units])
            context.emit(.CONCATENATION, outputs, [joined], options: .ConcatenationOptions,
                         Options.table { try $0.add(Field.ConcatenationOptions.axis, Int32(1), default: 0) })
            try copy(joined, to: op.outputs[0])
        } else {
            try copy(outputs[steps - 1], to: op.outputs[0])
        }
    }
    if let h, isUsed(op.outputs[1]) { try copy(h, to: op.outputs[1]) }
    if let c, op.outputs.count > 2, isUsed(op.outputs[2]) { try copy(c, to: op.outputs[2]) }
}
