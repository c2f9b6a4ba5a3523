import Dispatch
import Foundation

/// Splits loops over the machine's cores. Kernels hand it disjoint index ranges, so the body
/// writes to disjoint memory and needs no locks.
public enum Parallel {
    /// Worker count: the active processor count (2 on the benchmark machine).
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over disjoint subranges covering 0..<count: one range when the work is small
    /// (fewer than two `grain`s), else up to `workers` ranges at once.
    public static func forEach(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(workers, count / max(grain, 1))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            // The ranges are disjoint and concurrentPerform returns only when every chunk is done.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
        }
    }

    /// Runs `body(chunk, range)` for `chunks` disjoint contiguous ranges covering 0..<count, in
    /// parallel; the chunk index lets each task use its own scratch memory.
    public static func forEachChunk(_ count: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = max(1, min(chunks, count))
        guard count > 0 else { return }
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                body(chunk, (count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
        }
    }
}
