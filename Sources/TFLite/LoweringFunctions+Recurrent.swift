import FlatBuffers
import GraphIR

// lstm as one UNIDIRECTIONAL_SEQUENCE_LSTM where LiteRT's op computes it exactly (what TensorFlow's
// converter writes); simple_rnn, gru and the other lstms unrolled over their (known) steps into
// FULLY_CONNECTED, ADD, SUB, MUL, SPLIT, UNPACK, PACK, RESHAPE and the activations' builtins;
// gather, cast, reverse and sequence_mask as GATHER, CAST, REVERSE_V2 and NOT_EQUAL / REDUCE_ANY / CAST.

extension LoweringTable {
    static let recurrentRule = LoweringRule(activationBuiltins.union([.FULLY_CONNECTED, .ADD, .SUB, .MUL, .SPLIT, .UNPACK, .PACK, .RESHAPE]),
                                            lowerRecurrent)
    static let lstmRule = LoweringRule(recurrentRule.builtins.union([.UNIDIRECTIONAL_SEQUENCE_LSTM, .REVERSE_V2, .SLICE]), { context, op in
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
    let statesUsed = op.outputs.dropFirst().contains(where: context.isUsed)
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

/// The whole sequence's input projection once (FULLY_CONNECTED keeping [N, T, ·], UNPACKed into
/// steps; a GRU's z·r and candidate blocks apart), then per step: FULLY_CONNECTED of the state
/// with the recurrent kernel, the gates' activation, one SPLIT into gates and the cell arithmetic
/// in Keras' order; the sequence output is one PACK. Step 0 starts from zero states, so its
/// recurrent terms are left out (a reset-after GRU's are its recurrent bias). A masked step keeps
/// the states: h ← h + m·(h_new − h).
func lowerRecurrent(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0], kernel = op.inputs[1], recurrent = op.inputs[2]
    guard let steps = x.shape[1] else { throw unknownSequenceLength(op, x, in: context.graph) }
    guard x.shape[2] != nil, let units = recurrent.shape[0], kernel.constant != nil, recurrent.constant != nil else {
        throw ConversionError.unsupported(op: op.name, detail: "needs constant kernels and known features and units")
    }
    let width = OpSchema.gateCount(op.kind) * units
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
    func rows(_ count: Int) -> Shape { [batch, count] }
    let rowShape = rows(units)

    func biasSlice(_ range: Range<Int>, _ suffix: String) -> Int32? {
        guard let biasData else { return nil }
        return context.constantFloats(name + suffix, shape: [range.count]) { Array(try biasData.valuesWithoutCaching()[range]) }
    }
    func binary(_ code: BuiltinOperator, _ a: Int32, _ b: Int32, _ suffix: String, shape: Shape) -> Int32 {
        let options: BuiltinOptions = code == .ADD ? .AddOptions : code == .SUB ? .SubOptions : .MulOptions
        return context.emitTemporary(code, [a, b], name: "\(name)/\(suffix)", shape: shape, options: options, Options.table { _ in })
    }
    func add(_ a: Int32, _ b: Int32?, _ suffix: String, columns: Int = units) -> Int32 {
        b.map { binary(.ADD, a, $0, suffix, shape: rows(columns)) } ?? a
    }
    func multiply(_ a: Int32, _ b: Int32, _ suffix: String) -> Int32 { binary(.MUL, a, b, suffix, shape: rowShape) }
    func subtract(_ a: Int32, _ b: Int32, _ suffix: String) -> Int32 { binary(.SUB, a, b, suffix, shape: rowShape) }
    /// input · weightsᵀ (+ bias); an absent bias is LiteRT's optional input (-1).
    func fullyConnected(_ input: Int32, _ weights: Int32, _ bias: Int32?, columns: Int, _ suffix: String) -> Int32 {
        let output = context.tensor("\(name)/\(suffix)", shape: rows(columns))
        context.emit(.FULLY_CONNECTED, [input, weights, bias ?? -1], [output], options: .FullyConnectedOptions, Options.table { _ in })
        context.model.operators[context.model.operators.count - 1].fullyConnected = (.NONE, false)
        return output
    }
    /// [N, k·U] → k tensors [N, U].
    func split(_ input: Int32, into pieces: Int, _ suffix: String) -> [Int32] {
        let outputs = (0..<pieces).map { context.tensor("\(name)/\(suffix)\($0)", shape: rowShape) }
        context.emit(.SPLIT, [context.constantInt32(name + "/gate_axis", [1]), input], outputs, options: .SplitOptions,
                     Options.table { try $0.add(Field.SplitOptions.num_splits, Int32(pieces), default: 0) })
        return outputs
    }
    func activate(_ function: ActivationFunction, _ input: Int32, _ suffix: String, columns: Int = units) throws -> Int32 {
        let shape = rows(columns)
        let output = context.tensor("\(name)/\(suffix)", shape: shape)
        let stand = Op(name: "\(name)/\(suffix)", kind: .activation, inputs: [], outputs: [Tensor(name: "\(name)/\(suffix)", shape: shape)])
        try lowerActivation(function, input, output: output, op: stand, in: context)
        return output
    }
    /// x · K[:, columns] + b[columns] for every step at once, unpacked into steps [N, C].
    func projection(_ columns: Range<Int>, _ suffix: String) -> [Int32] {
        let projected = context.tensor("\(name)/input_projection\(suffix)", shape: [batch, steps, columns.count])
        context.emit(.FULLY_CONNECTED, [context.tensor(for: x), context.constantTransposedRows(kernel, columns, name: "\(name)/kernel\(suffix)"),
                                        biasSlice(columns, "/input_bias\(suffix)") ?? -1],
                     [projected], options: .FullyConnectedOptions, Options.table { try $0.add(Field.FullyConnectedOptions.keep_num_dims, true, default: false) })
        context.model.operators[context.model.operators.count - 1].fullyConnected = (.NONE, true)
        return unpack(projected, shape: rows(columns.count), "\(name)/x\(suffix)_t")
    }
    /// [N, T, C] → T tensors [N, C].
    func unpack(_ input: Int32, shape: Shape, _ prefix: String) -> [Int32] {
        let outputs = (0..<steps).map { context.tensor("\(prefix)\($0)", shape: shape) }
        context.emit(.UNPACK, [input], outputs, options: .UnpackOptions, Options.table { builder in
            try builder.add(Field.UnpackOptions.num, Int32(steps), default: 0)
            try builder.add(Field.UnpackOptions.axis, Int32(1), default: 0)
        })
        return outputs
    }
    var oneTensor: Int32? = nil
    func one() -> Int32 {
        if let oneTensor { return oneTensor }
        let made = context.constantFloats(name + "/one", [1])
        oneTensor = made
        return made
    }

    // A GRU's z and r gates share their activation; its candidate block is projected apart.
    let gru = op.kind == .gru
    let inputs = gru ? [projection(0..<(2 * units), "_zr"), projection((2 * units)..<width, "_h")] : [projection(0..<width, "")]
    let gatesRecurrent = context.constantTransposedRows(recurrent, 0..<(gru ? 2 * units : width), name: "\(name)/recurrent_kernel_zr")
    let candidateRecurrent = gru ? context.constantTransposedRows(recurrent, (2 * units)..<width, name: "\(name)/recurrent_kernel_h") : -1
    // A reset-after GRU's recurrent bias (zr and candidate blocks), when stored.
    let recurrentBias = splitBias ? (biasSlice(width..<(width + 2 * units), "/recurrent_bias_zr"),
                                     biasSlice((width + 2 * units)..<(2 * width), "/recurrent_bias_h")) : (nil, nil)
    var masks: [Int32]? = nil
    if masked {
        let mask = op.inputs[op.inputs.count - 1]
        let column = context.tensor(name + "/mask_column", shape: [batch, steps, 1])
        try reshape(context.tensor(for: mask), to: [batch, steps, 1], output: column, name: name + "/mask_column", in: context)
        masks = unpack(column, shape: [batch, 1], "\(name)/m_t")
    }

    var h: Int32? = nil, c: Int32? = nil
    var outputs: [Int32] = []
    for step in 0..<steps {
        let t = goBackwards ? steps - 1 - step : step
        let p = "t\(step)"
        var newH: Int32, newC: Int32? = nil
        switch op.kind {
        case .simpleRnn:
            let z = add(inputs[0][t], h.map { fullyConnected($0, gatesRecurrent, nil, columns: width, "\(p)/recurrent") }, "\(p)/z")
            newH = try activate(activation, z, "\(p)/h")
        case .lstm:
            let z = h.map { add(inputs[0][t], fullyConnected($0, gatesRecurrent, nil, columns: width, "\(p)/recurrent"), "\(p)/z", columns: width) }
                ?? inputs[0][t]
            let zs = split(z, into: 4, "\(p)/z")
            let i = try activate(gateActivation, zs[0], "\(p)/i")
            let f = try activate(gateActivation, zs[1], "\(p)/f")
            let g = try activate(activation, zs[2], "\(p)/g")
            let o = try activate(gateActivation, zs[3], "\(p)/o")
            let ig = multiply(i, g, "\(p)/i_g")
            let cell = c.map { add(multiply(f, $0, "\(p)/f_c"), ig, "\(p)/c") } ?? ig
            newC = cell
            newH = multiply(o, try activate(activation, cell, "\(p)/act_c"), "\(p)/h")
        default:  // gru: z, r = σ(x_zr + h·R_zr (+ b_zr)); hh = act(x_h + r·(h·R_h + b_h)) or act(x_h + (r·h)·R_h)
            let recurrentZR = h.map { fullyConnected($0, gatesRecurrent, recurrentBias.0, columns: 2 * units, "\(p)/recurrent_zr") }
                ?? recurrentBias.0
            let zr = split(try activate(gateActivation, add(inputs[0][t], recurrentZR, "\(p)/x_zr", columns: 2 * units), "\(p)/zr",
                                        columns: 2 * units), into: 2, "\(p)/zr")
            let (z, r) = (zr[0], zr[1])
            var inner: Int32? = nil
            if resetAfter {
                let recurrentH = h.map { fullyConnected($0, candidateRecurrent, recurrentBias.1, columns: units, "\(p)/recurrent_h") }
                    ?? recurrentBias.1
                inner = recurrentH.map { multiply(r, $0, "\(p)/r_rh") }
            } else if let h {
                inner = fullyConnected(multiply(r, h, "\(p)/r_h"), candidateRecurrent, nil, columns: units, "\(p)/rh")
            }
            let candidate = try activate(activation, add(inputs[1][t], inner, "\(p)/zh"), "\(p)/hh")
            let keep = multiply(subtract(one(), z, "\(p)/one_minus_z"), candidate, "\(p)/new_part")
            newH = h.map { add(multiply(z, $0, "\(p)/z_h"), keep, "\(p)/h") } ?? keep
        }
        if let m = masks?[t] {
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

    if context.isUsed(op.outputs[0]) {
        if returnSequences {
            let packed = context.tensor(name + "/sequence", shape: [batch, steps, units])
            context.emit(.PACK, outputs, [packed], options: .PackOptions, Options.table { builder in
                try builder.add(Field.PackOptions.values_count, Int32(steps), default: 0)
                try builder.add(Field.PackOptions.axis, Int32(1), default: 0)
            })
            try context.copy(packed, to: op.outputs[0])
        } else {
            try context.copy(outputs[steps - 1], to: op.outputs[0])
        }
    }
    if let h, context.isUsed(op.outputs[1]) { try context.copy(h, to: op.outputs[1]) }
    if let c, op.outputs.count > 2, context.isUsed(op.outputs[2]) { try context.copy(c, to: op.outputs[2]) }
}
