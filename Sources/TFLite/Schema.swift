// Generated from Schemas/tflite.fbs, the TFLite FlatBuffer schema (schema version 3, revision 3d,
// file identifier "TFL3"), itself a subset copied verbatim from google-ai-edge/LiteRT
// tflite/converter/schema/schema.fbs at commit 098fb976230858e7d5fbd2b0318e3aeafe2c9e10
// (Copyright 2017 The TensorFlow Authors, Apache License 2.0).
// Names follow the schema exactly (enum cases, table and field names) so they can be grepped
// against it. Checked value by value against the generated Python schema modules of
// ai-edge-litert 2.3.0 and tensorflow 2.21.0.

/// The identity of the TFLite schema this module writes.
public enum Schema {
    /// `Model.version`: the schema version.
    public static let version: UInt32 = 3
    /// The FlatBuffer file identifier (bytes 4..<8 of a .tflite file).
    public static let fileIdentifier = "TFL3"
    public static let fileExtension = "tflite"
}

/// The type of data stored in a tensor (`enum TensorType : byte`).
public enum TensorType: Int8, CaseIterable, Sendable {
    case FLOAT32 = 0
    case FLOAT16 = 1
    case INT32 = 2
    case UINT8 = 3
    case INT64 = 4
    case STRING = 5
    case BOOL = 6
    case INT16 = 7
    case COMPLEX64 = 8
    case INT8 = 9
    case FLOAT64 = 10
    case COMPLEX128 = 11
    case UINT64 = 12
    case RESOURCE = 13
    case VARIANT = 14
    case UINT32 = 15
    case UINT16 = 16
    case INT4 = 17
    case BFLOAT16 = 18
    case INT2 = 19
    case UINT4 = 20
    case FLOAT8_E4M3FN = 21
    case FLOAT8_E5M2 = 22
}

/// Members of `union QuantizationDetails`: the value is the `details_type` tag.
public enum QuantizationDetails: UInt8, CaseIterable, Sendable {
    case NONE = 0
    case CustomQuantization = 1
    case BlockwiseQuantization = 2
    case MultiAxisQuantization = 3
}

/// The storage type of a sparse tensor dimension (`enum DimensionType : byte`).
public enum DimensionType: Int8, CaseIterable, Sendable {
    case DENSE = 0
    case SPARSE_CSR = 1
}

/// Members of `union SparseIndexVector`: the value is the `array_segments_type` / `array_indices_type` tag.
public enum SparseIndexVector: UInt8, CaseIterable, Sendable {
    case NONE = 0
    case Int32Vector = 1
    case Uint16Vector = 2
    case Uint8Vector = 3
}

