import FlatBuffers
import Foundation

/// A `.tflite` file read through the verifying FlatBuffer reader: subgraphs, tensors, operators,
/// buffers (inline or in the offset/size form placed after the FlatBuffer), signature defs and
/// metadata. The file is memory-mapped; weight bytes are read only when asked for.
public struct TFLiteFile: @unchecked Sendable {
    public struct Quantization: Sendable, Equatable {
        public var scales: [Float]
        public var zeroPoints: [Int64]
        public var quantizedDimension: Int
    }

    public struct TensorInfo: Sendable {
        public var index: Int
        public var name: String
        public var shape: [Int]
        public var shapeSignature: [Int]?
        public var type: String
        /// Bytes per element of `type` (0 for strings and sub-byte types).
        public var elementBytes: Int
        public var buffer: Int
        /// Bytes of constant data behind the tensor (0 for activations).
        public var dataBytes: Int
        public var quantization: Quantization?
        public var isVariable: Bool
        public var isSparse: Bool { sparsity != nil }
        /// The sparse encoding of a constant stored sparse (the buffer holds only the kept values).
        public var sparsity: TFLiteSparsity?

        /// Elements the shape holds (`Int.max` if that overflows; the reader rejects such shapes).
        public var elementCount: Int { TFLiteFile.elementCount(shape) ?? Int.max }
        public var isConstant: Bool { dataBytes > 0 }
    }

    public struct OperatorInfo: Sendable {
        public var index: Int
        /// The builtin name as the schema spells it (`CONV_2D`), or `CUSTOM:<code>` for custom ops.
        public var name: String
        public var isCustom: Bool
        public var version: Int
        public var inputs: [Int]
        public var outputs: [Int]
        /// The options table type (`Conv2DOptions`) and its decoded common fields.
        public var optionsType: String?
        public var options: [(String, String)]
        /// The options table itself, for readers that need every field (the TFLite executor);
        /// its accessors are bounds-checked like the rest of the file.
        public var optionsTable: FlatBufferReader.Table? = nil
    }

    public struct SubgraphInfo: Sendable {
        public var name: String
        public var tensors: [TensorInfo]
        public var operators: [OperatorInfo]
        public var inputs: [Int]
        public var outputs: [Int]
    }

    public struct SignatureInfo: Sendable {
        public var key: String
        public var subgraph: Int
        public var inputs: [(name: String, tensor: Int)]
        public var outputs: [(name: String, tensor: Int)]
    }

    public var path: String
    public var sizeBytes: Int
    public var version: Int
    public var description: String?
    public var subgraphs: [SubgraphInfo]
    public var signatures: [SignatureInfo]
    public var metadata: [(name: String, bytes: Int)]
    public var minRuntimeVersion: String?
    /// Bytes of all buffers (inline and offset/size form).
    public var bufferBytes: Int
    /// Where buffer bytes come from: the mapped file, or the constants of a lowered model.
    enum BufferStorage {
        case file(FlatBufferReader, [Range<Int>?])
        case model([TFLiteModel.BufferEntry])
    }
    let bufferStorage: BufferStorage

