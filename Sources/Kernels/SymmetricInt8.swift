import CKernels

/// Symmetric per-channel int8 quantization of weights (TFLite's int8 and dynamic-range weights):
/// scale = max|w| / 127 per channel (1 for a channel of zeros), q = round(w / scale) in [−127, 127],
/// rounded half away from zero; on every core for large tensors.
public enum SymmetricInt8 {
    /// Elements per core below which the work stays on the calling thread.
    static let grain = 1 << 16

    /// Quantizes `values` laid out as [blocks × channels × inner] — channel c of element i is
    /// (i / inner) % channels — into `output` (same layout, as many elements); returns the scales.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, channels: Int, inner: Int,
                                into output: UnsafeMutableBufferPointer<Int8>) -> [Float] {
        precondition(output.count >= values.count)
        let perBlock = channels * inner
        guard perBlock > 0, let source = values.baseAddress, let target = output.baseAddress else {
            return [Float](repeating: 1, count: max(channels, 0))
        }
        let blocks = values.count / perBlock
        let chunks = max(1, min(Parallel.workers, values.count / grain))
        // Each chunk's channel maxima in its own row of one array.
        var partial = [Float](repeating: 0, count: chunks * channels)
        partial.withUnsafeMutableBufferPointer { partial in
            let rows = partial.baseAddress!
            Parallel.forEachChunk(blocks, chunks: chunks) { chunk, range in
                ck_absmax_channels(source + range.lowerBound * perBlock, range.count, channels, inner, rows + chunk * channels)
            }
        }
        var maxima = Array(partial[0..<channels])
        for chunk in 1..<chunks {
            for c in 0..<channels where partial[chunk * channels + c] > maxima[c] { maxima[c] = partial[chunk * channels + c] }
        }
        let scales = maxima.map { $0 > 0 ? $0 / 127 : 1 }
        scales.withUnsafeBufferPointer { scales in
            nonisolated(unsafe) let scales = scales
            Parallel.forEachChunk(blocks, chunks: chunks) { _, range in
                let offset = range.lowerBound * perBlock
                ck_quantize_channels(source + offset, range.count, channels, inner, scales.baseAddress, target + offset)
            }
        }
        return scales
    }

    /// The transpose of a rows × columns byte matrix, into `output` (columns × rows).
    public static func transpose(_ bytes: UnsafeBufferPointer<Int8>, rows: Int, columns: Int,
                                 into output: UnsafeMutableBufferPointer<Int8>) {
        precondition(bytes.count >= rows * columns && output.count >= rows * columns)
        guard rows > 0, columns > 0, let source = bytes.baseAddress, let target = output.baseAddress else { return }
        let chunks = max(1, min(Parallel.workers, rows * columns / grain))
        Parallel.forEachChunk(columns, chunks: chunks) { _, range in
            ck_transpose_bytes(source, rows, columns, range.lowerBound, range.upperBound, target + range.lowerBound * rows)
        }
    }
}