/// The builtin operators (`enum BuiltinOperator : int32`). Values above 127 do not fit
/// `OperatorCode.deprecated_builtin_code` (a byte): see `deprecatedBuiltinCode`.
public enum BuiltinOperator: Int32, CaseIterable, Sendable {
    case ADD = 0
    case AVERAGE_POOL_2D = 1
    case CONCATENATION = 2
    case CONV_2D = 3
    case DEPTHWISE_CONV_2D = 4
    case DEPTH_TO_SPACE = 5
    case DEQUANTIZE = 6
    case EMBEDDING_LOOKUP = 7
    case FLOOR = 8
    case FULLY_CONNECTED = 9
    case HASHTABLE_LOOKUP = 10
    case L2_NORMALIZATION = 11
    case L2_POOL_2D = 12
    case LOCAL_RESPONSE_NORMALIZATION = 13
    case LOGISTIC = 14
    case LSH_PROJECTION = 15
    case LSTM = 16
    case MAX_POOL_2D = 17
    case MUL = 18
    case RELU = 19
    case RELU_N1_TO_1 = 20
    case RELU6 = 21
    case RESHAPE = 22
    case RESIZE_BILINEAR = 23
    case RNN = 24
    case SOFTMAX = 25
    case SPACE_TO_DEPTH = 26
    case SVDF = 27
    case TANH = 28
    case CONCAT_EMBEDDINGS = 29
    case SKIP_GRAM = 30
    case CALL = 31
    case CUSTOM = 32
    case EMBEDDING_LOOKUP_SPARSE = 33
    case PAD = 34
    case UNIDIRECTIONAL_SEQUENCE_RNN = 35
    case GATHER = 36
    case BATCH_TO_SPACE_ND = 37
    case SPACE_TO_BATCH_ND = 38
    case TRANSPOSE = 39
    case MEAN = 40
    case SUB = 41
    case DIV = 42
    case SQUEEZE = 43
    case UNIDIRECTIONAL_SEQUENCE_LSTM = 44
    case STRIDED_SLICE = 45
    case BIDIRECTIONAL_SEQUENCE_RNN = 46
    case EXP = 47
    case TOPK_V2 = 48
    case SPLIT = 49
    case LOG_SOFTMAX = 50
    case DELEGATE = 51
    case BIDIRECTIONAL_SEQUENCE_LSTM = 52
    case CAST = 53
    case PRELU = 54
    case MAXIMUM = 55
    case ARG_MAX = 56
    case MINIMUM = 57
    case LESS = 58
    case NEG = 59
    case PADV2 = 60
    case GREATER = 61
    case GREATER_EQUAL = 62
    case LESS_EQUAL = 63
    case SELECT = 64
    case SLICE = 65
    case SIN = 66
    case TRANSPOSE_CONV = 67
    case SPARSE_TO_DENSE = 68
    case TILE = 69
    case EXPAND_DIMS = 70
    case EQUAL = 71
    case NOT_EQUAL = 72
    case LOG = 73
    case SUM = 74
    case SQRT = 75
    case RSQRT = 76
    case SHAPE = 77
    case POW = 78
    case ARG_MIN = 79
    case FAKE_QUANT = 80
    case REDUCE_PROD = 81
    case REDUCE_MAX = 82
    case PACK = 83
    case LOGICAL_OR = 84
    case ONE_HOT = 85
    case LOGICAL_AND = 86
    case LOGICAL_NOT = 87
    case UNPACK = 88
    case REDUCE_MIN = 89
    case FLOOR_DIV = 90
    case REDUCE_ANY = 91
    case SQUARE = 92
    case ZEROS_LIKE = 93
    case FILL = 94
    case FLOOR_MOD = 95
    case RANGE = 96
    case RESIZE_NEAREST_NEIGHBOR = 97
    case LEAKY_RELU = 98
    case SQUARED_DIFFERENCE = 99
    case MIRROR_PAD = 100
    case ABS = 101
    case SPLIT_V = 102
    case UNIQUE = 103
    case CEIL = 104
    case REVERSE_V2 = 105
    case ADD_N = 106
    case GATHER_ND = 107
    case COS = 108
    case WHERE = 109
    case RANK = 110
    case ELU = 111
    case REVERSE_SEQUENCE = 112
    case MATRIX_DIAG = 113
    case QUANTIZE = 114
    case MATRIX_SET_DIAG = 115
    case ROUND = 116
    case HARD_SWISH = 117
    case IF = 118
    case WHILE = 119
    case NON_MAX_SUPPRESSION_V4 = 120
    case NON_MAX_SUPPRESSION_V5 = 121
    case SCATTER_ND = 122
    case SELECT_V2 = 123
    case DENSIFY = 124
    case SEGMENT_SUM = 125
    case BATCH_MATMUL = 126
    case PLACEHOLDER_FOR_GREATER_OP_CODES = 127
    case CUMSUM = 128
    case CALL_ONCE = 129
    case BROADCAST_TO = 130
    case RFFT2D = 131
    case CONV_3D = 132
    case IMAG = 133
    case REAL = 134
    case COMPLEX_ABS = 135
    case HASHTABLE = 136
    case HASHTABLE_FIND = 137
    case HASHTABLE_IMPORT = 138
    case HASHTABLE_SIZE = 139
    case REDUCE_ALL = 140
    case CONV_3D_TRANSPOSE = 141
    case VAR_HANDLE = 142
    case READ_VARIABLE = 143
    case ASSIGN_VARIABLE = 144
    case BROADCAST_ARGS = 145
    case RANDOM_STANDARD_NORMAL = 146
    case BUCKETIZE = 147
    case RANDOM_UNIFORM = 148
    case MULTINOMIAL = 149
    case GELU = 150
    case DYNAMIC_UPDATE_SLICE = 151
    case RELU_0_TO_1 = 152
    case UNSORTED_SEGMENT_PROD = 153
    case UNSORTED_SEGMENT_MAX = 154
    case UNSORTED_SEGMENT_SUM = 155
    case ATAN2 = 156
    case UNSORTED_SEGMENT_MIN = 157
    case SIGN = 158
    case BITCAST = 159
    case BITWISE_XOR = 160
    case RIGHT_SHIFT = 161
    case STABLEHLO_LOGISTIC = 162
    case STABLEHLO_ADD = 163
    case STABLEHLO_DIVIDE = 164
    case STABLEHLO_MULTIPLY = 165
    case STABLEHLO_MAXIMUM = 166
    case STABLEHLO_RESHAPE = 167
    case STABLEHLO_CLAMP = 168
    case STABLEHLO_CONCATENATE = 169
    case STABLEHLO_BROADCAST_IN_DIM = 170
    case STABLEHLO_CONVOLUTION = 171
    case STABLEHLO_SLICE = 172
    case STABLEHLO_CUSTOM_CALL = 173
    case STABLEHLO_REDUCE = 174
    case STABLEHLO_ABS = 175
    case STABLEHLO_AND = 176
    case STABLEHLO_COSINE = 177
    case STABLEHLO_EXPONENTIAL = 178
    case STABLEHLO_FLOOR = 179
    case STABLEHLO_LOG = 180
    case STABLEHLO_MINIMUM = 181
    case STABLEHLO_NEGATE = 182
    case STABLEHLO_OR = 183
    case STABLEHLO_POWER = 184
    case STABLEHLO_REMAINDER = 185
    case STABLEHLO_RSQRT = 186
    case STABLEHLO_SELECT = 187
    case STABLEHLO_SUBTRACT = 188
    case STABLEHLO_TANH = 189
    case STABLEHLO_SCATTER = 190
    case STABLEHLO_COMPARE = 191
    case STABLEHLO_CONVERT = 192
    case STABLEHLO_DYNAMIC_SLICE = 193
    case STABLEHLO_DYNAMIC_UPDATE_SLICE = 194
    case STABLEHLO_PAD = 195
    case STABLEHLO_IOTA = 196
    case STABLEHLO_DOT_GENERAL = 197
    case STABLEHLO_REDUCE_WINDOW = 198
    case STABLEHLO_SORT = 199
    case STABLEHLO_WHILE = 200
    case STABLEHLO_GATHER = 201
    case STABLEHLO_TRANSPOSE = 202
    case DILATE = 203
    case STABLEHLO_RNG_BIT_GENERATOR = 204
    /// Deprecated upstream; the value stays reserved.
    case REDUCE_WINDOW = 205
    case STABLEHLO_COMPOSITE = 206
    case STABLEHLO_SHIFT_LEFT = 207
    case STABLEHLO_CBRT = 208
    case STABLEHLO_CASE = 209
}

