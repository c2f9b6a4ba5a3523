// The recurrent and text ops: simple_rnn / gru / lstm (Keras' RNN layers over a whole sequence),
// gather (Embedding), cast, reverse (Bidirectional's backward sequence) and sequence_mask (Keras
// masks as 0/1 floats).

extension DType: AttributeValue {
    public init?(attribute: Attribute) {
        guard case .string(let name) = attribute else { return nil }
        self.init(rawValue: name)
    }
    public var attribute: Attribute { .string(rawValue) }
    public static var typeName: String { "dtype" }
}

extension AttributeKey where Value == ActivationFunction {
    /// The cell activation of a recurrent op (Keras' `activation`: candidate state and output).
    public static var cellActivation: Self { .init("activation") }
    /// The gate activation of gru / lstm (Keras' `recurrent_activation`).
    public static var recurrentActivation: Self { .init("recurrent_activation") }
}

extension AttributeKey where Value == Bool {
    /// Recurrent ops: output 0 is the whole output sequence [N, T, U] instead of the last output [N, U].
    public static var returnSequences: Self { .init("return_sequences") }
    /// Recurrent ops: the sequence is read last step first (and the output sequence is in that order).
    public static var goBackwards: Self { .init("go_backwards") }
    /// gru: the reset gate multiplies the recurrent projection (bias [2, 3U]) rather than the state.
    public static var resetAfter: Self { .init("reset_after") }
    /// Recurrent ops: the last input is a [N, T] 0/1 mask; masked steps keep the state.
    public static var masked: Self { .init("masked") }
    /// Recurrent ops: masked steps output zeros instead of the previous output (Keras sets it
    /// inside Bidirectional when returning sequences).
    public static var zeroOutputForMask: Self { .init("zero_output_for_mask") }
}

extension AttributeKey where Value == Float {
    /// sequence_mask: a step is masked when every feature equals it (Masking's `mask_value`; 0 for ids).
    public static var maskValue: Self { .init("mask_value") }
}

extension AttributeKey where Value == DType {
    /// cast: the output element type.
    public static var targetType: Self { .init("to") }
}

extension OpSchema {
    /// Number of gate blocks in a recurrent op's kernels: simple_rnn 1, gru 3 (z, r, h), lstm 4 (i, f, c, o).
    public static func gateCount(_ kind: OpKind) -> Int {
        switch kind {
        case .gru: return 3
        case .lstm: return 4
        default: return 1
        }
    }

    /// simple_rnn / gru / lstm: inputs x [N, T, F], kernel [F, G·U], recurrent_kernel [U, G·U],
    /// optional bias ([G·U]; gru with reset_after [2, G·U]) and, when `masked`, the mask [N, T] last.
    /// Outputs: the output sequence [N, T, U] or last output [N, U], the final state h [N, U]
    /// and (lstm) the final cell state c [N, U].
    static func recurrent(gates: Int) -> OpSchema {
        var attributes: [AttributeSpec] = [
            .required(.cellActivation), .optional(.returnSequences, default: false), .optional(.goBackwards, default: false),
            .optional(.masked, default: false), .optional(.zeroOutputForMask, default: false),
        ]
        if gates > 1 { attributes.append(.required(.recurrentActivation)) }
        if gates == 3 { attributes.append(.optional(.resetAfter, default: true)) }
        return OpSchema(inputs: 3...5, attributes: attributes) { op in
            let x = op.inputs[0], kernel = op.inputs[1], recurrent = op.inputs[2]
            try requireRank(op, x, 3, "input")
            try requireRank(op, kernel, 2, "kernel")
            try requireRank(op, recurrent, 2, "recurrent kernel")
            let masked = try op.attribute(.masked)
            let biasCount = op.inputs.count - 3 - (masked ? 1 : 0)
            guard biasCount == 0 || biasCount == 1 else {
                throw GraphError.shape(op: op.name, message: "takes x, kernel, recurrent kernel, an optional bias and \(masked ? "a" : "no") mask")
            }
            let units = recurrent.shape[0]
            if let units, let width = recurrent.shape[1], width != gates * units {
                throw GraphError.shape(op: op.name, message: "recurrent kernel \(recurrent.shape.text) needs \(gates)·\(units) columns")
            }
            if let width = kernel.shape[1], let units, width != gates * units {
                throw GraphError.shape(op: op.name, message: "kernel \(kernel.shape.text) needs \(gates)·\(units) columns")
            }
            if let features = x.shape[2], let rows = kernel.shape[0], features != rows {
                throw GraphError.shape(op: op.name, message: "input has \(features) features, kernel expects \(rows)")
            }
            if biasCount == 1, let units, let count = op.inputs[3].shape.elementCount, count != gates * units,
               !(gates == 3 && count == 2 * gates * units) {
                throw GraphError.shape(op: op.name, message: "bias \(op.inputs[3].shape.text) does not fit \(gates)·\(units) units")
            }
            if masked {
                let mask = op.inputs.last!
                try requireRank(op, mask, 2, "mask")
                if let steps = x.shape[1], let maskSteps = mask.shape[1], steps != maskSteps {
                    throw GraphError.shape(op: op.name, message: "mask \(mask.shape.text) does not fit the input \(x.shape.text)")
                }
            }
            let first: Shape = try op.attribute(.returnSequences) ? [x.shape[0], x.shape[1], units] : [x.shape[0], units]
            return [first, [x.shape[0], units]] + (gates == 4 ? [[x.shape[0], units]] : [])
        }
    }

    /// gather: rows of a table (input 0, [V, D…]) picked by integer ids (input 1, any shape):
    /// output ids.shape + [D…].
    static let gather = OpSchema(inputs: 2...2) { op in
        let table = op.inputs[0], ids = op.inputs[1]
        guard table.shape.count >= 1 else { throw GraphError.shape(op: op.name, message: "table needs rank ≥ 1") }
        return [ids.shape + table.shape.dropFirst()]
    }

    /// cast: the same values as another element type (float → int truncates toward zero).
    static let cast: OpSchema = {
        var schema = OpSchema(inputs: 1...1, attributes: [.required(.targetType)]) { [$0.inputs[0].shape] }
        schema.inferTypes = { op in [op.attributes[.targetType] ?? .float32] }
        return schema
    }()

    /// reverse: the input with one axis in reverse order.
    static let reverse = OpSchema(inputs: 1...1, attributes: [.required(.axis)]) { op in
        let rank = op.inputs[0].shape.count
        let axis = try op.attribute(.axis)
        guard (-rank..<rank).contains(axis) else { throw GraphError.shape(op: op.name, message: "axis \(axis) out of range") }
        return [op.inputs[0].shape]
    }

    /// sequence_mask: [N, T] of 1 where a step is kept and 0 where it is masked — ids [N, T] ≠
    /// mask_value, or features [N, T, F] not all equal to mask_value.
    static let sequenceMask = OpSchema(inputs: 1...1, attributes: [.optional(.maskValue, default: 0)]) { op in
        let x = op.inputs[0]
        guard x.shape.count == 2 || x.shape.count == 3 else {
            throw GraphError.shape(op: op.name, message: "input needs rank 2 (ids) or 3 (features)")
        }
        return [Array(x.shape.prefix(2))]
    }
}
