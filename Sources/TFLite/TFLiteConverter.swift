import FlatBuffers
import GraphIR
import Passes

/// Graph IR → `.tflite` bytes: fixes the batch size, runs the pass pipeline, lowers every op
/// through `LoweringTable`, and serializes with keraslite's own FlatBuffer builder.
public enum TFLiteConverter {
    public struct Options: Sendable {
        /// The batch size written into the model; nil keeps it dynamic (-1 in shape_signature).
        public var batch: Int?
        /// Sizes for the dimensions after the batch of named inputs (`--input-shape NAME=D1,D2,…`),
        /// fixed before the batch; what unrolled recurrent layers need when the model leaves a length unknown.
        public var inputShapes: [String: [Int]] = [:]
        /// The passes run before lowering (`.pruning(options)` prunes first).
        public var pipeline: PassPipeline
        /// How weights are stored (float32, float16, dynamic-range int8).
        public var quantization: QuantizationOptions
        /// Store weights whose zeros make an encoding smaller sparse (`SparseWeights`).
        public var sparse = false

        public init(batch: Int? = 1, pipeline: PassPipeline = .standard,
                    quantization: QuantizationOptions = QuantizationOptions()) {
            self.batch = batch
            self.pipeline = pipeline
            self.quantization = quantization
        }
    }

    public struct Result: Sendable {
        /// The `.tflite` file: its metadata in memory, the constant buffers produced as it is written
        /// (`file.write`, `AtomicFile.write(to:streaming:)`), so they are never all in memory at once.
        public var file: FlatBufferFile
        /// The whole file in memory (tests, in-memory readers).
        public var bytes: [UInt8] { get throws { try file.bytes() } }
        /// Builtin operator name → count, e.g. "CONV_2D": 35.
        public var operatorCounts: [String: Int]
        public var operatorCount: Int
        public var tensorCount: Int
        public var minRuntimeVersion: String
        /// Things the user should know (int8 ops that stayed float32 and why).
        public var warnings: [String] = []
        /// int8: the float32 model that was calibrated, as it was lowered (the reference of a
        /// quantization report); never serialized.
        public var floatModel: TFLiteFile? = nil
        /// int8: each float activation of `floatModel` that has a quantized version in `bytes`,
        /// paired by tensor index, with its Keras layer.
        public var quantizedTensors: [QuantizedTensorPair] = []
        /// What the pipeline's passes did (`passLog.pruned`: the kernels `prune-magnitude` zeroed).
        public var passLog = PassLog()
        /// With `Options.sparse`: the constants stored sparse.
        public var sparse: SparseWeights.Summary? = nil
    }

    /// Converts `graph` (modified in place by the passes).
    public static func convert(_ graph: Graph, options: Options = Options()) throws -> Result {
        try graph.setInputShapes(options.inputShapes)
        try graph.setBatch(options.batch)
        let passLog = try options.pipeline.run(on: graph)
        let model = try lower(graph)
        let weights = WeightQuantizer(options: options.quantization)
        try weights.apply(to: model)
        var warnings: [String] = []
        var floatModel: TFLiteFile?
        var quantizedTensors: [QuantizedTensorPair] = []
        if options.quantization.mode == .int8 {
            guard let calibrate = options.quantization.calibrate else {
                throw ConversionError.unsupported(op: "model", detail: "--quantize int8 needs calibration data (--calibration)")
            }
            // The lowered float model runs as it is in memory: no serialized copy of its weights.
            let view = try TFLiteFile(model: model, path: "float model")
            floatModel = view
            var ranges: [Int32: ValueRange] = [:]
            // Calibrated with a dynamic batch when the same tensors lower that way, so the executor
            // multiplies several samples per call; a model that cannot run so (a shape the passes
            // fixed for batch 1) is calibrated as written, one batch at a time.
            var calibrated: [Int: ValueRange]?
            if let batchFree = try batchFreeView(of: graph, matching: model, options: options) {
                calibrated = try? calibrate(batchFree)
            }
            for (index, range) in try calibrated ?? calibrate(view) { ranges[Int32(index)] = range }
            // An operator belongs to a kept layer by the Keras layer it was lowered from.
            let quantizer = Int8Quantizer(ranges: ranges, io: options.quantization.io, keptFloat: weights.keptFloat)
            // The float model's tensor indices are the model's until the quantizer rewrites it.
            let outcome = try quantizer.apply(to: model)
            warnings = outcome.warnings
            quantizedTensors = outcome.pairs
        }
        // After quantization, so the stored bytes (int8, float16) are the ones encoded.
        let sparse = options.sparse ? try SparseWeights.apply(to: model) : nil
        model.minRuntimeVersion = RuntimeVersions.minimum(for: model.operatorCodes)
        let file = try model.serializedFile()
        var counts: [String: Int] = [:]
        for op in model.operators { counts["\(model.operatorCodes[Int(op.opcodeIndex)].code)", default: 0] += 1 }
        return Result(file: file, operatorCounts: counts, operatorCount: model.operators.count,
                      tensorCount: model.tensors.count, minRuntimeVersion: model.minRuntimeVersion, warnings: warnings, floatModel: floatModel,
                      quantizedTensors: quantizedTensors, passLog: passLog, sparse: sparse)
    }
}