extension BuiltinOperator {
    /// The value for `OperatorCode.deprecated_builtin_code` (a byte): the code itself up to 127,
    /// else 127 (`PLACEHOLDER_FOR_GREATER_OP_CODES`). Always write `builtin_code` too; readers
    /// take `max(deprecated_builtin_code, builtin_code)`.
    public var deprecatedBuiltinCode: Int8 { Int8(Swift.min(rawValue, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES.rawValue)) }
}

/// Members of `union BuiltinOptions`: the value is `Operator.builtin_options_type`, the position
/// in the union (NONE = 0). Not every operator has options: e.g. PRELU, RELU, LOGISTIC, TANH take NONE.
public enum BuiltinOptions: UInt8, CaseIterable, Sendable {
    case NONE = 0
    case Conv2DOptions = 1
    case DepthwiseConv2DOptions = 2
    case ConcatEmbeddingsOptions = 3
    case LSHProjectionOptions = 4
    case Pool2DOptions = 5
    case SVDFOptions = 6
    case RNNOptions = 7
    case FullyConnectedOptions = 8
    case SoftmaxOptions = 9
    case ConcatenationOptions = 10
    case AddOptions = 11
    case L2NormOptions = 12
    case LocalResponseNormalizationOptions = 13
    case LSTMOptions = 14
    case ResizeBilinearOptions = 15
    case CallOptions = 16
    case ReshapeOptions = 17
    case SkipGramOptions = 18
    case SpaceToDepthOptions = 19
    case EmbeddingLookupSparseOptions = 20
    case MulOptions = 21
    case PadOptions = 22
    case GatherOptions = 23
    case BatchToSpaceNDOptions = 24
    case SpaceToBatchNDOptions = 25
    case TransposeOptions = 26
    case ReducerOptions = 27
    case SubOptions = 28
    case DivOptions = 29
    case SqueezeOptions = 30
    case SequenceRNNOptions = 31
    case StridedSliceOptions = 32
    case ExpOptions = 33
    case TopKV2Options = 34
    case SplitOptions = 35
    case LogSoftmaxOptions = 36
    case CastOptions = 37
    case DequantizeOptions = 38
    case MaximumMinimumOptions = 39
    case ArgMaxOptions = 40
    case LessOptions = 41
    case NegOptions = 42
    case PadV2Options = 43
    case GreaterOptions = 44
    case GreaterEqualOptions = 45
    case LessEqualOptions = 46
    case SelectOptions = 47
    case SliceOptions = 48
    case TransposeConvOptions = 49
    case SparseToDenseOptions = 50
    case TileOptions = 51
    case ExpandDimsOptions = 52
    case EqualOptions = 53
    case NotEqualOptions = 54
    case ShapeOptions = 55
    case PowOptions = 56
    case ArgMinOptions = 57
    case FakeQuantOptions = 58
    case PackOptions = 59
    case LogicalOrOptions = 60
    case OneHotOptions = 61
    case LogicalAndOptions = 62
    case LogicalNotOptions = 63
    case UnpackOptions = 64
    case FloorDivOptions = 65
    case SquareOptions = 66
    case ZerosLikeOptions = 67
    case FillOptions = 68
    case BidirectionalSequenceLSTMOptions = 69
    case BidirectionalSequenceRNNOptions = 70
    case UnidirectionalSequenceLSTMOptions = 71
    case FloorModOptions = 72
    case RangeOptions = 73
    case ResizeNearestNeighborOptions = 74
    case LeakyReluOptions = 75
    case SquaredDifferenceOptions = 76
    case MirrorPadOptions = 77
    case AbsOptions = 78
    case SplitVOptions = 79
    case UniqueOptions = 80
    case ReverseV2Options = 81
    case AddNOptions = 82
    case GatherNdOptions = 83
    case CosOptions = 84
    case WhereOptions = 85
    case RankOptions = 86
    case ReverseSequenceOptions = 87
    case MatrixDiagOptions = 88
    case QuantizeOptions = 89
    case MatrixSetDiagOptions = 90
    case HardSwishOptions = 91
    case IfOptions = 92
    case WhileOptions = 93
    case DepthToSpaceOptions = 94
    case NonMaxSuppressionV4Options = 95
    case NonMaxSuppressionV5Options = 96
    case ScatterNdOptions = 97
    case SelectV2Options = 98
    case DensifyOptions = 99
    case SegmentSumOptions = 100
    case BatchMatMulOptions = 101
    case CumsumOptions = 102
    case CallOnceOptions = 103
    case BroadcastToOptions = 104
    case Rfft2dOptions = 105
    case Conv3DOptions = 106
    case HashtableOptions = 107
    case HashtableFindOptions = 108
    case HashtableImportOptions = 109
    case HashtableSizeOptions = 110
    case VarHandleOptions = 111
    case ReadVariableOptions = 112
    case AssignVariableOptions = 113
    case RandomOptions = 114
    case BucketizeOptions = 115
    case GeluOptions = 116
    case DynamicUpdateSliceOptions = 117
    case UnsortedSegmentProdOptions = 118
    case UnsortedSegmentMaxOptions = 119
    case UnsortedSegmentMinOptions = 120
    case UnsortedSegmentSumOptions = 121
    case ATan2Options = 122
    case SignOptions = 123
    case BitcastOptions = 124
    case BitwiseXorOptions = 125
    case RightShiftOptions = 126
}

