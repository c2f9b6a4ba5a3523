import FlatBuffers

/// A sparse tensor's encoding (`SparsityParameters`): the dense shape is split into `n` original
/// dimensions plus one block dimension per entry of `blockMap`; `traversalOrder` orders these
/// `n + k` dimensions and `dimensions` describes each in that order, dense (a size) or CSR
/// (segments + indices). The stored buffer holds only the values the traversal visits.
public struct TFLiteSparsity: Sendable, Equatable {
    public enum Dimension: Sendable, Equatable {
        case dense(size: Int)
        case sparseCSR(segments: [Int], indices: [Int])
    }

    public var traversalOrder: [Int]
    public var blockMap: [Int]
    public var dimensions: [Dimension]

    public init(traversalOrder: [Int], blockMap: [Int], dimensions: [Dimension]) {
        self.traversalOrder = traversalOrder
        self.blockMap = blockMap
        self.dimensions = dimensions
    }

    init(table: FlatBufferReader.Table) throws {
        traversalOrder = (try table.scalars(Field.SparsityParameters.traversal_order, as: Int32.self) ?? []).map(Int.init)
        blockMap = (try table.scalars(Field.SparsityParameters.block_map, as: Int32.self) ?? []).map(Int.init)
        dimensions = try (table.tables(Field.SparsityParameters.dim_metadata) ?? []).map { metadata in
            let format = try metadata.scalar(Field.DimensionMetadata.format, default: Int8(0))
            if format == DimensionType.DENSE.rawValue {
                return .dense(size: Int(try metadata.scalar(Field.DimensionMetadata.dense_size, default: Int32(0))))
            }
            guard format == DimensionType.SPARSE_CSR.rawValue else {
                throw FlatBufferError.invalid("sparse dimension of unknown format \(format)")
            }
            func vector(_ typeField: Int, _ valueField: Int) throws -> [Int] {
                let tag = try metadata.scalar(typeField, default: UInt8(0))
                guard let member = try metadata.table(valueField) else { return [] }
                switch SparseIndexVector(rawValue: tag) {
                case .Int32Vector?: return (try member.scalars(Field.Int32Vector.values, as: Int32.self) ?? []).map(Int.init)
                case .Uint16Vector?: return (try member.scalars(Field.Uint16Vector.values, as: UInt16.self) ?? []).map(Int.init)
                case .Uint8Vector?: return (try member.scalars(Field.Uint8Vector.values, as: UInt8.self) ?? []).map(Int.init)
                default: throw FlatBufferError.invalid("sparse index vector of unknown type \(tag)")
                }
            }
            return .sparseCSR(segments: try vector(Field.DimensionMetadata.array_segments_type, Field.DimensionMetadata.array_segments),
                              indices: try vector(Field.DimensionMetadata.array_indices_type, Field.DimensionMetadata.array_indices))
        }
    }

    /// For each stored value, in order, its flat index in the dense tensor of `shape` (row-major).
    /// Mirrors LiteRT's `FormatConverter::SparseToDense`; every index and count is checked, so a
    /// hostile encoding throws instead of writing out of bounds.
    public func denseIndices(shape: [Int], storedCount: Int) throws -> [Int] {
        let rank = shape.count
        let levels = rank + blockMap.count
        guard traversalOrder.count == levels, dimensions.count == levels,
              Set(traversalOrder) == Set(0..<levels) else {
            throw FlatBufferError.invalid("sparsity parameters do not describe a rank-\(rank) tensor")
        }
        guard blockMap.allSatisfy({ (0..<rank).contains($0) }), Set(blockMap).count == blockMap.count else {
            throw FlatBufferError.invalid("sparsity block map \(blockMap) is not a set of dimensions below rank \(rank)")
        }
        // Block sizes: the dense size of the level whose traversal entry is rank + block index.
        var blockSizes = [Int](repeating: 1, count: blockMap.count)
        for (level, dimension) in traversalOrder.enumerated() where dimension >= rank {
            guard case .dense(let size) = dimensions[level], size > 0 else {
                throw FlatBufferError.invalid("sparse block dimension \(dimension - rank) is not dense")
            }
            blockSizes[dimension - rank] = size
        }
        var denseCount = 1
        for size in shape {
            let (product, overflow) = denseCount.multipliedReportingOverflow(by: size)
            guard !overflow, size >= 0 else { throw FlatBufferError.invalid("sparse tensor shape \(shape) is too large") }
            denseCount = product
        }
        guard storedCount <= denseCount else {
            throw FlatBufferError.invalid("sparse tensor stores \(storedCount) values for \(denseCount) elements")
        }
        var result: [Int] = []
        result.reserveCapacity(storedCount)
        var position = [Int](repeating: 0, count: levels)

        func emit() throws {
            var original = [Int](repeating: 0, count: rank)
            for level in 0..<levels where traversalOrder[level] < rank { original[traversalOrder[level]] = position[level] }
            for level in 0..<levels where traversalOrder[level] >= rank {
                let block = traversalOrder[level] - rank
                let dimension = blockMap[block]
                let (scaled, overflow1) = original[dimension].multipliedReportingOverflow(by: blockSizes[block])
                let (sum, overflow2) = scaled.addingReportingOverflow(position[level])
                guard !overflow1, !overflow2 else { throw FlatBufferError.invalid("sparse block index overflows") }
                original[dimension] = sum
            }
            var flat = 0
            for axis in 0..<rank {
                guard original[axis] >= 0, original[axis] < shape[axis] else {
                    throw FlatBufferError.invalid("sparse index \(original) outside shape \(shape)")
                }
                flat = flat * shape[axis] + original[axis]
            }
            guard result.count < storedCount else {
                throw FlatBufferError.invalid("sparse tensor encodes more values than its buffer holds (\(storedCount))")
            }
            result.append(flat)
        }

        // A hostile encoding can describe a traversal far larger than the tensor: cap the work.
        var budget = denseCount.multipliedReportingOverflow(by: levels + 1).partialValue + 1024
        func visit(_ level: Int, _ previous: Int) throws {
            budget -= 1
            guard budget > 0 else { throw FlatBufferError.invalid("sparse encoding traverses more positions than the tensor has") }
            if level == levels { return try emit() }
            switch dimensions[level] {
            case .dense(let size):
                guard size >= 0, size <= denseCount else { throw FlatBufferError.invalid("sparse dense size \(size) out of range") }
                for i in 0..<size {
                    position[level] = i
                    let (next, overflow) = previous.multipliedReportingOverflow(by: size)
                    guard !overflow else { throw FlatBufferError.invalid("sparse tensor index overflow") }
                    try visit(level + 1, next + i)
                }
            case .sparseCSR(let segments, let indices):
                guard previous + 1 < segments.count else { return }
                let start = segments[previous], end = segments[previous + 1]
                guard start >= 0, start <= end, end <= indices.count else {
                    throw FlatBufferError.invalid("sparse segment \(start)..<\(end) outside \(indices.count) indices")
                }
                for i in start..<end {
                    guard indices[i] >= 0 else { throw FlatBufferError.invalid("negative sparse index \(indices[i])") }
                    position[level] = indices[i]
                    try visit(level + 1, i)
                }
            }
        }
        try visit(0, 0)
        guard result.count == storedCount else {
            throw FlatBufferError.invalid("sparse encoding visits \(result.count) values, the buffer holds \(storedCount)")
        }
        return result
    }
}
