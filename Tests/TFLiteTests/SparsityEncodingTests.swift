import Foundation
import FlatBuffers
import Keras
import Passes
import TestSupport
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

    // MARK: encoding (convert --sparse)

    /// A tensor of `shape` with a deterministic pattern of zeros (`keep` of every 7 elements kept).
    static func pattern(_ count: Int, keep: Int) -> [Float] {
        (0..<count).map { $0 % 7 < keep ? Float($0 % 13) - 6.5 : 0 }
    }

    /// Encodes, serializes, reads back with the file reader's parser and densifies through the
    /// decoder's traversal: the dense tensor must come back exactly.
    static func roundTrip(_ values: [Float], shape: [Int], layout: TFLiteSparsity.Layout) throws -> (TFLiteSparsity.Encoding, [Float])? {
        guard let encoding = TFLiteSparsity.encode(shape: shape, layout: layout, isZero: { values[$0] == 0 }) else { return nil }
        var builder = FlatBufferBuilder()
        let table = try encoding.sparsity.serialize(in: &builder)
        let bytes = try builder.finish(root: table)
        let parsed = try TFLiteSparsity(table: try FlatBufferReader(bytes: bytes).root())
        #expect(parsed == encoding.sparsity)
        let positions = try parsed.denseIndices(shape: shape, storedCount: encoding.stored.count)
        #expect(positions == encoding.stored)
        var dense = [Float](repeating: 0, count: values.count)
        for (k, position) in positions.enumerated() { dense[position] = values[encoding.stored[k]] }
        return (encoding, dense)
    }

    @Test(arguments: [[6, 10], [3, 5, 7], [1, 3, 3, 17], [2, 1, 1, 3], [11], [1, 1]])
    func csrRoundTripsOddShapes(shape: [Int]) throws {
        let values = Self.pattern(shape.reduce(1, *), keep: 2)
        let (encoding, dense) = try #require(try Self.roundTrip(values, shape: shape, layout: .lastDimensionCSR))
        #expect(dense == values)
        #expect(encoding.stored.count == values.filter { $0 != 0 }.count)
        #expect(encoding.sparsity.traversalOrder == Array(0..<shape.count))
        #expect(encoding.sparsity.dimensions.dropLast().allSatisfy { if case .dense = $0 { true } else { false } })
    }

    @Test(arguments: [4, 16])
    func blocksRoundTripAndKeepWholeBlocks(width: Int) throws {
        let shape = [5, 3 * width]
        var values = Self.pattern(shape.reduce(1, *), keep: 1)
        for column in 0..<width { values[2 * shape[1] + width + column] = 0 }  // one block of row 2 all zero
        let (encoding, dense) = try #require(try Self.roundTrip(values, shape: shape, layout: .rowBlocks(width: width)))
        #expect(dense == values)
        #expect(encoding.stored.count % width == 0)
        #expect(encoding.sparsity.blockMap == [1])
        guard case .sparseCSR(let segments, _) = encoding.sparsity.dimensions[1] else { Issue.record("dimension 1 not CSR"); return }
        let row2 = (0..<3).filter { block in (0..<width).contains { values[2 * shape[1] + block * width + $0] != 0 } }.count
        #expect(row2 < 3)
        #expect(segments[3] - segments[2] == row2)
        // Blocks need a matrix whose columns divide into them.
        #expect(TFLiteSparsity.encode(shape: [5, 3 * width + 1], layout: .rowBlocks(width: width), isZero: { _ in true }) == nil)
        #expect(TFLiteSparsity.encode(shape: [2, 2, 2 * width], layout: .rowBlocks(width: width), isZero: { _ in true }) == nil)
    }

    @Test func allZerosAndNoZeros() throws {
        let zeros = [Float](repeating: 0, count: 24)
        let (empty, dense) = try #require(try Self.roundTrip(zeros, shape: [4, 6], layout: .lastDimensionCSR))
        // LiteRT takes an empty buffer for a non-constant tensor: the first element stays stored.
        #expect(empty.stored == [0] && dense == zeros)
        #expect(empty.sparsity.dimensions.last == .sparseCSR(segments: [0, 1, 1, 1, 1], indices: [0]))
        let (emptyBlocks, _) = try #require(try Self.roundTrip(zeros, shape: [4, 6], layout: .rowBlocks(width: 3)))
        #expect(emptyBlocks.stored == [0, 1, 2])

        let full = (1...24).map(Float.init)
        let (all, back) = try #require(try Self.roundTrip(full, shape: [4, 6], layout: .lastDimensionCSR))
        #expect(all.stored == Array(0..<24) && back == full)
        #expect(TFLiteSparsity.encode(shape: [], layout: .lastDimensionCSR, isZero: { _ in true }) == nil)
        #expect(TFLiteSparsity.encode(shape: [3, 0], layout: .lastDimensionCSR, isZero: { _ in true }) == nil)
    }

    @Test func indexVectorsTakeTheNarrowestType() throws {
        #expect(TFLiteSparsity.indexVectorType([0, 255]) == .Uint8Vector)
        #expect(TFLiteSparsity.indexVectorType([0, 256]) == .Uint16Vector)
        #expect(TFLiteSparsity.indexVectorType([65535]) == .Uint16Vector)
        #expect(TFLiteSparsity.indexVectorType([65536]) == .Int32Vector)
        // 300 columns: indices need uint16; 2 rows × 2 kept → segments fit uint8.
        var values = [Float](repeating: 0, count: 600)
        values[299] = 1; values[0] = 2; values[300] = 3; values[599] = 4
        let (encoding, dense) = try #require(try Self.roundTrip(values, shape: [2, 300], layout: .lastDimensionCSR))
        #expect(dense == values)
        #expect(encoding.sparsity.indexBytes == 3 * 1 + 4 * 2)
    }

    // MARK: converting with --sparse

    static func convert(pruning: Double?, sparse: Bool, quantization: QuantizationOptions = .init()) throws -> TFLiteConverter.Result {
        let keras = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        var options = TFLiteConverter.Options(quantization: quantization)
        if let pruning { options.pipeline = .pruning(PruningOptions(target: .sparsity(pruning))) }
        options.sparse = sparse
        return try TFLiteConverter.convert(keras.graph, options: options)
    }

    /// Every constant of `bytes` decoded dense, by tensor name (a DENSIFY output carries none).
    static func constants(_ bytes: [UInt8]) throws -> [String: [Float]] {
        let file = try TFLiteFile(data: Data(bytes), path: "model.tflite")
        var values: [String: [Float]] = [:]
        for tensor in file.subgraphs[0].tensors where tensor.buffer != 0 {
            guard let data = file.bufferData(tensor.buffer), !data.isEmpty, let decoder = TFLiteTensorDecoder(tensor: tensor) else { continue }
            values[tensor.name] = try decoder.values(data)
        }
        return values
    }

    @Test(arguments: [QuantizationMode.none, .float16])
    func prunedModelIsSmallerAndDecodesToTheDenseWeights(mode: QuantizationMode) throws {
        let quantization = QuantizationOptions(mode: mode)
        let dense = try Self.convert(pruning: 0.8, sparse: false, quantization: quantization)
        let sparse = try Self.convert(pruning: 0.8, sparse: true, quantization: quantization)
        let summary = try #require(sparse.sparse)
        #expect(summary.tensors > 0)
        #expect(summary.sparseBytes < summary.denseBytes)
        #expect(try sparse.bytes.count < dense.bytes.count)
        #expect(try Self.constants(sparse.bytes) == Self.constants(dense.bytes))
        // Only DENSIFY is added; every other operator is the dense model's.
        var others = sparse.operatorCounts
        #expect(others.removeValue(forKey: "DENSIFY") == summary.densified)
        #expect(others == dense.operatorCounts)
    }

    @Test func denseModelStaysByteIdentical() throws {
        let dense = try Self.convert(pruning: nil, sparse: false)
        let sparse = try Self.convert(pruning: nil, sparse: true)
        #expect(sparse.sparse == SparseWeights.Summary())
        #expect(try sparse.bytes == dense.bytes)
    }
}

