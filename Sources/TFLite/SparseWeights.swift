/// `convert --sparse`: rewrites a lowered (and quantized) model so that weight constants whose
/// zeros make an encoding smaller are stored with `SparsityParameters`, each in the smallest
/// encoding LiteRT runs — read natively by FULLY_CONNECTED (float32 CSR or 1×4 blocks; full-integer
/// int8 1×16 blocks; op version 8, which XNNPACK leaves to the builtin kernel), or through a DENSIFY
/// operator that expands the constant once at start-up for any other reader (as TensorFlow's
/// converter does for CONV_2D and DEPTHWISE_CONV_2D; XNNPACK densifies these itself and may then
/// run 1×1 convolutions sparse). Lossless: only zero elements are left out (a float's −0 comes back +0).
///
/// Break-even (values + index vectors, before the fixed cost of the tables and of a DENSIFY):
/// CSR stores each kept element with one index of width w (1, 2 or 4 bytes: uint8/uint16/int32,
/// the narrowest that holds the largest column), so it pays once the sparsity exceeds w/(e + w)
/// for e-byte elements — float32 20% / 33% / 50%, float16 33% / 50% / 67%, int8 50% / 67% / 80%;
/// 1×k blocks pay once the fraction of all-zero blocks exceeds w/(k·e + w) (float32 1×4 or int8
/// 1×16 with uint8 indices: 5.9%).
public enum SparseWeights {
    /// Builtins this rewrite may insert (the executor runs them; they are never quantized).
    static let builtins: Set<BuiltinOperator> = [.DENSIFY]

    /// The FULLY_CONNECTED version for sparse weights (op_version.cc); XNNPACK refuses it.
    static let sparseFullyConnectedVersion: Int32 = 8

    /// The operator inputs a sparse constant may feed (through DENSIFY, at least): the weights of
    /// the ops TensorFlow's converter sparsifies, and DEQUANTIZE's input (float16 weights).
    static let weightInputs: [BuiltinOperator: Int] = [
        .FULLY_CONNECTED: 1, .CONV_2D: 1, .DEPTHWISE_CONV_2D: 1, .DEQUANTIZE: 0,
    ]

    /// What `apply` did.
    public struct Summary: Sendable, Equatable {
        /// Constants written sparse, read natively and through DENSIFY.
        public var native = 0
        public var densified = 0
        /// Their dense bytes, and the bytes of their kept values plus index vectors.
        public var denseBytes = 0
        public var sparseBytes = 0
        /// Encodings chosen, e.g. "CSR": 3.
        public var layouts: [String: Int] = [:]

        public var tensors: Int { native + densified }
    }

    /// A candidate encoding and what it costs in the file.
    private struct Candidate {
        var layout: TFLiteSparsity.Layout
        var native: Bool
        var encoding: TFLiteSparsity.Encoding
        var cost: Int
    }

    /// Bytes a DENSIFY adds beyond the sparse constant: its output tensor (name, shape, a copy of
    /// the quantization) and the operator.
    private static func densifyCost(_ tensor: TFLiteModel.TensorEntry) -> Int {
        let quantization = tensor.quantization.map { 40 + 12 * $0.scales.count } ?? 0
        return 112 + tensor.name.utf8.count + 4 * tensor.shape.count + quantization
    }

