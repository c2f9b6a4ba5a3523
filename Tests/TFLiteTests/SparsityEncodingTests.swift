import Testing
@testable import TFLite

/// TFLite's sparse tensor encoding (SparsityParameters), on the examples of TensorFlow's
/// sparsity design document, worked out by hand.
@Suite struct SparsityEncodingTests {
    /// [[1,0,2,3],[0,4,0,0],[0,0,5,0],[0,0,0,6]] stored as CSR: rows dense, columns sparse.
    @Test func csrMatrix() throws {
        let sparsity = TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], dimensions: [
            .dense(size: 4), .sparseCSR(segments: [0, 3, 4, 5, 6], indices: [0, 2, 3, 1, 2, 3]),
        ])
        #expect(try sparsity.denseIndices(shape: [4, 4], storedCount: 6) == [0, 2, 3, 5, 10, 15])
    }

    /// The same 4×4 shape in 2×2 blocks: blocks (0,0), (0,1), (1,1) present, each stored densely.
    @Test func blockSparseMatrix() throws {
        let sparsity = TFLiteSparsity(traversalOrder: [0, 1, 2, 3], blockMap: [0, 1], dimensions: [
            .dense(size: 2), .sparseCSR(segments: [0, 2, 3], indices: [0, 1, 1]), .dense(size: 2), .dense(size: 2),
        ])
        #expect(try sparsity.denseIndices(shape: [4, 4], storedCount: 12) == [0, 1, 4, 5, 2, 3, 6, 7, 10, 11, 14, 15])
    }

    /// Column-major traversal of a dense 2×3 matrix.
    @Test func traversalOrder() throws {
        let sparsity = TFLiteSparsity(traversalOrder: [1, 0], blockMap: [], dimensions: [.dense(size: 3), .dense(size: 2)])
        #expect(try sparsity.denseIndices(shape: [2, 3], storedCount: 6) == [0, 3, 1, 4, 2, 5])
    }

    @Test func hostileEncodingsThrow() throws {
        let outside = TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], dimensions: [
            .dense(size: 4), .sparseCSR(segments: [0, 1, 1, 1, 1], indices: [9]),
        ])
        #expect(throws: (any Error).self) { try outside.denseIndices(shape: [4, 4], storedCount: 1) }
        let badSegments = TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], dimensions: [
            .dense(size: 4), .sparseCSR(segments: [0, 5, 2, 1, 0], indices: [0]),
        ])
        #expect(throws: (any Error).self) { try badSegments.denseIndices(shape: [4, 4], storedCount: 1) }
        let huge = TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], dimensions: [.dense(size: 1 << 30), .dense(size: 1 << 30)])
        #expect(throws: (any Error).self) { try huge.denseIndices(shape: [4, 4], storedCount: 16) }
        let wrongRank = TFLiteSparsity(traversalOrder: [0], blockMap: [], dimensions: [.dense(size: 4)])
        #expect(throws: (any Error).self) { try wrongRank.denseIndices(shape: [4, 4], storedCount: 16) }
        let tooFew = TFLiteSparsity(traversalOrder: [0, 1], blockMap: [], dimensions: [.dense(size: 4), .dense(size: 4)])
        #expect(throws: (any Error).self) { try tooFew.denseIndices(shape: [4, 4], storedCount: 3) }
    }
}