    /// Cheap detection: the `TFL3` identifier at bytes 4..<8.
    public static func hasIdentifier(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return head.count == 8 && Array(head[4..<8]) == Array(Schema.fileIdentifier.utf8)
    }

    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw FlatBufferError.invalid("cannot read the file (\(error.localizedDescription))")
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String) throws {
        self.path = path
        sizeBytes = data.count
        let reader = try FlatBufferReader(data: data, fileIdentifier: Schema.fileIdentifier)
        let model = try reader.root()
        version = Int(try model.scalar(Field.Model.version, default: UInt32(0)))
        description = try model.string(Field.Model.description)

        // Buffers: inline data, or (large models) offset/size into the file after the FlatBuffer.
        var ranges: [Range<Int>?] = []
        for buffer in try model.tables(Field.Model.buffers) ?? [] {
            if let bytes = try buffer.bytes(Field.Buffer.data) {
                ranges.append(bytes.startIndex..<bytes.endIndex)
            } else {
                let offset = try buffer.scalar(Field.Buffer.offset, default: UInt64(0))
                let size = try buffer.scalar(Field.Buffer.size, default: UInt64(0))
                if offset > 1, size > 0 {
                    guard offset <= UInt64(data.count), size <= UInt64(data.count) - offset else {
                        throw FlatBufferError.invalid(
                            "buffer \(ranges.count) of \(size) bytes at byte \(offset) lies outside the \(data.count)-byte file")
                    }
                    ranges.append(Int(offset)..<Int(offset + size))
                } else {
                    ranges.append(nil)
                }
            }
        }
        bufferStorage = .file(reader, ranges)
        // Buffers may overlap or repeat: the sum is of sizes, saturating rather than trapping.
        bufferBytes = ranges.reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range?.count ?? 0)
            return overflow ? Int.max : sum
        }

        var opcodes: [(name: String, custom: Bool, version: Int)] = []
        for code in try model.tables(Field.Model.operator_codes) ?? [] {
            let deprecated = Int32(try code.scalar(Field.OperatorCode.deprecated_builtin_code, default: Int8(0)))
            let builtin = max(deprecated, try code.scalar(Field.OperatorCode.builtin_code, default: Int32(0)))
            let version = Int(try code.scalar(Field.OperatorCode.version, default: Int32(1)))
            if builtin == BuiltinOperator.CUSTOM.rawValue {
                opcodes.append(("CUSTOM:" + (try code.string(Field.OperatorCode.custom_code) ?? "?"), true, version))
            } else {
                opcodes.append((BuiltinOperator(rawValue: builtin).map { "\($0)" } ?? "BUILTIN_\(builtin)", false, version))
            }
        }

        var subgraphs: [SubgraphInfo] = []
        for subgraph in try model.tables(Field.Model.subgraphs) ?? [] {
            var tensors: [TensorInfo] = []
            for (index, tensor) in (try subgraph.tables(Field.SubGraph.tensors) ?? []).enumerated() {
                let shape = try Self.dimensions(tensor, Field.Tensor.shape, what: "tensor \(index) shape", smallest: 0) ?? []
                guard let elements = Self.elementCount(shape), elements <= Self.maximumElements else {
                    throw FlatBufferError.invalid(
                        "tensor \(index) has an impossible shape \(shape): over \(Self.maximumElements) elements")
                }
                let typeCode = try tensor.scalar(Field.Tensor.type, default: Int8(0))
                let type = TensorType(rawValue: typeCode)
                let buffer = Int(try tensor.scalar(Field.Tensor.buffer, default: UInt32(0)))
                guard buffer < max(ranges.count, 1) else {
                    throw FlatBufferError.invalid("tensor \(index) refers to buffer \(buffer) of \(ranges.count)")
                }
                var quantization: Quantization?
                if let parameters = try tensor.table(Field.Tensor.quantization),
                   let scales = try parameters.floats(Field.QuantizationParameters.scale), !scales.isEmpty {
                    let axis = Int(try parameters.scalar(Field.QuantizationParameters.quantized_dimension, default: Int32(0)))
                    // Per-channel parameters run along one of the tensor's dimensions.
                    guard scales.count == 1 || shape.indices.contains(axis) else {
                        throw FlatBufferError.invalid(
                            "tensor \(index) is quantized along dimension \(axis), outside its \(shape.count) dimensions")
                    }
                    quantization = Quantization(
                        scales: scales,
                        zeroPoints: try parameters.scalars(Field.QuantizationParameters.zero_point, as: Int64.self) ?? [],
                        quantizedDimension: axis)
                }
                tensors.append(TensorInfo(
                    index: index, name: try tensor.string(Field.Tensor.name) ?? "", shape: shape,
                    shapeSignature: try Self.dimensions(tensor, Field.Tensor.shape_signature,
                                                        what: "tensor \(index) shape signature", smallest: -1),
                    type: type.map { "\($0)".lowercased() } ?? "type\(typeCode)", elementBytes: type?.byteWidth ?? 0,
                    buffer: buffer, dataBytes: ranges.indices.contains(buffer) ? (ranges[buffer]?.count ?? 0) : 0,
                    quantization: quantization, isVariable: try tensor.bool(Field.Tensor.is_variable, default: false),
                    sparsity: try tensor.table(Field.Tensor.sparsity).map(TFLiteSparsity.init(table:))))
            }
            func checkedIndices(_ values: [Int32]?, what: String) throws -> [Int] {
                try (values ?? []).map { value in
                    guard value >= -1, Int(value) < tensors.count else {
                        throw FlatBufferError.invalid("\(what) refers to tensor \(value) of \(tensors.count)")
                    }
                    return Int(value)
                }
            }
            var operators: [OperatorInfo] = []
            for (index, op) in (try subgraph.tables(Field.SubGraph.operators) ?? []).enumerated() {
                let opcode = Int(try op.scalar(Field.Operator.opcode_index, default: UInt32(0)))
                guard opcode < opcodes.count else {
                    throw FlatBufferError.invalid("operator \(index) uses operator code \(opcode) of \(opcodes.count)")
                }
                let optionsCode = try op.scalar(Field.Operator.builtin_options_type, default: UInt8(0))
                let optionsType = BuiltinOptions(rawValue: optionsCode).flatMap { $0 == .NONE ? nil : "\($0)" }
                let inputs = try checkedIndices(op.scalars(Field.Operator.inputs, as: Int32.self), what: "operator \(index)")
                let outputs = try checkedIndices(op.scalars(Field.Operator.outputs, as: Int32.self), what: "operator \(index)")
                let optionsTable = try op.table(Field.Operator.builtin_options)
                operators.append(OperatorInfo(
                    index: index, name: opcodes[opcode].name, isCustom: opcodes[opcode].custom, version: opcodes[opcode].version,
                    inputs: inputs, outputs: outputs, optionsType: optionsType,
                    options: try OptionsDecoder.decode(optionsType, optionsTable),
                    optionsTable: optionsTable))
            }
            subgraphs.append(SubgraphInfo(
                name: try subgraph.string(Field.SubGraph.name) ?? "", tensors: tensors, operators: operators,
                inputs: try checkedIndices(subgraph.scalars(Field.SubGraph.inputs, as: Int32.self), what: "subgraph inputs"),
                outputs: try checkedIndices(subgraph.scalars(Field.SubGraph.outputs, as: Int32.self), what: "subgraph outputs")))
        }
        self.subgraphs = subgraphs

        signatures = try (model.tables(Field.Model.signature_defs) ?? []).map { signature in
            func maps(_ id: Int) throws -> [(name: String, tensor: Int)] {
                try (signature.tables(id) ?? []).map {
                    (try $0.string(Field.TensorMap.name) ?? "", Int(try $0.scalar(Field.TensorMap.tensor_index, default: UInt32(0))))
                }
            }
            return SignatureInfo(key: try signature.string(Field.SignatureDef.signature_key) ?? "",
                                 subgraph: Int(try signature.scalar(Field.SignatureDef.subgraph_index, default: UInt32(0))),
                                 inputs: try maps(Field.SignatureDef.inputs), outputs: try maps(Field.SignatureDef.outputs))
        }
        var metadata: [(String, Int)] = []
        var runtime: String?
        for entry in try model.tables(Field.Model.metadata) ?? [] {
            let name = try entry.string(Field.Metadata.name) ?? ""
            let buffer = Int(try entry.scalar(Field.Metadata.buffer, default: UInt32(0)))
            let range = ranges.indices.contains(buffer) ? ranges[buffer] : nil
            metadata.append((name, range?.count ?? 0))
            if name == "min_runtime_version", let range {
                runtime = String(decoding: reader.bytes[range].prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        self.metadata = metadata
        minRuntimeVersion = runtime
    }

    /// Most dimensions a tensor may have (TFLite kernels handle at most 6; 16 leaves room).
    public static let maximumRank = 16
    /// Most elements a tensor may hold: 2^40, far beyond any real model, small enough that
    /// sizes and MAC counts computed from shapes stay well inside `Int`.
    public static let maximumElements = 1 << 40

    /// The product of `shape`, or nil when it overflows `Int` or a dimension is negative.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else { return nil }
            count = product
        }
        return count
    }

    /// A shape vector: at most `maximumRank` entries (checked before reading them), none below `smallest`.
    static func dimensions(_ table: FlatBufferReader.Table, _ field: Int, what: String, smallest: Int) throws -> [Int]? {
        guard let (_, count) = try table.vectorRange(field, elementWidth: 4) else { return nil }
        guard count <= maximumRank else {
            throw FlatBufferError.invalid("\(what) has \(count) dimensions, more than \(maximumRank)")
        }
        let dimensions = (try table.scalars(field, as: Int32.self) ?? []).map(Int.init)
        if let bad = dimensions.first(where: { $0 < smallest }) {
            throw FlatBufferError.invalid("\(what) \(dimensions) has the impossible dimension \(bad)")
        }
        return dimensions
    }

    /// The raw bytes of buffer `index` (a slice of the mapped file, or a lowered model's constant
    /// produced on demand), or nil when it holds none.
    public func bufferData(_ index: Int) -> Data? {
        switch bufferStorage {
        case .file(let reader, let ranges):
            guard ranges.indices.contains(index), let range = ranges[index] else { return nil }
            return reader.bytes[range]
        case .model(let buffers):
            guard buffers.indices.contains(index), buffers[index].byteCount > 0,
                  let contents = try? buffers[index].contents() else { return nil }
            return contents.withUnsafeBytes { Data($0) }
        }
    }

    /// Whether buffer `index` holds bytes (without producing a lowered model's constant).
    public func hasBufferData(_ index: Int) -> Bool {
        switch bufferStorage {
        case .file(_, let ranges): return ranges.indices.contains(index) && ranges[index] != nil
        case .model(let buffers): return buffers.indices.contains(index) && buffers[index].byteCount > 0
        }
    }

    /// The float32 values of buffer `index` of a lowered model, in their final layout, made without
    /// the byte copy `bufferData` returns (one reordering for weights still in their Keras layout);
    /// nil for a file read from disk and for buffers that hold no floats.
    public func modelFloats(_ index: Int) -> [Float]? {
        guard case .model(let buffers) = bufferStorage, buffers.indices.contains(index), buffers[index].byteCount > 0,
              let contents = try? buffers[index].contents() else { return nil }
        switch contents {
        case .floats, .permuted: return try? contents.floatValues()
        default: return nil
        }
    }
}

