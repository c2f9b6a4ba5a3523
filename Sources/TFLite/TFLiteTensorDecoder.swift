import Foundation

/// The one decoder of a `.tflite` constant buffer into real values: float32, float16 and
/// quantized int8 / uint8 / int16 / int32 weights dequantized per tensor or per channel, sparse
/// tensors densified (elements the encoding leaves out are zero). Reports and `diff` read weights
/// through it; each call decodes the whole buffer, so callers budget the values they ask for.
public struct TFLiteTensorDecoder: Sendable {
    public let tensor: TFLiteFile.TensorInfo

    /// A decoder for `tensor`, or nil when its type is not one of the decoded ones (or is an
    /// integer type without quantization parameters).
    public init?(tensor: TFLiteFile.TensorInfo) {
        guard ["float32", "float16", "int8", "uint8", "int16", "int32"].contains(tensor.type) else { return nil }
        if tensor.type.hasPrefix("int") || tensor.type == "uint8" { guard tensor.quantization != nil else { return nil } }
        self.tensor = tensor
    }

    /// Values `values(data)` returns: the stored ones, or the dense shape's for a sparse tensor.
    public func valueCount(_ data: Data) -> Int {
        tensor.sparsity != nil ? tensor.elementCount : data.count / max(tensor.elementBytes, 1)
    }

    /// (scale, zero point) for element `index`, per channel along the quantized dimension.
    public func parameters(_ index: Int) -> (scale: Float, zeroPoint: Int64) {
        guard let quantization = tensor.quantization, !quantization.scales.isEmpty else { return (1, 0) }
        let axis = quantization.quantizedDimension
        // Per tensor, or an axis outside the shape (the reader rejects those; be safe anyway).
        guard quantization.scales.count > 1, tensor.shape.indices.contains(axis) else {
            return (quantization.scales[0], quantization.zeroPoints.first ?? 0)
        }
        // The buffer may hold more bytes than the shape has elements: 0 or huge products stay safe.
        let inner = max(TFLiteFile.elementCount(Array(tensor.shape[(axis + 1)...])) ?? 1, 1)
        let channel = (index / inner) % max(tensor.shape[axis], 1)
        return (quantization.scales[min(channel, quantization.scales.count - 1)],
                quantization.zeroPoints.count > channel ? quantization.zeroPoints[channel] : (quantization.zeroPoints.first ?? 0))
    }

    private func raw(_ data: Data) -> [Int64] {
        data.withUnsafeBytes { bytes -> [Int64] in
            let read = Self.elementReader(bytes, type: tensor.type)
            return (0..<bytes.count / max(tensor.elementBytes, 1)).map { Int64(read($0)) }
        }
    }

    /// Reads element `k` of a little-endian buffer of `type` (any TFLite numeric or bool type) as a
    /// Double — floats and 32-bit integers exactly. The caller keeps `k` below the element count.
    public static func elementReader(_ raw: UnsafeRawBufferPointer, type: String) -> (Int) -> Double {
        func load<T: FixedWidthInteger>(_: T.Type) -> (Int) -> Double {
            { k in Double(T(littleEndian: raw.loadUnaligned(fromByteOffset: k * MemoryLayout<T>.size, as: T.self))) }
        }
        switch type {
        case "float32": return { k in Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)))) }
        case "float16": return { k in Double(float(halfBits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self)))) }
        case "int8": return load(Int8.self)
        case "uint8", "bool": return load(UInt8.self)
        case "int16": return load(Int16.self)
        case "uint16": return load(UInt16.self)
        case "int32": return load(Int32.self)
        case "uint32": return load(UInt32.self)
        default: return load(Int64.self)
        }
    }

    /// IEEE half → single precision (exact) through the platform's Float16 (x86-64 and arm64, the
    /// platforms keraslite builds for).
    static func float(halfBits bits: UInt16) -> Float {
        #if arch(x86_64) || arch(arm64)
        return Float(Float16(bitPattern: bits))
        #else
        return .nan
        #endif
    }

    /// Where each of `storedCount` stored values of a sparse tensor goes in the dense tensor, with
    /// the bounds that keep the traversal far from overflow: a dense size that fits 31 bits (as in
    /// LiteRT), each dimension blocked at most once, every CSR index and position inside the tensor.
    public static func densePositions(_ tensor: TFLiteFile.TensorInfo, storedCount: Int) throws -> [Int] {
        guard let sparsity = tensor.sparsity else { return Array(0..<storedCount) }
        let denseCount = tensor.elementCount
        guard denseCount < 1 << 31 else {
            throw TFLiteError.invalid("sparse tensor \(tensor.index) has \(denseCount) elements, more than 2^31")
        }
        guard Set(sparsity.blockMap).count == sparsity.blockMap.count else {
            throw TFLiteError.invalid("sparse tensor \(tensor.index) blocks a dimension twice (block map \(sparsity.blockMap.prefix(16)))")
        }
        for case .sparseCSR(_, let indices) in sparsity.dimensions where indices.contains(where: { $0 < 0 || $0 >= denseCount }) {
            throw TFLiteError.invalid("sparse tensor \(tensor.index) has a CSR index outside its \(denseCount) elements")
        }
        let positions: [Int]
        do { positions = try sparsity.denseIndices(shape: tensor.shape, storedCount: storedCount) } catch {
            throw TFLiteError.invalid("sparse tensor \(tensor.index): \(error)")
        }
        guard positions.allSatisfy({ (0..<denseCount).contains($0) }) else {
            throw TFLiteError.invalid("sparse tensor \(tensor.index) places a value outside its \(denseCount) elements")
        }
        return positions
    }

    /// The dense values: a sparse tensor's stored values are scattered into zeros (the zero point
    /// for quantized tensors dequantizes to 0).
    public func values(_ data: Data) throws -> [Float] {
        guard tensor.sparsity != nil else { return try storedValues(data, denseIndex: { $0 }) }
        let denseCount = tensor.elementCount
        let positions = try Self.densePositions(tensor, storedCount: data.count / max(tensor.elementBytes, 1))
        let stored = try storedValues(data, denseIndex: { positions[$0] })
        var dense = [Float](repeating: 0, count: denseCount)
        for (k, position) in positions.enumerated() { dense[position] = stored[k] }
        return dense
    }

    private func storedValues(_ data: Data, denseIndex: (Int) -> Int) throws -> [Float] {
        switch tensor.type {
        case "float32":
            return data.withUnsafeBytes { bytes in (0..<bytes.count / 4).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        case "float16":
            #if arch(x86_64) || arch(arm64)
            return data.withUnsafeBytes { bytes in (0..<bytes.count / 2).map { Float(bytes.loadUnaligned(fromByteOffset: $0 * 2, as: Float16.self)) } }
            #else
            throw TFLiteError.unsupported("float16 on this platform")
            #endif
        default:
            return raw(data).enumerated().map { index, q in
                let (scale, zeroPoint) = parameters(denseIndex(index))
                return Float(Double(q) - Double(zeroPoint)) * scale  // a hostile zero point must not overflow Int64
            }
        }
    }
}
