import FlatBuffers

/// A TFLite model being assembled: one subgraph's tensors and operators, the buffers holding
/// constants, operator codes, and the signature. Serialized by `serialize()`.
final class TFLiteModel {
    struct TensorEntry {
        var name: String
        var shape: [Int32]
        /// Present when a dimension is dynamic (-1 there).
        var shapeSignature: [Int32]?
        var type: TensorType
        var buffer: UInt32
        /// Scales and zero points of a quantized tensor (filled at the latest when its buffer is written).
        var quantization: QuantizationParameters? = nil
        /// A state the operator reading it keeps between invocations (UNIDIRECTIONAL_SEQUENCE_LSTM's
        /// output and cell states): no buffer, zeros until the runtime writes it.
        var isVariable = false
        /// A constant stored sparse (`--sparse`): its buffer holds only the values the encoding keeps.
        var sparsity: TFLiteSparsity? = nil
    }

    struct OperatorEntry {
        var opcodeIndex: UInt32
        var inputs: [Int32]
        var outputs: [Int32]
        var optionsType: BuiltinOptions
        var options: ((inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset)?
        /// FULLY_CONNECTED's options, kept so weight quantization can rewrite them (hybrid kernels).
        var fullyConnected: (activation: ActivationFunctionType, keepNumDims: Bool)? = nil
        /// UNIDIRECTIONAL_SEQUENCE_LSTM's cell activation, kept for the same reason.
        var sequenceLSTM: ActivationFunctionType? = nil
        /// The Keras layers of the IR op this operator was lowered from (`--keep-float` selects by
        /// them); empty for operators quantization inserts. Not written to the file.
        var layers: [String] = []
    }

    /// Constant data, produced only when the buffer is written so big weights are not held twice.
    struct BufferEntry {
        var byteCount: Int
        var contents: () throws -> Contents
    }

    /// A buffer's values, written to the file from their own memory without another copy.
    enum Contents {
        case floats([Float])
        case int32s([Int32])
        case bytes([UInt8])
        /// Values that are reordered straight into the file buffer (weight layout changes).
        case permuted([Float], shape: [Int], permutation: [Int])

        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch self {
            case .floats(let values): return try values.withUnsafeBytes(body)
            case .int32s(let values): return try values.withUnsafeBytes(body)
            case .bytes(let values): return try values.withUnsafeBytes(body)
            case .permuted(let values, let shape, let permutation):
                return try permute(values, shape: shape, permutation).withUnsafeBytes(body)
            }
        }
    }

    var tensors: [TensorEntry] = []
    var operators: [OperatorEntry] = []
    /// Buffer 0 is the empty sentinel every TFLite file starts with.
    var buffers: [BufferEntry] = [BufferEntry(byteCount: 0, contents: { .bytes([]) })]
    var operatorCodes: [(code: BuiltinOperator, version: Int32)] = []
    var inputs: [Int32] = []
    var outputs: [Int32] = []
    var signatureInputs: [(name: String, tensor: Int32)] = []
    var signatureOutputs: [(name: String, tensor: Int32)] = []
    var description = "keraslite"
    var minRuntimeVersion = "1.5.0"

    func opcodeIndex(_ code: BuiltinOperator, version: Int32 = 1) -> UInt32 {
        if let index = operatorCodes.firstIndex(where: { $0.code == code && $0.version == version }) { return UInt32(index) }
        operatorCodes.append((code, version))
        return UInt32(operatorCodes.count - 1)
    }

    var constantBytes: Int { buffers.reduce(0) { $0 + $1.byteCount } }

    /// Buffers of at most this many bytes with identical contents share one data vector in the file.
    static let sharedVectorLimit = 1 << 16

    /// A small buffer's bytes as a dictionary key, hashed as one block (an array of UInt8 hashes
    /// byte by byte: ~7 ms of a ResNet50 int8 conversion's serial tail).
    struct ByteKey: Hashable {
        let bytes: [UInt8]
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = Array(bytes) }
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    /// Drops operator codes no operator uses any more (after a rewrite changed op versions).
    func pruneOperatorCodes() {
        let used = Set(operators.map(\.opcodeIndex))
        var remap: [UInt32: UInt32] = [:]
        var kept: [(code: BuiltinOperator, version: Int32)] = []
        for (index, code) in operatorCodes.enumerated() where used.contains(UInt32(index)) {
            remap[UInt32(index)] = UInt32(kept.count)
            kept.append(code)
        }
        operatorCodes = kept
        for index in operators.indices { operators[index].opcodeIndex = remap[operators[index].opcodeIndex]! }
    }

