import FlatBuffers
import GraphIR

/// IR op kind → TFLite builtin operators. One entry per kind; entries that need several builtins
/// (conv1d, layer_norm, selu, …) say so in their comment.
enum LoweringTable {
    typealias Lower = @Sendable (LoweringContext, Op) throws -> Void

    static func lower(_ op: Op, in context: LoweringContext) throws {
        guard let lower = table[op.kind] else {
            throw ConversionError.unsupported(op: op.name, detail: "no TFLite lowering for IR op \(op.kind.rawValue)")
        }
        try lower(context, op)
    }

    static let table: [OpKind: Lower] = [
        .conv2d: lowerConv2D,
        .conv1d: lowerConv1D,
        .depthwiseConv2d: lowerDepthwiseConv2D,
        .transposeConv2d: lowerTransposeConv2D,
        .fullyConnected: lowerFullyConnected,
        .batchNorm: lowerBatchNorm,
        .layerNorm: lowerLayerNorm,
        .activation: { context, op in
            let function = try op.attribute(.function)
            let x = context.tensor(for: op.inputs[0])
            try lowerActivation(function, x, output: context.tensor(for: op.outputs[0]), op: op, in: context)
        },
        .relu: lowerParameterizedReLU,
        .leakyRelu: { context, op in
            let alpha = try op.attribute(.alpha)
            context.emit(.LEAKY_RELU, [context.tensor(for: op.inputs[0])], [context.tensor(for: op.outputs[0])],
                         options: .LeakyReluOptions, Options.table { try $0.add(Field.LeakyReluOptions.alpha, alpha, default: 0) })
        },
        .prelu: { context, op in
            context.emit(.PRELU, [context.tensor(for: op.inputs[0]), context.tensor(for: op.inputs[1])], [context.tensor(for: op.outputs[0])])
        },
        .elu: { context, op in
            let alpha = try op.attribute(.alpha)
            try lowerELU(context.tensor(for: op.inputs[0]), alpha: alpha, output: context.tensor(for: op.outputs[0]), op: op, in: context)
        },
        .softmax: lowerSoftmax,
        .maxPool2d: { try lowerPool2D($0, $1, code: .MAX_POOL_2D) },
        .avgPool2d: { try lowerPool2D($0, $1, code: .AVERAGE_POOL_2D) },
        .maxPool1d: { try lowerPool1D($0, $1, code: .MAX_POOL_2D) },
        .avgPool1d: { try lowerPool1D($0, $1, code: .AVERAGE_POOL_2D) },
        .globalAvgPool: { try lowerGlobalPool($0, $1, code: .MEAN) },
        .globalMaxPool: { try lowerGlobalPool($0, $1, code: .REDUCE_MAX) },
        .reshape: { context, op in
            try reshape(context.tensor(for: op.inputs[0]), to: op.outputs[0].shape, output: context.tensor(for: op.outputs[0]), name: op.name, in: context)
        },
        .identity: { context, op in
            // Only identities that remove-identity had to keep (graph input straight to output).
            try reshape(context.tensor(for: op.inputs[0]), to: op.outputs[0].shape, output: context.tensor(for: op.outputs[0]), name: op.name, in: context)
        },
        .transpose: { context, op in
            let permutation = try op.attribute(.permutation)
            let perm = context.constantInt32(op.name + "/perm", permutation.map(Int32.init))
            context.emit(.TRANSPOSE, [context.tensor(for: op.inputs[0]), perm], [context.tensor(for: op.outputs[0])],
                         options: .TransposeOptions, Options.table { _ in })
        },
        .repeatVector: { context, op in
            // [N, F] → RESHAPE [N, 1, F] → TILE [1, n, 1]
            let x = op.inputs[0]
            let n = try op.attribute(.repeats)
            let expandedShape: Shape = [x.shape[0], 1, x.shape[1]]
            let expanded = context.tensor(op.name + "/expanded", shape: expandedShape)
            try reshape(context.tensor(for: x), to: expandedShape, output: expanded, name: op.name + "/expanded", in: context)
            let multiples = context.constantInt32(op.name + "/multiples", [1, Int32(n), 1])
            context.emit(.TILE, [expanded, multiples], [context.tensor(for: op.outputs[0])], options: .TileOptions, Options.table { _ in })
        },
        .pad: { context, op in
            let paddings = try op.attribute(.paddings)
            let constant = context.constantInt32(op.name + "/paddings", paddings.map(Int32.init), shape: [paddings.count / 2, 2])
            context.emit(.PAD, [context.tensor(for: op.inputs[0]), constant], [context.tensor(for: op.outputs[0])],
                         options: .PadOptions, Options.table { _ in })
        },
        .slice: { context, op in
            let begin = try op.attribute(.begin), size = try op.attribute(.size)
            let beginTensor = context.constantInt32(op.name + "/begin", begin.map(Int32.init))
            let sizeTensor = context.constantInt32(op.name + "/size", size.map(Int32.init))
            context.emit(.SLICE, [context.tensor(for: op.inputs[0]), beginTensor, sizeTensor], [context.tensor(for: op.outputs[0])],
                         options: .SliceOptions, Options.table { _ in })
        },
        .resize: lowerResize,
        .add: { try lowerElementwise($0, $1, code: .ADD) },
        .subtract: { try lowerElementwise($0, $1, code: .SUB) },
        .multiply: { try lowerElementwise($0, $1, code: .MUL) },
        .maximum: { try lowerElementwise($0, $1, code: .MAXIMUM) },
        .minimum: { try lowerElementwise($0, $1, code: .MINIMUM) },
        .average: lowerAverage,
        .concatenate: { context, op in
            var axis = try op.attribute(.axis)
            if axis < 0 { axis += op.outputs[0].shape.count }
            context.emit(.CONCATENATION, op.inputs.map(context.tensor(for:)), [context.tensor(for: op.outputs[0])],
                         options: .ConcatenationOptions, Options.table { try $0.add(Field.ConcatenationOptions.axis, Int32(axis), default: 0) })
        },
        .rescale: lowerRescale,
        .normalize: lowerNormalize,
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
