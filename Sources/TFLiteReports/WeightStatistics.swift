import CKerasliteZlib
import HTML

/// Counting and histogram helpers over weight values.
public enum WeightStatistics {
    /// Exact zeros (−0 included).
    public static func countZeros(_ values: [Float]) -> Int {
        var count = 0
        for value in values where value == 0 { count += 1 }
        return count
    }

    /// Values with |v| ≤ threshold.
    public static func countNearZero(_ values: [Float], threshold: Float) -> Int {
        var count = 0
        for value in values where abs(value) <= threshold { count += 1 }
        return count
    }

    /// Upper edges of the magnitude histogram's log-spaced bins after the exact-zero bin:
    /// (0, 1e-7), [1e-7, 1e-6), …, [0.1, 1), [1, 10), [10, ∞).
    public static let histogramEdges: [Float] = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]

    /// Bin labels matching `histogram`'s counts.
    public static let histogramLabels: [String] = ["0", "<1e-7", "1e-7..1e-6", "1e-6..1e-5", "1e-5..1e-4", "1e-4..1e-3",
                                                   "1e-3..1e-2", "1e-2..0.1", "0.1..1", "1..10", "≥10"]

    /// Adds the magnitudes of `values` into `counts` (one slot per label; exact zeros first).
    public static func accumulateHistogram(_ values: [Float], into counts: inout [Int]) {
        if counts.count != histogramLabels.count { counts = Array(repeating: 0, count: histogramLabels.count) }
        for value in values {
            let magnitude = abs(value)
            if magnitude == 0 { counts[0] += 1; continue }
            var bin = histogramEdges.count + 1
            for (index, edge) in histogramEdges.enumerated() where magnitude < edge {
                bin = index + 1
                break
            }
            counts[bin] += 1
        }
    }
}

/// A zlib deflate stream that only counts its compressed output: the "how small could this be"
/// measure for weights with many zeros. Uses deflate's Z_RLE strategy: on float32 weights it
/// compresses as well as the default strategy (runs of zero bytes are what pruning adds) at
/// about twice the speed, which matters at 100 MB of weights.
package final class DeflateCounter: @unchecked Sendable {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 1 << 16)
    private(set) var compressedBytes = 0
    private var finished = false

    package init(level: Int32 = 6) {
        deflateInit2_(&stream, level, Z_DEFLATED, 15, 8, Z_RLE, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    }

    deinit { deflateEnd(&stream) }

    package func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        run(flush: Z_NO_FLUSH)
    }

    /// Finishes the stream and returns the total compressed size.
    package func finish() -> Int {
        if !finished {
            stream.next_in = nil
            stream.avail_in = 0
            run(flush: Z_FINISH)
            finished = true
        }
        return compressedBytes
    }

    private func run(flush: Int32) {
        let capacity = output.count
        output.withUnsafeMutableBufferPointer { buffer in
            repeat {
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(capacity)
                let status = deflate(&stream, flush)
                compressedBytes += capacity - Int(stream.avail_out)
                if status == Z_STREAM_END || status == Z_STREAM_ERROR { break }
            } while stream.avail_out == 0 || (flush == Z_FINISH)
        }
    }
}