/// Members of `union BuiltinOptions2` (StableHLO and newer ops): the value is
/// `Operator.builtin_options_2_type`.
public enum BuiltinOptions2: UInt8, CaseIterable, Sendable {
    case NONE = 0
    case StablehloConcatenateOptions = 1
    case StablehloBroadcastInDimOptions = 2
    case StablehloSliceOptions = 3
    case StablehloConvolutionOptions = 4
    case StablehloCustomCallOptions = 5
    case StablehloReduceOptions = 6
    case StablehloScatterOptions = 7
    case StablehloCompareOptions = 8
    case StablehloDynamicSliceOptions = 9
    case StablehloPadOptions = 10
    case StablehloIotaOptions = 11
    case StablehloDotGeneralOptions = 12
    case StablehloReduceWindowOptions = 13
    case StablehloSortOptions = 14
    case StablehloWhileOptions = 15
    case StablehloGatherOptions = 16
    case StablehloTransposeOptions = 17
    case DilateOptions = 18
    case StablehloRngBitGeneratorOptions = 19
    /// Deprecated upstream; the value stays reserved.
    case ReduceWindowOptions = 20
    case StableHLOCompositeOptions = 21
    case StablehloShiftLeftOptions = 22
    case StablehloCaseOptions = 23
}

/// `enum Padding : byte`.
public enum Padding: Int8, CaseIterable, Sendable {
    case SAME = 0
    case VALID = 1
}

/// `enum ActivationFunctionType : byte`.
public enum ActivationFunctionType: Int8, CaseIterable, Sendable {
    case NONE = 0
    case RELU = 1
    case RELU_N1_TO_1 = 2
    case RELU6 = 3
    case TANH = 4
    case SIGN_BIT = 5
}

/// `enum FullyConnectedOptionsWeightsFormat : byte`.
public enum FullyConnectedOptionsWeightsFormat: Int8, CaseIterable, Sendable {
    case DEFAULT = 0
    case SHUFFLED4x16INT8 = 1
}

