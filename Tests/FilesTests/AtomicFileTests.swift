@testable import Files
import Foundation
import Testing

/// Streamed writes go through a background thread (`BackgroundWriter`): the file holds exactly
/// the pieces in order whatever their sizes, and a failure on either side leaves no file and no
/// temporary beside it.
@Suite struct AtomicFileTests {
    struct Stop: Error {}

    private func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func streamedPiecesArriveWholeAndInOrder() throws {
        let folder = try directory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.bin").path
        // Empty pieces, single bytes, pieces around the 2 MB copy block and past the 6 MB limit.
        let sizes = [0, 1, 7, 4096, (2 << 20) - 1, 2 << 20, (2 << 20) + 1, 13 << 20, 3, 0, 5 << 20, 1]
        // Bytes of a 65,537-byte (prime) random pattern, each piece starting further in: a
        // piece written twice, dropped or out of order shows.
        var state: UInt32 = 12345
        let pattern = (0..<65_537).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let pieces = sizes.enumerated().map { index, size -> [UInt8] in
            var piece: [UInt8] = []
            piece.reserveCapacity(size)
            var offset = index * 1009 % pattern.count
            while piece.count < size {
                let take = min(size - piece.count, pattern.count - offset)
                piece += pattern[offset..<(offset + take)]
                offset = 0
            }
            return piece
        }
        var expected: [UInt8] = []
        for piece in pieces { expected += piece }
        try AtomicFile.write(to: path, streaming: { sink in
            for piece in pieces { try piece.withUnsafeBytes { try sink($0) } }
        })
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.count == expected.count)
        #expect(written == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.bin"])
    }

    @Test func aFailingProducerLeavesNothing() throws {
        let folder = try directory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.bin").path
        let block = [UInt8](repeating: 7, count: 3 << 20)
        #expect(throws: Stop.self) {
            try AtomicFile.write(to: path, streaming: { sink in
                for _ in 0..<4 { try block.withUnsafeBytes { try sink($0) } }
                throw Stop()
            })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// A write that fails on the writing thread reaches the producer from its next hand-over (or
    /// at the end) as that error, and the producer is stopped within the bytes that may wait.
    /// (The CLI's WriteFaultTests run the real case: EFBIG past `ulimit -f`.)
    @Test func aFailingWriteReachesTheProducer() throws {
        final class Count: @unchecked Sendable { var written = 0 }
        let count = Count()
        let writer = BackgroundWriter { piece in
            if count.written >= 3 << 20 { throw Stop() }
            count.written += piece.count
        }
        let block = [UInt8](repeating: 1, count: 1 << 20)
        var produced = 0
        #expect(throws: Stop.self) {
            for _ in 0..<64 {
                try block.withUnsafeBytes { try writer.enqueue($0) }
                produced += 1
            }
            try writer.finish()
        }
        #expect(produced <= 3 + BackgroundWriter.limit / (1 << 20) + 1, "\(produced) pieces handed over after the write failed")
        #expect(throws: Stop.self) { try writer.finish() }
    }

    @Test func cancelDropsWhatWaitsAndStopsTheThread() throws {
        final class Count: @unchecked Sendable { var pieces = 0 }
        let count = Count()
        let writer = BackgroundWriter { _ in
            usleep(20_000)
            count.pieces += 1
        }
        let block = [UInt8](repeating: 2, count: 1 << 20)
        for _ in 0..<5 { try block.withUnsafeBytes { try writer.enqueue($0) } }
        writer.cancel()  // returns once the thread has ended
        let after = count.pieces
        #expect(after < 5)
        usleep(50_000)
        #expect(count.pieces == after)
    }
}