    /// The FlatBuffer bytes (schema version 3, identifier TFL3), constant buffers 16-byte aligned.
    func serialize() throws -> [UInt8] { try serializedFile().bytes() }

    /// The FlatBuffer as a file to write: the metadata built in memory, every constant buffer over
    /// `sharedVectorLimit` bytes produced from its `contents` only as the file is written — one at
    /// a time, at its final offset — so a model's weights are never all in memory at once.
    func serializedFile() throws -> FlatBufferFile {
        guard constantBytes >= Self.inlineLimit else { return try serializedFile(external: nil) }
        // Over 2 GB: buffers over sharedVectorLimit go after the FlatBuffer as offset/size, as
        // TensorFlow writes large models. Offsets are u64 fields whatever their value, so a first
        // build with placeholders has the final FlatBuffer size.
        let large = buffers.indices.filter { buffers[$0].byteCount > Self.sharedVectorLimit }
        let placeholders = Dictionary(uniqueKeysWithValues: large.map { ($0, UInt64(1)) })
        let first = try serializedFile(external: placeholders)
        var position = first.flatBufferSize
        var offsets: [Int: UInt64] = [:], segments: [FlatBufferFile.Appended] = []
        for index in large {
            position = (position + 63) / 64 * 64  // as TensorFlow aligns them
            offsets[index] = UInt64(position)
            let buffer = buffers[index]
            segments.append(.init(position: position, count: buffer.byteCount) { sink in
                try Self.stream(try buffer.contents(), byteCount: buffer.byteCount, to: sink)
            })
            position += buffer.byteCount
        }
        let file = try serializedFile(external: offsets)
        guard file.flatBufferSize == first.flatBufferSize else {
            throw FlatBufferError.invalid("the FlatBuffer changed size (\(first.flatBufferSize) → \(file.flatBufferSize)) when its buffer offsets were set")
        }
        return try file.appending(segments)
    }

    /// Constant bytes above which buffers are stored after the FlatBuffer (its 32-bit offsets
    /// reach 2 GB; 64 MB is left for the metadata).
    static let inlineLimit = FlatBufferBuilder.maximumSize - (64 << 20)