/// `enum CustomOptionsFormat : byte`.
public enum CustomOptionsFormat: Int8, CaseIterable, Sendable {
    case FLEXBUFFERS = 0
}

/// Field ids (vtable slots) of the schema's tables, in declaration order; a union takes two ids
/// (`<name>_type`, then `<name>`). Deprecated fields keep their ids. A scalar equal to its
/// default may be left out of the table (readers then get the default); the defaults are in
/// each field's comment. Tables that are union members but not in the subset are not here.
public enum Field {
    public enum CustomQuantization {
        /// `custom: [ubyte] (force_align: 16)`.
        public static let custom = 0
    }

    public enum BlockwiseQuantization {
        /// `scales: int`, default 0.
        public static let scales = 0
        /// `zero_points: int`, default 0.
        public static let zero_points = 1
        /// `block_size: int`, default 0. Newer upstream (the schema in ai-edge-litert 2.3.0) appends `block_shape: [int]` as id 3; it is not in this revision.
        public static let block_size = 2
    }

    public enum MultiAxisQuantization {
        /// `scales: int`, default 0.
        public static let scales = 0
        /// `zero_points: int`, default 0.
        public static let zero_points = 1
        /// `block_size: int`, default 0.
        public static let block_size = 2
        /// `quantized_dimensions: [int]`.
        public static let quantized_dimensions = 3
    }

    public enum QuantizationParameters {
        /// `min: [float]`.
        public static let min = 0
        /// `max: [float]`.
        public static let max = 1
        /// `scale: [float]`.
        public static let scale = 2
        /// `zero_point: [long]`. `[long]`: Int64 elements.
        public static let zero_point = 3
        /// `QuantizationDetails` tag (ubyte) of `details: QuantizationDetails`; NONE = 0.
        public static let details_type = 4
        /// `details: QuantizationDetails`: offset to the member table named by `details_type`.
        public static let details = 5
        /// `quantized_dimension: int`, default 0.
        public static let quantized_dimension = 6
    }

    public enum Int32Vector {
        /// `values: [int]`.
        public static let values = 0
    }

    public enum Uint16Vector {
        /// `values: [ushort] (force_align: 4)`.
        public static let values = 0
    }

    public enum Uint8Vector {
        /// `values: [ubyte] (force_align: 4)`.
        public static let values = 0
    }

    public enum DimensionMetadata {
        /// `format: DimensionType`, default DENSE (0).
        public static let format = 0
        /// `dense_size: int`, default 0.
        public static let dense_size = 1
        /// `SparseIndexVector` tag (ubyte) of `array_segments: SparseIndexVector`; NONE = 0.
        public static let array_segments_type = 2
        /// `array_segments: SparseIndexVector`: offset to the member table named by `array_segments_type`.
        public static let array_segments = 3
        /// `SparseIndexVector` tag (ubyte) of `array_indices: SparseIndexVector`; NONE = 0.
        public static let array_indices_type = 4
        /// `array_indices: SparseIndexVector`: offset to the member table named by `array_indices_type`.
        public static let array_indices = 5
    }

    public enum SparsityParameters {
        /// `traversal_order: [int]`.
        public static let traversal_order = 0
        /// `block_map: [int]`.
        public static let block_map = 1
        /// `dim_metadata: [DimensionMetadata]`.
        public static let dim_metadata = 2
    }

    public enum VariantSubType {
        /// `shape: [int]`.
        public static let shape = 0
        /// `type: TensorType`, default FLOAT32 (0).
        public static let type = 1
        /// `has_rank: bool = false`.
        public static let has_rank = 2
    }

    public enum Tensor {
        /// `shape: [int]`.
        public static let shape = 0
        /// `type: TensorType`, default FLOAT32 (0).
        public static let type = 1
        /// `buffer: uint`, default 0. Index into `Model.buffers`; 0 = no data (the empty sentinel buffer).
        public static let buffer = 2
        /// `name: string`.
        public static let name = 3
        /// `quantization: QuantizationParameters`.
        public static let quantization = 4
        /// `is_variable: bool = false`.
        public static let is_variable = 5
        /// `sparsity: SparsityParameters`.
        public static let sparsity = 6
        /// `shape_signature: [int]`. `shape` with unknown dimensions as -1.
        public static let shape_signature = 7
        /// `has_rank: bool = false`.
        public static let has_rank = 8
        /// `variant_tensors: [VariantSubType]`.
        public static let variant_tensors = 9
        /// `external_buffer: uint`, default 0.
        public static let external_buffer = 10
    }

