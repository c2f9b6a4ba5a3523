import FlatBuffers

extension TFLiteSparsity {
    /// How a constant is laid out sparse — the two encodings LiteRT's kernels know
    /// (tensorflow/lite/kernels/fully_connected.cc, densify.cc).
    public enum Layout: Sendable, Hashable, CustomStringConvertible {
        /// Every dimension dense but the last, which is CSR: TensorFlow's converter writes conv,
        /// depthwise and dense kernels so (in front of DENSIFY); FULLY_CONNECTED reads it natively
        /// for float32 ("random sparse").
        case lastDimensionCSR
        /// A matrix [rows, columns] in 1×`width` blocks along the columns: rows dense, the blocks
        /// of each row CSR, each kept block stored whole. FULLY_CONNECTED's native 1×4 (float32)
        /// and 1×16 (int8) kernels.
        case rowBlocks(width: Int)

        public var description: String {
            switch self {
            case .lastDimensionCSR: return "CSR"
            case .rowBlocks(let width): return "1×\(width) blocks"
            }
        }
    }

    /// A tensor encoded sparse: its parameters and, in stored order, the flat (row-major) index
    /// of every element the buffer keeps.
    public struct Encoding: Sendable, Equatable {
        public var sparsity: TFLiteSparsity
        public var stored: [Int]
    }

    /// Encodes a dense tensor of `shape` whose element `i` is zero when `isZero(i)`; nil when the
    /// layout does not apply (no dimensions; blocks on a non-matrix or a column count not a
    /// multiple of the block width). Elements left out are exactly the zero ones (whole zero
    /// blocks for `rowBlocks`), so densifying gives back the tensor — except that an all-zero
    /// tensor keeps its first element (or block): LiteRT takes a tensor with an empty buffer for a
    /// non-constant one, and DENSIFY refuses it.
    public static func encode(shape: [Int], layout: Layout, isZero allZero: (Int) -> Bool) -> Encoding? {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else { return nil }
        let keepFirst = !(0..<shape.reduce(1, *)).contains { !allZero($0) }
        func isZero(_ element: Int) -> Bool { allZero(element) && !(keepFirst && element == 0) }
        switch layout {
        case .lastDimensionCSR:
            let columns = shape[shape.count - 1]
            let rows = shape.dropLast().reduce(1, *)
            var segments = [0], indices: [Int] = [], stored: [Int] = []
            segments.reserveCapacity(rows + 1)
            for row in 0..<rows {
                for column in 0..<columns where !isZero(row * columns + column) {
                    indices.append(column)
                    stored.append(row * columns + column)
                }
                segments.append(indices.count)
            }
            let dimensions = shape.dropLast().map { Dimension.dense(size: $0) } + [.sparseCSR(segments: segments, indices: indices)]
            return Encoding(sparsity: TFLiteSparsity(traversalOrder: Array(0..<shape.count), blockMap: [], dimensions: dimensions),
                            stored: stored)
        case .rowBlocks(let width):
            guard shape.count == 2, width > 0, shape[1] % width == 0 else { return nil }
            let (rows, columns) = (shape[0], shape[1])
            var segments = [0], indices: [Int] = [], stored: [Int] = []
            for row in 0..<rows {
                for block in 0..<(columns / width) {
                    let start = row * columns + block * width
                    guard (start..<(start + width)).contains(where: { !isZero($0) }) else { continue }
                    indices.append(block)
                    stored.append(contentsOf: start..<(start + width))
                }
                segments.append(indices.count)
            }
            return Encoding(sparsity: TFLiteSparsity(traversalOrder: [0, 1, 2], blockMap: [1], dimensions: [
                .dense(size: rows), .sparseCSR(segments: segments, indices: indices), .dense(size: width),
            ]), stored: stored)
        }
    }

    /// The narrowest `SparseIndexVector` holding every value of `values` (what TensorFlow's
    /// converter picks per vector): uint8, uint16, else int32.
    static func indexVectorType(_ values: [Int]) -> SparseIndexVector {
        let largest = values.max() ?? 0
        return largest <= Int(UInt8.max) ? .Uint8Vector : largest <= Int(UInt16.max) ? .Uint16Vector : .Int32Vector
    }

    /// Bytes the index vectors take in the file (segments and indices at their narrowest type).
    public var indexBytes: Int {
        dimensions.reduce(0) { total, dimension in
            guard case .sparseCSR(let segments, let indices) = dimension else { return total }
            func width(_ values: [Int]) -> Int {
                switch Self.indexVectorType(values) { case .Uint8Vector: 1; case .Uint16Vector: 2; default: 4 }
            }
            return total + segments.count * width(segments) + indices.count * width(indices)
        }
    }

    /// An upper estimate of what the parameters cost in the file beyond `indexBytes`: the tables,
    /// vtables, vector headers and padding of SparsityParameters and its DimensionMetadata.
    public var tableBytes: Int {
        let levels = dimensions.count
        return 48 + 8 * levels + 4 * blockMap.count + dimensions.reduce(0) { total, dimension in
            if case .sparseCSR = dimension { return total + 64 }
            return total + 24
        }
    }

    /// Writes the parameters as a `SparsityParameters` table (children first).
    func serialize(in builder: inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset {
        func indexVector(_ values: [Int]) throws -> (SparseIndexVector, FlatBufferBuilder.Offset) {
            let type = Self.indexVectorType(values)
            let vector: FlatBufferBuilder.Offset
            switch type {
            case .Uint8Vector: vector = try builder.createVector(values.map { UInt8($0) })
            case .Uint16Vector: vector = try builder.createVector(values.map { UInt16($0) })
            default: vector = try builder.createVector(values.map { Int32($0) })
            }
            builder.startTable()
            try builder.add(Field.Int32Vector.values, vector)  // field 0 of all three member tables
            return (type, try builder.endTable())
        }
        var metadata: [FlatBufferBuilder.Offset] = []
        for dimension in dimensions {
            switch dimension {
            case .dense(let size):
                builder.startTable()
                try builder.add(Field.DimensionMetadata.dense_size, Int32(size), default: 0)
                metadata.append(try builder.endTable())
            case .sparseCSR(let segments, let indices):
                let (segmentsType, segmentsTable) = try indexVector(segments)
                let (indicesType, indicesTable) = try indexVector(indices)
                builder.startTable()
                try builder.add(Field.DimensionMetadata.format, DimensionType.SPARSE_CSR.rawValue, default: 0)
                try builder.add(Field.DimensionMetadata.array_segments_type, segmentsType.rawValue, default: 0)
                try builder.add(Field.DimensionMetadata.array_segments, segmentsTable)
                try builder.add(Field.DimensionMetadata.array_indices_type, indicesType.rawValue, default: 0)
                try builder.add(Field.DimensionMetadata.array_indices, indicesTable)
                metadata.append(try builder.endTable())
            }
        }
        let traversal = try builder.createVector(traversalOrder.map { Int32($0) })
        let blocks = try builder.createVector(blockMap.map { Int32($0) })
        let dimensionVector = try builder.createVector(metadata)
        builder.startTable()
        try builder.add(Field.SparsityParameters.traversal_order, traversal)
        try builder.add(Field.SparsityParameters.block_map, blocks)
        try builder.add(Field.SparsityParameters.dim_metadata, dimensionVector)
        return try builder.endTable()
    }
}