extension TensorType {
    /// Bytes per element; 0 for variable-size and sub-byte types.
    public var byteWidth: Int {
        switch self {
        case .FLOAT64, .INT64, .UINT64, .COMPLEX64: return 8
        case .COMPLEX128: return 16
        case .FLOAT32, .INT32, .UINT32: return 4
        case .FLOAT16, .INT16, .UINT16, .BFLOAT16: return 2
        case .INT8, .UINT8, .BOOL, .FLOAT8_E4M3FN, .FLOAT8_E5M2: return 1
        default: return 0
        }
    }
}

/// Decodes the commonly inspected option fields into (name, value) text pairs, by options type.
enum OptionsDecoder {
    static func decode(_ type: String?, _ table: FlatBufferReader.Table?) throws -> [(String, String)] {
        guard let type, let table else { return [] }
        func padding(_ id: Int) throws -> String { try table.scalar(id, default: Int8(0)) == 0 ? "SAME" : "VALID" }
        func activation(_ id: Int) throws -> String {
            ActivationFunctionType(rawValue: try table.scalar(id, default: Int8(0))).map { "\($0)" } ?? "?"
        }
        func int(_ id: Int, _ fallback: Int32 = 0) throws -> String { String(try table.scalar(id, default: fallback)) }
        switch type {
        case "Conv2DOptions":
            return [("padding", try padding(Field.Conv2DOptions.padding)),
                    ("stride", "\(try int(Field.Conv2DOptions.stride_h))×\(try int(Field.Conv2DOptions.stride_w))"),
                    ("dilation", "\(try int(Field.Conv2DOptions.dilation_h_factor, 1))×\(try int(Field.Conv2DOptions.dilation_w_factor, 1))"),
                    ("activation", try activation(Field.Conv2DOptions.fused_activation_function))]
        case "DepthwiseConv2DOptions":
            return [("padding", try padding(Field.DepthwiseConv2DOptions.padding)),
                    ("stride", "\(try int(Field.DepthwiseConv2DOptions.stride_h))×\(try int(Field.DepthwiseConv2DOptions.stride_w))"),
                    ("multiplier", try int(Field.DepthwiseConv2DOptions.depth_multiplier)),
                    ("activation", try activation(Field.DepthwiseConv2DOptions.fused_activation_function))]
        case "Pool2DOptions":
            return [("padding", try padding(Field.Pool2DOptions.padding)),
                    ("filter", "\(try int(Field.Pool2DOptions.filter_height))×\(try int(Field.Pool2DOptions.filter_width))"),
                    ("stride", "\(try int(Field.Pool2DOptions.stride_h))×\(try int(Field.Pool2DOptions.stride_w))"),
                    ("activation", try activation(Field.Pool2DOptions.fused_activation_function))]
        case "FullyConnectedOptions":
            return [("activation", try activation(Field.FullyConnectedOptions.fused_activation_function)),
                    ("keep_num_dims", String(try table.bool(Field.FullyConnectedOptions.keep_num_dims, default: false)))]
        case "UnidirectionalSequenceLSTMOptions":
            return [("activation", try activation(Field.UnidirectionalSequenceLSTMOptions.fused_activation_function)),
                    ("cell_clip", String(try table.float(Field.UnidirectionalSequenceLSTMOptions.cell_clip, default: 0))),
                    ("time_major", String(try table.bool(Field.UnidirectionalSequenceLSTMOptions.time_major, default: false)))]
        case "AddOptions": return [("activation", try activation(Field.AddOptions.fused_activation_function))]
        case "MulOptions": return [("activation", try activation(Field.MulOptions.fused_activation_function))]
        case "SubOptions": return [("activation", try activation(Field.SubOptions.fused_activation_function))]
        case "ConcatenationOptions": return [("axis", try int(Field.ConcatenationOptions.axis))]
        case "SoftmaxOptions": return [("beta", String(try table.float(Field.SoftmaxOptions.beta, default: 0)))]
        case "ReducerOptions": return [("keep_dims", String(try table.bool(Field.ReducerOptions.keep_dims, default: false)))]
        case "LeakyReluOptions": return [("alpha", String(try table.float(Field.LeakyReluOptions.alpha, default: 0)))]
        case "TransposeConvOptions":
            return [("padding", try padding(Field.TransposeConvOptions.padding)),
                    ("stride", "\(try int(Field.TransposeConvOptions.stride_h))×\(try int(Field.TransposeConvOptions.stride_w))")]
        default: return []
        }
    }
}
