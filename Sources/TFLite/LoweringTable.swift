import FlatBuffers
import GraphIR

/// How one IR op kind becomes TFLite builtins: the builtins it may emit (declared, so the int8
/// and executor tables can be checked against them, and enforced while lowering) and the function
/// that emits them.
struct LoweringRule: Sendable {
    typealias Lower = @Sendable (LoweringContext, Op) throws -> Void
    var builtins: Set<BuiltinOperator>
    var lower: Lower

    init(_ builtins: Set<BuiltinOperator>, _ lower: @escaping Lower) {
        self.builtins = builtins
        self.lower = lower
    }
}

/// IR op kind → TFLite builtin operators. One rule per kind; rules that need several builtins
/// (conv1d, layer_norm, selu, …) list them all.
enum LoweringTable {
    static func lower(_ op: Op, in context: LoweringContext) throws {
        guard let rule = table[op.kind] else {
            throw ConversionError.unsupported(op: op.name, detail: "no TFLite lowering for IR op \(op.kind.rawValue)")
        }
        try lower(op, by: rule, in: context)
    }

    /// Lowers `op` by `rule`, refusing builtins the rule does not declare.
    static func lower(_ op: Op, by rule: LoweringRule, in context: LoweringContext) throws {
        let first = context.opsUsed.count
        context.currentLayers = op.origin == nil ? [op.name] : op.layers
        defer { context.currentLayers = [] }
        try rule.lower(context, op)
        for emitted in context.opsUsed[first...] where !rule.builtins.contains(emitted) {
            throw ConversionError.unsupported(op: op.name, detail: "the \(op.kind.rawValue) lowering emitted \(emitted), which its rule does not declare")
        }
    }

    /// Every builtin any rule may emit.
    static var builtins: Set<BuiltinOperator> { table.values.reduce(into: []) { $0.formUnion($1.builtins) } }

    /// The builtins `activation` may emit, by function (see `lowerActivation`).
    static let activationBuiltins: Set<BuiltinOperator> = [
        .RESHAPE, .RELU, .RELU6, .LOGISTIC, .TANH, .EXP, .HARD_SWISH, .ELU, .MINIMUM, .MAXIMUM, .SUB, .MUL, .ADD, .DIV,
        .SOFTMAX, .LOG_SOFTMAX, .GELU, .LEAKY_RELU, .ABS, .NEG, .LOG,
    ]
    static let eluBuiltins: Set<BuiltinOperator> = [.ELU, .MINIMUM, .EXP, .SUB, .MUL, .RELU, .ADD]