    public enum Conv2DOptions {
        /// `padding: Padding`, default SAME (0).
        public static let padding = 0
        /// `stride_w: int`, default 0.
        public static let stride_w = 1
        /// `stride_h: int`, default 0.
        public static let stride_h = 2
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 3
        /// `dilation_w_factor: int = 1`.
        public static let dilation_w_factor = 4
        /// `dilation_h_factor: int = 1`.
        public static let dilation_h_factor = 5
        /// `quantized_bias_type: TensorType`, default FLOAT32 (0).
        public static let quantized_bias_type = 6
    }

    public enum Conv3DOptions {
        /// `padding: Padding`, default SAME (0).
        public static let padding = 0
        /// `stride_d: int`, default 0.
        public static let stride_d = 1
        /// `stride_w: int`, default 0.
        public static let stride_w = 2
        /// `stride_h: int`, default 0.
        public static let stride_h = 3
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 4
        /// `dilation_d_factor: int = 1`.
        public static let dilation_d_factor = 5
        /// `dilation_w_factor: int = 1`.
        public static let dilation_w_factor = 6
        /// `dilation_h_factor: int = 1`.
        public static let dilation_h_factor = 7
    }

    public enum Pool2DOptions {
        /// `padding: Padding`, default SAME (0).
        public static let padding = 0
        /// `stride_w: int`, default 0.
        public static let stride_w = 1
        /// `stride_h: int`, default 0.
        public static let stride_h = 2
        /// `filter_width: int`, default 0.
        public static let filter_width = 3
        /// `filter_height: int`, default 0.
        public static let filter_height = 4
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 5
    }

    public enum DepthwiseConv2DOptions {
        /// `padding: Padding`, default SAME (0).
        public static let padding = 0
        /// `stride_w: int`, default 0.
        public static let stride_w = 1
        /// `stride_h: int`, default 0.
        public static let stride_h = 2
        /// `depth_multiplier: int`, default 0. Redundant upstream (ignored by kernels since TF 2.0) but still written by the converter.
        public static let depth_multiplier = 3
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 4
        /// `dilation_w_factor: int = 1`.
        public static let dilation_w_factor = 5
        /// `dilation_h_factor: int = 1`.
        public static let dilation_h_factor = 6
    }