extension TFLiteConverter {
    /// `graph` lowered op by op through `LoweringTable`, shapes as they stand.
    static func lower(_ graph: Graph) throws -> TFLiteModel {
        let context = LoweringContext(graph: graph)
        let model = context.model
        model.inputs = graph.inputs.map(context.tensor(for:))
        for op in graph.ops { try LoweringTable.lower(op, in: context) }
        model.outputs = graph.outputs.map(context.tensor(for:))
        model.signatureInputs = zip(graph.inputs, model.inputs).map { ($0.name, $1) }
        model.signatureOutputs = zip(graph.modelOutputNames, model.outputs).map { ($0, $1) }
        model.description = "keraslite" + (graph.metadata["keras_version"].map { " from Keras \($0)" } ?? "")
        return model
    }

    /// The float model lowered again with the batch left dynamic, when the converted one has a
    /// fixed batch and the two have the same tensors in the same order (so a range calibrated on
    /// one is the other's by index); nil otherwise. The graph's shapes are restored before returning.
    static func batchFreeView(of graph: Graph, matching model: TFLiteModel, options: Options) throws -> TFLiteFile? {
        guard options.batch != nil, graph.inputs.allSatisfy({ !$0.shape.isEmpty }) else { return nil }
        defer { try? graph.setBatch(options.batch) }
        guard (try? graph.setBatch(nil)) != nil, let batchFree = try? lower(graph) else { return nil }
        try WeightQuantizer(options: options.quantization).apply(to: batchFree)
        guard batchFree.tensors.map(\.name) == model.tensors.map(\.name),
              batchFree.inputs == model.inputs, batchFree.outputs == model.outputs else { return nil }
        return try TFLiteFile(model: batchFree, path: "float model")
    }
}

/// The oldest TensorFlow Lite runtime that has each builtin keraslite emits (version 1 of the op,
/// from TensorFlow's release notes and op_version.cc); the model's min_runtime_version is the newest.
enum RuntimeVersions {
    static let table: [BuiltinOperator: String] = [
        .LEAKY_RELU: "1.14.0", .HARD_SWISH: "1.15.0", .SELECT_V2: "2.2.0", .GELU: "2.9.0", .ELU: "1.14.0",
        .REDUCE_MAX: "1.11.0", .RSQRT: "1.10.0", .LOG_SOFTMAX: "1.5.0", .TRANSPOSE_CONV: "1.9.0", .TILE: "1.10.0",
        .PRELU: "1.9.0", .MINIMUM: "1.9.0", .MAXIMUM: "1.9.0", .GREATER: "1.14.0", .ABS: "1.14.0", .NEG: "1.9.0",
        .RESIZE_NEAREST_NEIGHBOR: "1.13.0", .SLICE: "1.14.0", .QUANTIZE: "1.14.0", .DEQUANTIZE: "1.13.1",
        .DENSIFY: "2.2.0", .CONV_3D: "2.5.0", .CONV_3D_TRANSPOSE: "2.5.0", .UNIDIRECTIONAL_SEQUENCE_LSTM: "1.13.1", .REVERSE_V2: "1.14.0",
    ]

    /// Versions above 1 that keraslite writes (TensorFlow's runtime_version.cc).
    static let versioned: [String: String] = [
        "CONV_2D/5": "2.4.0", "DEPTHWISE_CONV_2D/6": "2.3.0", "FULLY_CONNECTED/12": "2.17.0", "FULLY_CONNECTED/8": "2.3.0", "DEQUANTIZE/3": "1.15.0",
        // int8 kernels (full-integer quantization)
        "CONV_2D/3": "1.14.0", "DEPTHWISE_CONV_2D/3": "1.14.0", "FULLY_CONNECTED/4": "1.14.0", "FULLY_CONNECTED/5": "2.0.0",
        "TRANSPOSE_CONV/3": "2.3.0", "ADD/2": "1.14.0", "SUB/2": "1.14.0", "MUL/2": "1.14.0", "MEAN/2": "1.14.0",
        "RELU/2": "2.1.0", "RELU6/2": "1.14.0", "LEAKY_RELU/2": "2.3.0", "CONCATENATION/2": "1.14.0",
        "MAXIMUM/2": "1.14.0", "MINIMUM/2": "1.14.0", "MAX_POOL_2D/2": "1.14.0", "AVERAGE_POOL_2D/2": "1.14.0",
        "TRANSPOSE/2": "1.14.0", "PAD/2": "1.14.0", "SLICE/2": "1.14.0", "TILE/2": "2.2.0", "REDUCE_MAX/2": "1.14.0",
        "RESIZE_BILINEAR/2": "1.14.0", "RESIZE_BILINEAR/3": "2.2.0", "RESIZE_NEAREST_NEIGHBOR/2": "1.14.0",
        "RESIZE_NEAREST_NEIGHBOR/3": "2.3.0", "SOFTMAX/2": "1.14.0", "LOGISTIC/2": "1.14.0", "TANH/2": "1.14.0",
        "LOG_SOFTMAX/2": "1.14.0", "QUANTIZE/2": "1.15.0", "DEQUANTIZE/2": "1.14.0",
        "GELU/2": "2.9.0",
        // hybrid UNIDIRECTIONAL_SEQUENCE_LSTM (int8 weights; 3: asymmetric_quantize_inputs)
        "UNIDIRECTIONAL_SEQUENCE_LSTM/2": "1.14.0", "UNIDIRECTIONAL_SEQUENCE_LSTM/3": "2.3.0",
    ]

    static func minimum(for operators: [(code: BuiltinOperator, version: Int32)]) -> String {
        var newest = [1, 5, 0]
        for (op, opVersion) in operators {
            let runtime = opVersion > 1 ? versioned["\(op)/\(opVersion)"] : table[op]
            guard let version = runtime?.split(separator: ".").compactMap({ Int($0) }) else { continue }
            if version.lexicographicallyPrecedes(newest) == false { newest = version }
        }
        return newest.map(String.init).joined(separator: ".")
    }
}
