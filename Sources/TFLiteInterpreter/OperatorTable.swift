import Foundation
import TFLite

/// Builtin name (as `TFLiteFile` spells it) → kernel builder. Every builtin keraslite's converter
/// emits has a row, plus what TensorFlow's converter writes for the same models; the builders live
/// in `Kernels+*.swift`. A builtin without a row fails while preparing, naming the operator.
enum OperatorTable {
    typealias Builder = @Sendable (OperatorContext) throws -> Kernel

    private static let numeric: Set<String> = ["float", "quantized", "integer"]

    static let builders: [String: Builder] = [
        // Convolutions and matrix products.
        "CONV_2D": convolutionKernel,
        "DEPTHWISE_CONV_2D": depthwiseKernel,
        "TRANSPOSE_CONV": transposeConvolutionKernel,
        "CONV_3D": convolution3DKernel,
        "CONV_3D_TRANSPOSE": transposeConvolution3DKernel,
        "FULLY_CONNECTED": fullyConnectedKernel,
        "BATCH_MATMUL": batchMatMulKernel,
        "UNIDIRECTIONAL_SEQUENCE_LSTM": unidirectionalSequenceLSTMKernel,

        // Binary elementwise, broadcasting.
        "ADD": addKernel,
        "SUB": subtractKernel,
        "MUL": multiplyKernel,
        "DIV": divideKernel,
        "MAXIMUM": { try binaryKernel($0) { max($0, $1) } },
        "MINIMUM": { try binaryKernel($0) { min($0, $1) } },
        "POW": { try binaryKernel($0) { powf($0, $1) } },
        "SQUARED_DIFFERENCE": { try binaryKernel($0) { ($0 - $1) * ($0 - $1) } },
        "FLOOR_DIV": { try binaryKernel($0) { ($0 / $1).rounded(.down) } },
        "FLOOR_MOD": { try binaryKernel($0) { floorModulo($0, $1) } },
        "PRELU": { try binaryKernel($0, types: ["float", "quantized"]) { $0 >= 0 ? $0 : $0 * $1 } },
        "GREATER": { try comparisonKernel($0) { $0 > $1 } },
        "GREATER_EQUAL": { try comparisonKernel($0) { $0 >= $1 } },
        "LESS": { try comparisonKernel($0) { $0 < $1 } },
        "LESS_EQUAL": { try comparisonKernel($0) { $0 <= $1 } },
        "EQUAL": { try comparisonKernel($0) { $0 == $1 } },
        "NOT_EQUAL": { try comparisonKernel($0) { $0 != $1 } },
        "LOGICAL_AND": { try comparisonKernel($0) { $0 != 0 && $1 != 0 } },
        "LOGICAL_OR": { try comparisonKernel($0) { $0 != 0 || $1 != 0 } },
        "SELECT": { try selectKernel($0, broadcasting: false) },
        "SELECT_V2": { try selectKernel($0, broadcasting: true) },

        // Unary elementwise and activations.
        "RELU": { try unaryKernel($0) { max($0, 0) } },
        "RELU6": { try unaryKernel($0) { min(max($0, 0), 6) } },
        "RELU_N1_TO_1": { try unaryKernel($0) { min(max($0, -1), 1) } },
        "RELU_0_TO_1": { try unaryKernel($0) { min(max($0, 0), 1) } },
        "LEAKY_RELU": leakyReluKernel,
        "ELU": { try unaryKernel($0) { $0 < 0 ? expm1f($0) : $0 } },
        "GELU": geluKernel,
        "HARD_SWISH": { try unaryKernel($0) { x in x * min(max(x + 3, 0), 6) / 6 } },
        "LOGISTIC": { try unaryKernel($0) { logistic($0) } },
        "TANH": { try unaryKernel($0) { tanhf($0) } },
        "EXP": { try unaryKernel($0) { expf($0) } },
        "LOG": { try unaryKernel($0) { logf($0) } },
        "SQRT": { try unaryKernel($0) { $0.squareRoot() } },
        "RSQRT": { try unaryKernel($0) { 1 / $0.squareRoot() } },
        "SQUARE": { try unaryKernel($0, types: numeric) { $0 * $0 } },
        "ABS": { try unaryKernel($0, types: numeric) { abs($0) } },
        "NEG": { try unaryKernel($0, types: numeric) { -$0 } },
        "SIGN": { try unaryKernel($0, types: numeric) { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 } },
        "SIN": { try unaryKernel($0) { sinf($0) } },
        "COS": { try unaryKernel($0) { cosf($0) } },
        "FLOOR": { try unaryKernel($0) { $0.rounded(.down) } },
        "CEIL": { try unaryKernel($0) { $0.rounded(.up) } },
        "ROUND": { try unaryKernel($0) { roundHalfToEven($0) } },
        "LOGICAL_NOT": { try unaryKernel($0, types: ["bool"]) { $0 == 0 ? 1 : 0 } },

        // Type conversions: the executor snaps the unchanged real value onto the output type.
        "DEQUANTIZE": { try conversionKernel($0, inputs: ["quantized", "float"], outputs: ["float"]) },
        "QUANTIZE": { try conversionKernel($0, inputs: ["float", "quantized"], outputs: ["quantized"]) },
        // A sparse constant expanded (the executor decodes constants dense already).
        "DENSIFY": { try conversionKernel($0, inputs: ["float", "quantized"], outputs: ["float", "quantized"]) },
        "CAST": { try conversionKernel($0, inputs: ["float", "integer", "bool", "quantized"], outputs: ["float", "integer", "bool"]) },

        // Reductions, normalization, pooling, resizing.
        "MEAN": { try reduceKernel($0, .mean) },
        "SUM": { try reduceKernel($0, .sum) },
        "REDUCE_PROD": { try reduceKernel($0, .product) },
        "REDUCE_MAX": { try reduceKernel($0, .maximum) },
        "REDUCE_MIN": { try reduceKernel($0, .minimum) },
        "REDUCE_ANY": { try reduceKernel($0, .any) },
        "REDUCE_ALL": { try reduceKernel($0, .all) },
        "ARG_MAX": { try argumentKernel($0, maximum: true) },
        "ARG_MIN": { try argumentKernel($0, maximum: false) },
        "CUMSUM": cumulativeSumKernel,
        "SOFTMAX": { try softmaxKernel($0, logarithm: false) },
        "LOG_SOFTMAX": { try softmaxKernel($0, logarithm: true) },
        "L2_NORMALIZATION": l2NormalizationKernel,
        "LOCAL_RESPONSE_NORMALIZATION": localResponseNormalizationKernel,
        "MAX_POOL_2D": { try poolKernel($0, .maximum) },
        "AVERAGE_POOL_2D": { try poolKernel($0, .average) },
        "L2_POOL_2D": { try poolKernel($0, .l2) },
        "RESIZE_BILINEAR": { try resizeKernel($0, bilinear: true) },
        "RESIZE_NEAREST_NEIGHBOR": { try resizeKernel($0, bilinear: false) },

        // Shapes and data movement.
        "RESHAPE": reshapeKernel,
        "SQUEEZE": squeezeKernel,
        "EXPAND_DIMS": expandDimsKernel,
        "TRANSPOSE": transposeKernel,
        "SLICE": sliceKernel,
        "STRIDED_SLICE": stridedSliceKernel,
        "TILE": tileKernel,
        "BROADCAST_TO": broadcastToKernel,
        "CONCATENATION": concatenationKernel,
        "PACK": packKernel,
        "UNPACK": unpackKernel,
        "SPLIT": splitKernel,
        "SPLIT_V": splitVKernel,
        "PAD": { try padKernel($0, withValue: false) },
        "PADV2": { try padKernel($0, withValue: true) },
        "MIRROR_PAD": mirrorPadKernel,
        "SHAPE": shapeKernel,
        "RANK": rankKernel,
        "FILL": fillKernel,
        "ZEROS_LIKE": zerosLikeKernel,
        "RANGE": rangeKernel,
        "GATHER": gatherKernel,
        "DEPTH_TO_SPACE": { try depthSpaceKernel($0, toDepth: false) },
        "SPACE_TO_DEPTH": { try depthSpaceKernel($0, toDepth: true) },
        "REVERSE_V2": reverseKernel,
    ]

    /// Builtins never evaluated while preparing even when all inputs are constant (none today:
    /// every supported builtin is a pure function of its inputs).
    static let neverFolded: Set<String> = []

    /// The supported builtins, sorted (for documentation and error messages).
    static var supported: [String] { builders.keys.sorted() }
}