    public enum FullyConnectedOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 0
        /// `weights_format: FullyConnectedOptionsWeightsFormat = DEFAULT`, DEFAULT = 0.
        public static let weights_format = 1
        /// `keep_num_dims: bool`, default false.
        public static let keep_num_dims = 2
        /// `asymmetric_quantize_inputs: bool`, default false.
        public static let asymmetric_quantize_inputs = 3
        /// `quantized_bias_type: TensorType`, default FLOAT32 (0). Newer upstream (the schema in ai-edge-litert 2.3.0) appends `quant_spec: [ubyte]` as id 5; it is not in this revision and keraslite never writes it.
        public static let quantized_bias_type = 4
    }

    public enum SoftmaxOptions {
        /// `beta: float`, default 0.0.
        public static let beta = 0
    }

    public enum PackOptions {
        /// `values_count: int`.
        public static let values_count = 0
        /// `axis: int`, default 0.
        public static let axis = 1
    }

    public enum UnpackOptions {
        /// `num: int`.
        public static let num = 0
        /// `axis: int`, default 0.
        public static let axis = 1
    }

    public enum SplitOptions {
        /// `num_splits: int`.
        public static let num_splits = 0
    }

    public enum ConcatenationOptions {
        /// `axis: int`, default 0.
        public static let axis = 0
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 1
    }

    public enum AddOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 0
        /// `pot_scale_int16: bool = true`.
        public static let pot_scale_int16 = 1
    }

    public enum MulOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 0
    }

    public enum UnidirectionalSequenceLSTMOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0): the cell and output activation.
        public static let fused_activation_function = 0
        /// `cell_clip: float`, default 0 (no clipping).
        public static let cell_clip = 1
        /// `proj_clip: float`, default 0 (no clipping).
        public static let proj_clip = 2
        /// `time_major: bool`, default false ([batch, time, …]).
        public static let time_major = 3
        /// `asymmetric_quantize_inputs: bool`, default false (hybrid kernels, version 3).
        public static let asymmetric_quantize_inputs = 4
        /// `diagonal_recurrent_tensors: bool`, default false (version 4).
        public static let diagonal_recurrent_tensors = 5
    }

    public enum ResizeBilinearOptions {
        /// `new_height: int (deprecated)`, default 0. Deprecated: never written; the id stays reserved.
        public static let new_height = 0
        /// `new_width: int (deprecated)`, default 0. Deprecated: never written; the id stays reserved.
        public static let new_width = 1
        /// `align_corners: bool`, default false.
        public static let align_corners = 2
        /// `half_pixel_centers: bool`, default false.
        public static let half_pixel_centers = 3
    }

    public enum ResizeNearestNeighborOptions {
        /// `align_corners: bool`, default false.
        public static let align_corners = 0
        /// `half_pixel_centers: bool`, default false.
        public static let half_pixel_centers = 1
    }

    /// `table PadOptions {}`: no fields.
    public enum PadOptions {}

    public enum ReshapeOptions {
        /// `new_shape: [int]`.
        public static let new_shape = 0
    }

    public enum SubOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 0
        /// `pot_scale_int16: bool = true`.
        public static let pot_scale_int16 = 1
    }

    public enum DivOptions {
        /// `fused_activation_function: ActivationFunctionType`, default NONE (0).
        public static let fused_activation_function = 0
    }

    /// `table TransposeOptions {}`: no fields.
    public enum TransposeOptions {}

    public enum BatchMatMulOptions {
        /// `adj_x: bool`, default false.
        public static let adj_x = 0
        /// `adj_y: bool`, default false.
        public static let adj_y = 1
    }

    /// `table ExpOptions {}`: no fields.
    public enum ExpOptions {}

    public enum ReducerOptions {
        /// `keep_dims: bool`, default false.
        public static let keep_dims = 0
    }

    public enum SqueezeOptions {
        /// `squeeze_dims: [int]`.
        public static let squeeze_dims = 0
    }

    public enum StridedSliceOptions {
        /// `begin_mask: int`, default 0.
        public static let begin_mask = 0
        /// `end_mask: int`, default 0.
        public static let end_mask = 1
        /// `ellipsis_mask: int`, default 0.
        public static let ellipsis_mask = 2
        /// `new_axis_mask: int`, default 0.
        public static let new_axis_mask = 3
        /// `shrink_axis_mask: int`, default 0.
        public static let shrink_axis_mask = 4
        /// `offset: bool`, default false.
        public static let offset = 5
    }

    /// `table LogSoftmaxOptions {}`: no fields.
    public enum LogSoftmaxOptions {}

    public enum CastOptions {
        /// `in_data_type: TensorType`, default FLOAT32 (0).
        public static let in_data_type = 0
        /// `out_data_type: TensorType`, default FLOAT32 (0).
        public static let out_data_type = 1
    }

    /// `table DequantizeOptions {}`: no fields.
    public enum DequantizeOptions {}

    /// `table MaximumMinimumOptions {}`: no fields.
    public enum MaximumMinimumOptions {}

    /// `table TileOptions {}`: no fields.
    public enum TileOptions {}

    /// `table GreaterOptions {}`: no fields.
    public enum GreaterOptions {}

    /// `table GreaterEqualOptions {}`: no fields.
    public enum GreaterEqualOptions {}

    /// `table NegOptions {}`: no fields.
    public enum NegOptions {}

    /// `table SliceOptions {}`: no fields.
    public enum SliceOptions {}

    public enum TransposeConvOptions {
        /// `padding: Padding`, default SAME (0).
        public static let padding = 0
        /// `stride_w: int`, default 0.
        public static let stride_w = 1
        /// `stride_h: int`, default 0.
        public static let stride_h = 2
        /// `fused_activation_function: ActivationFunctionType = NONE`, NONE = 0.
        public static let fused_activation_function = 3
        /// `quantized_bias_type: TensorType`, default FLOAT32 (0).
        public static let quantized_bias_type = 4
    }

    /// `table ExpandDimsOptions {}`: no fields.
    public enum ExpandDimsOptions {}

    /// `table AbsOptions {}`: no fields.
    public enum AbsOptions {}

    /// `table HardSwishOptions {}`: no fields.
    public enum HardSwishOptions {}

    public enum LeakyReluOptions {
        /// `alpha: float`, default 0.0.
        public static let alpha = 0
    }

    /// `table SquaredDifferenceOptions {}`: no fields.
    public enum SquaredDifferenceOptions {}

    /// `table QuantizeOptions {}`: no fields.
    public enum QuantizeOptions {}

    /// `table SelectV2Options {}`: no fields.
    public enum SelectV2Options {}

    public enum GeluOptions {
        /// `approximate: bool`, default false.
        public static let approximate = 0
    }

    public enum OperatorCode {
        /// `deprecated_builtin_code: byte`, default 0. Write `min(builtin_code, 127)` (`BuiltinOperator.deprecatedBuiltinCode`).
        public static let deprecated_builtin_code = 0
        /// `custom_code: string`.
        public static let custom_code = 1
        /// `version: int = 1`.
        public static let version = 2
        /// `builtin_code: BuiltinOperator`, default ADD (0). The full code; always write it (old readers only see `deprecated_builtin_code`).
        public static let builtin_code = 3
    }

    public enum Operator {
        /// `opcode_index: uint`, default 0.
        public static let opcode_index = 0
        /// `inputs: [int]`. Tensor indices; an omitted optional input is -1.
        public static let inputs = 1
        /// `outputs: [int]`.
        public static let outputs = 2
        /// `BuiltinOptions` tag (ubyte) of `builtin_options: BuiltinOptions`; NONE = 0.
        public static let builtin_options_type = 3
        /// `builtin_options: BuiltinOptions`: offset to the member table named by `builtin_options_type`.
        public static let builtin_options = 4
        /// `custom_options: [ubyte]`.
        public static let custom_options = 5
        /// `custom_options_format: CustomOptionsFormat`, default FLEXBUFFERS (0).
        public static let custom_options_format = 6
        /// `mutating_variable_inputs: [bool]`.
        public static let mutating_variable_inputs = 7
        /// `intermediates: [int]`.
        public static let intermediates = 8
        /// `large_custom_options_offset: ulong`, default 0.
        public static let large_custom_options_offset = 9
        /// `large_custom_options_size: ulong`, default 0.
        public static let large_custom_options_size = 10
        /// `BuiltinOptions2` tag (ubyte) of `builtin_options_2: BuiltinOptions2`; NONE = 0.
        public static let builtin_options_2_type = 11
        /// `builtin_options_2: BuiltinOptions2`: offset to the member table named by `builtin_options_2_type`.
        public static let builtin_options_2 = 12
        /// `debug_metadata_index: int = -1`.
        public static let debug_metadata_index = 13
    }

    public enum SubGraph {
        /// `tensors: [Tensor]`.
        public static let tensors = 0
        /// `inputs: [int]`.
        public static let inputs = 1
        /// `outputs: [int]`.
        public static let outputs = 2
        /// `operators: [Operator]`.
        public static let operators = 3
        /// `name: string`.
        public static let name = 4
        /// `debug_metadata_index: int = -1`.
        public static let debug_metadata_index = 5
    }

    public enum Buffer {
        /// `data: [ubyte] (force_align: 16)`.
        public static let data = 0
        /// `offset: ulong`, default 0.
        public static let offset = 1
        /// `size: ulong`, default 0.
        public static let size = 2
    }

    public enum ExternalBufferGroup {
        /// `name: string`.
        public static let name = 0
    }

    public enum ExternalBuffer {
        /// `id: uint`, default 0.
        public static let id = 0
        /// `group: uint`, default 0.
        public static let group = 1
        /// `offset: ulong`, default 0.
        public static let offset = 2
        /// `length: ulong`, default 0.
        public static let length = 3
        /// `packing: string`.
        public static let packing = 4
    }

    public enum Metadata {
        /// `name: string`.
        public static let name = 0
        /// `buffer: uint`, default 0.
        public static let buffer = 1
    }

    public enum TensorMap {
        /// `name: string`.
        public static let name = 0
        /// `tensor_index: uint`, default 0.
        public static let tensor_index = 1
    }

    public enum SignatureDef {
        /// `inputs: [TensorMap]`.
        public static let inputs = 0
        /// `outputs: [TensorMap]`.
        public static let outputs = 1
        /// `signature_key: string`.
        public static let signature_key = 2
        /// `deprecated_tag: string (deprecated)`. Deprecated: never written; the id stays reserved.
        public static let deprecated_tag = 3
        /// `subgraph_index: uint`, default 0.
        public static let subgraph_index = 4
    }

    public enum Model {
        /// `version: uint`, default 0. Write `Schema.version` (3).
        public static let version = 0
        /// `operator_codes: [OperatorCode]`.
        public static let operator_codes = 1
        /// `subgraphs: [SubGraph]`.
        public static let subgraphs = 2
        /// `description: string`.
        public static let description = 3
        /// `buffers: [Buffer]`. Entry 0 must be an empty buffer: the sentinel that `Tensor.buffer` 0 refers to.
        public static let buffers = 4
        /// `metadata_buffer: [int]`. Deprecated upstream in favour of `metadata` (not marked `(deprecated)`).
        public static let metadata_buffer = 5
        /// `metadata: [Metadata]`.
        public static let metadata = 6
        /// `signature_defs: [SignatureDef]`.
        public static let signature_defs = 7
        /// `external_buffer_groups: [ExternalBufferGroup]`.
        public static let external_buffer_groups = 8
        /// `external_buffers: [ExternalBuffer]`.
        public static let external_buffers = 9
    }
}