    /// The file with the buffers in `external` (index → file offset) as offset/size tables.
    private func serializedFile(external: [Int: UInt64]?) throws -> FlatBufferFile {
        var builder = FlatBufferBuilder(initialCapacity: buffers.count * 32 + (1 << 20))
        // Buffers first: built back to front, they land at the end of the file, as TensorFlow places them.
        var bufferOffsets: [FlatBufferBuilder.Offset] = []
        // Small buffers with identical bytes (zero biases of an untrained model, repeated shape
        // constants) share one data vector, as TensorFlow's converter does.
        var sharedVectors: [ByteKey: FlatBufferBuilder.Offset] = [:]
        for (index, buffer) in buffers.enumerated().reversed() {
            guard buffer.byteCount > 0 else {
                bufferOffsets.append(try Self.bufferTable(nil, in: &builder))
                continue
            }
            if let offset = external?[index] {
                builder.startTable()
                try builder.add(Field.Buffer.offset, offset, default: 0)
                try builder.add(Field.Buffer.size, UInt64(buffer.byteCount), default: 0)
                bufferOffsets.append(try builder.endTable())
                continue
            }
            guard buffer.byteCount <= Self.sharedVectorLimit else {
                let vector = try builder.deferByteVector(count: buffer.byteCount, alignment: 16) { sink in
                    try Self.stream(try buffer.contents(), byteCount: buffer.byteCount, to: sink)
                }
                bufferOffsets.append(try Self.bufferTable(vector, in: &builder))
                continue
            }
            let contents = try buffer.contents()
            if case .permuted = contents {  // reordered weights are not shared (their bytes are not compared)
                let vector = try builder.createByteVector(count: buffer.byteCount, alignment: 16) { destination in
                    try Self.write(contents, byteCount: buffer.byteCount, into: destination)
                }
                bufferOffsets.append(try Self.bufferTable(vector, in: &builder))
                continue
            }
            let vector = try contents.withUnsafeBytes { bytes -> FlatBufferBuilder.Offset in
                guard bytes.count == buffer.byteCount else {
                    throw FlatBufferError.invalid("a constant holds \(bytes.count) bytes, its tensor needs \(buffer.byteCount)")
                }
                let key = ByteKey(bytes)
                if let shared = sharedVectors[key] { return shared }
                let offset = try builder.createByteVector(bytes, alignment: 16)
                sharedVectors[key] = offset
                return offset
            }
            bufferOffsets.append(try Self.bufferTable(vector, in: &builder))
        }
        bufferOffsets.reverse()

        var tensorOffsets: [FlatBufferBuilder.Offset] = []
        for tensor in tensors {
            let name = try builder.createString(tensor.name)
            let shape = try builder.createVector(tensor.shape)
            let signature = try tensor.shapeSignature.map { try builder.createVector($0) }
            var quantization: FlatBufferBuilder.Offset?
            if let parameters = tensor.quantization {
                let scales = try builder.createVector(parameters.scales)
                let zeroPoints = try builder.createVector(parameters.zeroPoints)
                builder.startTable()
                try builder.add(Field.QuantizationParameters.scale, scales)
                try builder.add(Field.QuantizationParameters.zero_point, zeroPoints)
                try builder.add(Field.QuantizationParameters.quantized_dimension, Int32(parameters.axis), default: 0)
                quantization = try builder.endTable()
            }
            let sparsity = try tensor.sparsity.map { try $0.serialize(in: &builder) }
            builder.startTable()
            try builder.add(Field.Tensor.shape, shape)
            try builder.add(Field.Tensor.type, tensor.type.rawValue, default: 0)
            try builder.add(Field.Tensor.buffer, tensor.buffer, default: 0)
            try builder.add(Field.Tensor.name, name)
            try builder.add(Field.Tensor.quantization, quantization)
            try builder.add(Field.Tensor.is_variable, tensor.isVariable, default: false)
            try builder.add(Field.Tensor.sparsity, sparsity)
            try builder.add(Field.Tensor.shape_signature, signature)
            tensorOffsets.append(try builder.endTable())
        }

        var operatorOffsets: [FlatBufferBuilder.Offset] = []
        for op in operators {
            let inputs = try builder.createVector(op.inputs)
            let outputs = try builder.createVector(op.outputs)
            let options = try op.options.map { try $0(&builder) }
            builder.startTable()
            try builder.add(Field.Operator.opcode_index, op.opcodeIndex, default: 0)
            try builder.add(Field.Operator.inputs, inputs)
            try builder.add(Field.Operator.outputs, outputs)
            if options != nil {
                try builder.add(Field.Operator.builtin_options_type, op.optionsType.rawValue, default: 0)
                try builder.add(Field.Operator.builtin_options, options)
            }
            operatorOffsets.append(try builder.endTable())
        }

        let subgraphName = try builder.createString("main")
        let tensorVector = try builder.createVector(tensorOffsets)
        let inputVector = try builder.createVector(inputs)
        let outputVector = try builder.createVector(outputs)
        let operatorVector = try builder.createVector(operatorOffsets)
        builder.startTable()
        try builder.add(Field.SubGraph.tensors, tensorVector)
        try builder.add(Field.SubGraph.inputs, inputVector)
        try builder.add(Field.SubGraph.outputs, outputVector)
        try builder.add(Field.SubGraph.operators, operatorVector)
        try builder.add(Field.SubGraph.name, subgraphName)
        let subgraph = try builder.endTable()

        var codeOffsets: [FlatBufferBuilder.Offset] = []
        for (code, version) in operatorCodes {
            builder.startTable()
            // Codes above 127 do not fit the deprecated byte field; readers then use builtin_code.
            try builder.add(Field.OperatorCode.deprecated_builtin_code, Int8(min(code.rawValue, 127)), default: 0)
            try builder.add(Field.OperatorCode.version, version, default: 1)
            try builder.add(Field.OperatorCode.builtin_code, code.rawValue, default: 0)
            codeOffsets.append(try builder.endTable())
        }

        func tensorMaps(_ entries: [(name: String, tensor: Int32)]) throws -> FlatBufferBuilder.Offset {
            var maps: [FlatBufferBuilder.Offset] = []
            for entry in entries {
                let name = try builder.createString(entry.name)
                builder.startTable()
                try builder.add(Field.TensorMap.name, name)
                try builder.add(Field.TensorMap.tensor_index, UInt32(entry.tensor), default: 0)
                maps.append(try builder.endTable())
            }
            return try builder.createVector(maps)
        }
        let signatureInputVector = try tensorMaps(signatureInputs)
        let signatureOutputVector = try tensorMaps(signatureOutputs)
        let signatureKey = try builder.createString("serving_default")
        builder.startTable()
        try builder.add(Field.SignatureDef.inputs, signatureInputVector)
        try builder.add(Field.SignatureDef.outputs, signatureOutputVector)
        try builder.add(Field.SignatureDef.signature_key, signatureKey)
        try builder.add(Field.SignatureDef.subgraph_index, UInt32(0), default: 0)
        let signature = try builder.endTable()

        // min_runtime_version: a 16-byte zero-padded string in its own buffer, as TensorFlow writes it.
        let runtimeBuffer = bufferOffsets.count
        var runtimeBytes = Array(minRuntimeVersion.utf8)
        runtimeBytes += Array(repeating: 0, count: max(0, 16 - runtimeBytes.count))
        let runtimeVector = try builder.createByteVector(runtimeBytes, alignment: 16)
        bufferOffsets.append(try Self.bufferTable(runtimeVector, in: &builder))
        let metadataName = try builder.createString("min_runtime_version")
        builder.startTable()
        try builder.add(Field.Metadata.name, metadataName)
        try builder.add(Field.Metadata.buffer, UInt32(runtimeBuffer), default: 0)
        let metadata = try builder.endTable()

        let codesVector = try builder.createVector(codeOffsets)
        let subgraphsVector = try builder.createVector([subgraph])
        let descriptionString = try builder.createString(description)
        let buffersVector = try builder.createVector(bufferOffsets)
        let metadataVector = try builder.createVector([metadata])
        let signaturesVector = try builder.createVector([signature])
        builder.startTable()
        try builder.add(Field.Model.version, UInt32(3), default: 0)
        try builder.add(Field.Model.operator_codes, codesVector)
        try builder.add(Field.Model.subgraphs, subgraphsVector)
        try builder.add(Field.Model.description, descriptionString)
        try builder.add(Field.Model.buffers, buffersVector)
        try builder.add(Field.Model.metadata, metadataVector)
        try builder.add(Field.Model.signature_defs, signaturesVector)
        let model = try builder.endTable()
        return try builder.finishFile(root: model, fileIdentifier: "TFL3")
    }