    static func apply(to model: TFLiteModel) throws -> Summary {
        var summary = Summary()
        var consumers: [Int32: [(op: Int, input: Int)]] = [:]
        for (index, op) in model.operators.enumerated() {
            for (position, input) in op.inputs.enumerated() where input >= 0 { consumers[input, default: []].append((index, position)) }
        }
        var bufferUsers: [UInt32: Int] = [:]
        for tensor in model.tensors where tensor.buffer != 0 { bufferUsers[tensor.buffer, default: 0] += 1 }
        // Dense bytes that cost nothing to keep: a buffer other tensors also read, or small bytes
        // the serializer already shares with another buffer (zero biases of an untrained model).
        var bytesSeen: [TFLiteModel.ByteKey: Int] = [:]
        for buffer in model.buffers where buffer.byteCount > 0 && buffer.byteCount <= TFLiteModel.sharedVectorLimit {
            bytesSeen[try buffer.contents().withUnsafeBytes { TFLiteModel.ByteKey($0) }, default: 0] += 1
        }
        let boundary = Set(model.inputs + model.outputs + model.signatureInputs.map(\.tensor) + model.signatureOutputs.map(\.tensor))
        var densifyOps: [(before: Int, op: TFLiteModel.OperatorEntry)] = []

        for tensorIndex in model.tensors.indices {
            let tensor = model.tensors[tensorIndex]
            let index = Int32(tensorIndex)
            guard tensor.buffer != 0, !tensor.isVariable, tensor.sparsity == nil, !boundary.contains(index),
                  let readers = consumers[index], !readers.isEmpty else { continue }
            let elementBytes: Int
            switch tensor.type {
            case .FLOAT32: elementBytes = 4
            case .FLOAT16: elementBytes = 2
            case .INT8: elementBytes = 1
            default: continue  // DENSIFY's types: float32, float16, int8
            }
            // A left-out element densifies to the raw value 0, which is the real 0 only at zero point 0.
            if let quantization = tensor.quantization, quantization.zeroPoints.contains(where: { $0 != 0 }) { continue }
            let codes = readers.map { model.operatorCodes[Int(model.operators[$0.op].opcodeIndex)].code }
            guard zip(readers, codes).allSatisfy({ weightInputs[$1] == $0.input }) else { continue }
            var layouts: [(TFLiteSparsity.Layout, native: Bool)] = []
            let readable = Set(zip(readers, codes).map { reader, code -> [TFLiteSparsity.Layout] in
                nativeLayouts(model, reader.op, code, tensor)
            })
            if readable.count == 1, let shared = readable.first { layouts += shared.map { ($0, true) } }
            if zip(readers, codes).allSatisfy({ densifyReads(model, $0.op, $1, tensor) }) { layouts.append((.lastDimensionCSR, false)) }
            guard !layouts.isEmpty else { continue }
            let shape = tensor.shape.map(Int.init)
            let count = shape.reduce(1, *)
            let buffer = model.buffers[Int(tensor.buffer)]
            guard count > 0, buffer.byteCount == count * elementBytes else { continue }
            guard bufferUsers[tensor.buffer] == 1 else { continue }
            let bytes = try buffer.contents().withUnsafeBytes { Array($0) }
            guard bytes.count == buffer.byteCount,
                  bytes.count > TFLiteModel.sharedVectorLimit || (bytesSeen[TFLiteModel.ByteKey(bytes)] ?? 0) < 2 else { continue }
            // Zero: every byte 0, or a float's −0 (the sign bit alone: Keras masks multiply, so
            // pruned negative weights are −0), which densifies to +0.
            let isFloat = tensor.type != .INT8
            let isZero: (Int) -> Bool = { element in
                let last = (element + 1) * elementBytes - 1
                return bytes[(element * elementBytes)..<last].allSatisfy { $0 == 0 } && (bytes[last] == 0 || isFloat && bytes[last] == 0x80)
            }
            // A tensor full of nonzeros (the usual case) costs one scan.
            guard (0..<count).contains(where: isZero) else { continue }

            var best: Candidate?
            for (layout, native) in layouts {
                guard let encoding = TFLiteSparsity.encode(shape: shape, layout: layout, isZero: isZero) else { continue }
                let cost = encoding.stored.count * elementBytes + encoding.sparsity.indexBytes + encoding.sparsity.tableBytes
                    + (native ? 0 : densifyCost(tensor))
                if cost < (best?.cost ?? buffer.byteCount) { best = Candidate(layout: layout, native: native, encoding: encoding, cost: cost) }
            }
            guard let chosen = best else { continue }

            var stored = [UInt8]()
            stored.reserveCapacity(chosen.encoding.stored.count * elementBytes)
            for element in chosen.encoding.stored { stored += bytes[(element * elementBytes)..<((element + 1) * elementBytes)] }
            let sparseBuffer = TFLiteModel.BufferEntry(byteCount: stored.count) { .bytes(stored) }
            model.buffers[Int(tensor.buffer)] = sparseBuffer
            model.tensors[tensorIndex].sparsity = chosen.encoding.sparsity
            summary.denseBytes += buffer.byteCount
            summary.sparseBytes += stored.count + chosen.encoding.sparsity.indexBytes
            summary.layouts["\(chosen.layout)", default: 0] += 1

            if chosen.native {
                summary.native += 1
                for reader in readers {
                    model.operators[reader.op].opcodeIndex = model.opcodeIndex(.FULLY_CONNECTED, version: sparseFullyConnectedVersion)
                }
                continue
            }
            summary.densified += 1
            // The readers now read a dense copy that DENSIFY makes once; the constant keeps the
            // weight's name (reports list weights by it).
            var dense = tensor
            dense.buffer = 0
            dense.name = tensor.name + "/densified"
            model.tensors.append(dense)
            let denseIndex = Int32(model.tensors.count - 1)
            for reader in readers { model.operators[reader.op].inputs[reader.input] = denseIndex }
            let first = readers.map(\.op).min()!
            densifyOps.append((first, TFLiteModel.OperatorEntry(
                opcodeIndex: model.opcodeIndex(.DENSIFY), inputs: [index], outputs: [denseIndex],
                optionsType: .NONE, options: nil, layers: model.operators[first].layers)))
        }
        // Each DENSIFY goes right before its first reader (stable for readers that share one).
        for (before, op) in densifyOps.sorted(by: { $0.before > $1.before }) { model.operators.insert(op, at: before) }
        if summary.native > 0 { model.pruneOperatorCodes() }
        return summary
    }