    static let table: [OpKind: LoweringRule] = [
        .conv2d: LoweringRule([.CONV_2D, .DEPTHWISE_CONV_2D], lowerConv2D),
        .conv1d: LoweringRule([.RESHAPE, .PAD, .CONV_2D], lowerConv1D),
        .depthwiseConv2d: LoweringRule([.DEPTHWISE_CONV_2D], lowerDepthwiseConv2D),
        .transposeConv2d: LoweringRule([.TRANSPOSE_CONV], lowerTransposeConv2D),
        .fullyConnected: LoweringRule([.FULLY_CONNECTED], lowerFullyConnected),
        .batchNorm: LoweringRule([.MUL, .ADD], lowerBatchNorm),
        .layerNorm: LoweringRule([.MEAN, .SUB, .MUL, .ADD, .RSQRT], lowerLayerNorm),
        .activation: LoweringRule(activationBuiltins, { context, op in
            let function = try op.attribute(.function)
            let x = context.tensor(for: op.inputs[0])
            try lowerActivation(function, x, output: context.tensor(for: op.outputs[0]), op: op, in: context)
        }),
        .relu: LoweringRule([.RELU, .MINIMUM, .GREATER, .SUB, .MUL, .SELECT_V2], lowerParameterizedReLU),
        .leakyRelu: LoweringRule([.LEAKY_RELU], { context, op in
            let alpha = try op.attribute(.alpha)
            context.emit(.LEAKY_RELU, [context.tensor(for: op.inputs[0])], [context.tensor(for: op.outputs[0])],
                         options: .LeakyReluOptions, Options.table { try $0.add(Field.LeakyReluOptions.alpha, alpha, default: 0) })
        }),
        .prelu: LoweringRule([.PRELU], { context, op in
            context.emit(.PRELU, [context.tensor(for: op.inputs[0]), context.tensor(for: op.inputs[1])], [context.tensor(for: op.outputs[0])])
        }),
        .elu: LoweringRule(eluBuiltins, { context, op in
            let alpha = try op.attribute(.alpha)
            try lowerELU(context.tensor(for: op.inputs[0]), alpha: alpha, output: context.tensor(for: op.outputs[0]), op: op, in: context)
        }),
        .softmax: LoweringRule([.SOFTMAX, .TRANSPOSE], lowerSoftmax),
        .maxPool2d: LoweringRule([.MAX_POOL_2D], { try lowerPool2D($0, $1, code: .MAX_POOL_2D) }),
        .avgPool2d: LoweringRule([.AVERAGE_POOL_2D], { try lowerPool2D($0, $1, code: .AVERAGE_POOL_2D) }),
        .maxPool1d: LoweringRule([.RESHAPE, .MAX_POOL_2D], { try lowerPool1D($0, $1, code: .MAX_POOL_2D) }),
        .avgPool1d: LoweringRule([.RESHAPE, .AVERAGE_POOL_2D], { try lowerPool1D($0, $1, code: .AVERAGE_POOL_2D) }),
        .globalAvgPool: LoweringRule([.MEAN], { try lowerGlobalPool($0, $1, code: .MEAN) }),
        .globalMaxPool: LoweringRule([.REDUCE_MAX], { try lowerGlobalPool($0, $1, code: .REDUCE_MAX) }),
        .reshape: LoweringRule([.RESHAPE], { context, op in
            try reshape(context.tensor(for: op.inputs[0]), to: op.outputs[0].shape, output: context.tensor(for: op.outputs[0]), name: op.name, in: context)
        }),
        .identity: LoweringRule([.RESHAPE], { context, op in
            // Only identities that remove-identity had to keep (graph input straight to output).
            try reshape(context.tensor(for: op.inputs[0]), to: op.outputs[0].shape, output: context.tensor(for: op.outputs[0]), name: op.name, in: context)
        }),
        .transpose: LoweringRule([.TRANSPOSE], { context, op in
            let permutation = try op.attribute(.permutation)
            let perm = context.constantInt32(op.name + "/perm", permutation.map(Int32.init))
            context.emit(.TRANSPOSE, [context.tensor(for: op.inputs[0]), perm], [context.tensor(for: op.outputs[0])],
                         options: .TransposeOptions, Options.table { _ in })
        }),
        .repeatVector: LoweringRule([.RESHAPE, .TILE], { context, op in
            // [N, F] → RESHAPE [N, 1, F] → TILE [1, n, 1]
            let x = op.inputs[0]
            let n = try op.attribute(.repeats)
            let expandedShape: Shape = [x.shape[0], 1, x.shape[1]]
            let expanded = context.tensor(op.name + "/expanded", shape: expandedShape)
            try reshape(context.tensor(for: x), to: expandedShape, output: expanded, name: op.name + "/expanded", in: context)
            let multiples = context.constantInt32(op.name + "/multiples", [1, Int32(n), 1])
            context.emit(.TILE, [expanded, multiples], [context.tensor(for: op.outputs[0])], options: .TileOptions, Options.table { _ in })
        }),
        .pad: LoweringRule([.PAD], { context, op in
            let paddings = try op.attribute(.paddings)
            let constant = context.constantInt32(op.name + "/paddings", paddings.map(Int32.init), shape: [paddings.count / 2, 2])
            context.emit(.PAD, [context.tensor(for: op.inputs[0]), constant], [context.tensor(for: op.outputs[0])],
                         options: .PadOptions, Options.table { _ in })
        }),
        .slice: LoweringRule([.SLICE], { context, op in
            let begin = try op.attribute(.begin), size = try op.attribute(.size)
            let beginTensor = context.constantInt32(op.name + "/begin", begin.map(Int32.init))
            let sizeTensor = context.constantInt32(op.name + "/size", size.map(Int32.init))
            context.emit(.SLICE, [context.tensor(for: op.inputs[0]), beginTensor, sizeTensor], [context.tensor(for: op.outputs[0])],
                         options: .SliceOptions, Options.table { _ in })
        }),
        .resize: LoweringRule([.RESIZE_BILINEAR, .RESIZE_NEAREST_NEIGHBOR], lowerResize),
        .add: LoweringRule([.ADD], { try lowerElementwise($0, $1, code: .ADD) }),
        .subtract: LoweringRule([.SUB], { try lowerElementwise($0, $1, code: .SUB) }),
        .multiply: LoweringRule([.MUL], { try lowerElementwise($0, $1, code: .MUL) }),
        .maximum: LoweringRule([.MAXIMUM], { try lowerElementwise($0, $1, code: .MAXIMUM) }),
        .minimum: LoweringRule([.MINIMUM], { try lowerElementwise($0, $1, code: .MINIMUM) }),
        .average: LoweringRule([.ADD, .MUL], lowerAverage),
        .concatenate: LoweringRule([.CONCATENATION], { context, op in
            var axis = try op.attribute(.axis)
            if axis < 0 { axis += op.outputs[0].shape.count }
            context.emit(.CONCATENATION, op.inputs.map(context.tensor(for:)), [context.tensor(for: op.outputs[0])],
                         options: .ConcatenationOptions, Options.table { try $0.add(Field.ConcatenationOptions.axis, Int32(axis), default: 0) })
        }),
        .rescale: LoweringRule([.MUL, .ADD, .RESHAPE], lowerRescale),
        .normalize: LoweringRule([.SUB, .MUL], lowerNormalize),
        .batchMatmul: LoweringRule([.BATCH_MATMUL], lowerBatchMatmul),
        .l2Normalize: LoweringRule([.L2_NORMALIZATION, .TRANSPOSE], lowerL2Normalize),
        .conv3d: LoweringRule([.CONV_3D], lowerConv3D),
        .transposeConv3d: LoweringRule([.CONV_3D_TRANSPOSE], lowerTransposeConv3D),
        .maxPool3d: LoweringRule([.RESHAPE, .MAX_POOL_2D], { try lowerPool3D($0, $1, code: .MAX_POOL_2D) }),
        .avgPool3d: LoweringRule([.RESHAPE, .AVERAGE_POOL_2D], { try lowerPool3D($0, $1, code: .AVERAGE_POOL_2D) }),
        .upsample3d: LoweringRule([.RESHAPE, .TILE], lowerUpsample3D),
        .simpleRnn: recurrentRule, .gru: recurrentRule, .lstm: lstmRule,
        .gather: LoweringRule([.GATHER], lowerGather), .cast: LoweringRule([.CAST], lowerCast),
        .reverse: LoweringRule([.REVERSE_V2], lowerReverse), .sequenceMask: LoweringRule([.NOT_EQUAL, .REDUCE_ANY, .CAST], lowerSequenceMask),
        .convLstm2d: convRecurrentRule,
    ]
}

/// Conversion failures: one message naming the op (which carries the Keras layer name).
public enum ConversionError: Error, CustomStringConvertible, Sendable {
    case unsupported(op: String, detail: String)
    case tooLarge(bytes: Int)

    public var description: String {
        switch self {
        case .unsupported(let op, let detail): return "cannot convert '\(op)' to TFLite: \(detail)"
        case .tooLarge(let bytes): return "the model needs \(bytes) bytes of constants; a single TFLite FlatBuffer holds at most 2 GB"
        }
    }
}