    /// A buffer's contents handed to `sink` from their own memory; reordered weights in blocks of
    /// about 4 MB (rows of the reordered tensor), so only the source values are held whole.
    private static func stream(_ contents: Contents, byteCount: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard case .permuted(let values, let shape, let permutation) = contents else {
            try contents.withUnsafeBytes { bytes in
                guard bytes.count == byteCount else {
                    throw FlatBufferError.invalid("a constant holds \(bytes.count) bytes, its tensor needs \(byteCount)")
                }
                try sink(bytes)
            }
            return
        }
        guard values.count * 4 == byteCount, !shape.isEmpty else {
            throw FlatBufferError.invalid("a constant holds \(values.count * 4) bytes, its tensor needs \(byteCount)")
        }
        // A 2-D transpose (HWIO → OHWI) writes each block of output rows straight from the source.
        if let (rows, columns) = transposeSides(shape, permutation) {
            let step = max(1, (1 << 20) / max(1, rows))
            var block = [Float](repeating: 0, count: min(step, columns) * rows)
            for start in stride(from: 0, to: columns, by: step) {
                let end = min(columns, start + step)
                try block.withUnsafeMutableBufferPointer { block in
                    transpose2D(values, rows: rows, columns: columns, outputRows: start..<end, into: block)
                    try sink(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(block)[0..<((end - start) * rows * 4)]))
                }
            }
            return
        }
        // Output rows [start, end) are the permutation of the source restricted to that range of
        // its axis permutation[0].
        let axis = permutation[0], rows = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        let step = max(1, (1 << 20) / max(1, outer * inner))
        for start in stride(from: 0, to: rows, by: step) {
            let end = min(rows, start + step)
            var slice: [Float] = []
            slice.reserveCapacity(outer * (end - start) * inner)
            for index in 0..<outer {
                let base = (index * rows + start) * inner
                slice.append(contentsOf: values[base..<(base + (end - start) * inner)])
            }
            var sliceShape = shape
            sliceShape[axis] = end - start
            try permute(slice, shape: sliceShape, permutation).withUnsafeBytes { try sink($0) }
        }
    }

    /// A buffer's contents written into its place in the file (exactly `byteCount` bytes).
    private static func write(_ contents: Contents, byteCount: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        if case .permuted(let values, let shape, let permutation) = contents {
            guard values.count * 4 == byteCount else {
                throw FlatBufferError.invalid("a constant holds \(values.count * 4) bytes, its tensor needs \(byteCount)")
            }
            permute(values, shape: shape, permutation, into: destination.bindMemory(to: Float.self))
            return
        }
        try contents.withUnsafeBytes { bytes in
            guard bytes.count == byteCount else {
                throw FlatBufferError.invalid("a constant holds \(bytes.count) bytes, its tensor needs \(byteCount)")
            }
            destination.copyMemory(from: bytes)
        }
    }

    /// A `Buffer` table holding `data` (nil: the empty buffer).
    private static func bufferTable(_ data: FlatBufferBuilder.Offset?, in builder: inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset {
        builder.startTable()
        try builder.add(Field.Buffer.data, data)
        return try builder.endTable()
    }
}