    /// Whether `op` reads `tensor` well through DENSIFY: float16 weights only through DEQUANTIZE;
    /// int8 weights only into full-integer convolutions — LiteRT's XNNPACK delegate fails to
    /// prepare FULLY_CONNECTED and hybrid CONV_2D whose int8 weights come from DENSIFY
    /// (TensorFlow's own EXPERIMENTAL_SPARSITY files fail the same way), so those stay dense
    /// unless read natively (int8 FULLY_CONNECTED 1×16 blocks).
    private static func densifyReads(_ model: TFLiteModel, _ op: Int, _ code: BuiltinOperator,
                                     _ tensor: TFLiteModel.TensorEntry) -> Bool {
        guard densifyReaders[tensor.type]?.contains(code) == true else { return false }
        guard tensor.type == .INT8 else { return true }
        let input = model.operators[op].inputs[0]
        return input >= 0 && model.tensors[Int(input)].type == .INT8
    }

    /// The readers of a DENSIFY output, by the sparse constant's type (see `densifyReads`).
    static let densifyReaders: [TensorType: Set<BuiltinOperator>] = [
        .FLOAT32: [.FULLY_CONNECTED, .CONV_2D, .DEPTHWISE_CONV_2D],
        .FLOAT16: [.DEQUANTIZE],
        .INT8: [.CONV_2D, .DEPTHWISE_CONV_2D],
    ]

    /// The layouts operator `op` (a `code`) reads natively as its weight `tensor` — LiteRT's
    /// FULLY_CONNECTED: float32 weights of a float32 operator CSR or 1×4 blocks, int8 weights of a
    /// full-integer operator (symmetric) 1×16 blocks; hybrid operators read dense weights.
    private static func nativeLayouts(_ model: TFLiteModel, _ op: Int, _ code: BuiltinOperator,
                                      _ tensor: TFLiteModel.TensorEntry) -> [TFLiteSparsity.Layout] {
        guard code == .FULLY_CONNECTED, tensor.shape.count == 2 else { return [] }
        let input = model.operators[op].inputs[0]
        guard input >= 0 else { return [] }
        switch (model.tensors[Int(input)].type, tensor.type) {
        case (.FLOAT32, .FLOAT32): return [.lastDimensionCSR, .rowBlocks(width: 4)]
        case (.INT8, .INT8): return [.rowBlocks(width: 16)]
        default: return []
        }
    }
}
