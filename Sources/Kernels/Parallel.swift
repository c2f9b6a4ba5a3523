import Dispatch
import Foundation

/// Splits loops over the machine's cores. Kernels hand it disjoint index ranges, so the body
/// writes to disjoint memory and needs no locks.
public enum Parallel {
    /// The machine's active processor count (2 on the benchmark machine).
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Worker count for the loops of the calling thread: `cores`, or 1 inside `serially`.
    public static var workers: Int { isSerial ? 1 : cores }

    /// True inside `serially`: the caller is already one of several workers, so loops run inline.
    @TaskLocal private static var isSerial = false

    /// Runs `body` with every loop it starts on the calling thread — for work already spread over
    /// the cores one level up (whole batches per core).
    public static func serially<R>(_ body: () throws -> R) rethrows -> R {
        try $isSerial.withValue(true, operation: body)
    }

    /// Calls `body(i)` for every i in 0..<count, `cores` threads taking the next index as they
    /// finish, each inside `serially`; stops starting new indices after the first error, which it
    /// rethrows. `body` runs concurrently with itself: it must only touch what its index owns, or
    /// lock.
    public static func forEachIndexOnAllCores(_ count: Int, _ body: (Int) throws -> Void) throws {
        let threads = min(workers, count)
        guard threads > 1 else {
            for index in 0..<count { try body(index) }
            return
        }
        /// The next index to start and the first error, shared by the threads under `lock`.
        final class Queue: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var failure: Error?
        }
        let queue = Queue()
        try withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                serially {
                    while let index = queue.lock.withLock({ () -> Int? in
                        guard queue.failure == nil, queue.next < count else { return nil }
                        queue.next += 1
                        return queue.next - 1
                    }) {
                        do {
                            try body(index)
                        } catch {
                            queue.lock.withLock { if queue.failure == nil { queue.failure = error } }
                        }
                    }
                }
            }
            if let failure = queue.failure { throw failure }
        }
    }

    /// `body(i)` for every i in 0..<count, in order: on every core at once when `concurrently`
    /// (`forEachIndexOnAllCores`: each call inside `serially`, the first error rethrown), else one
    /// after another on the calling thread — the batched runs of both interpreters, whose batches
    /// run concurrently unless an observer must see them in turn.
    public static func map<T>(_ count: Int, concurrently: Bool, _ body: (Int) throws -> T) throws -> [T] {
        guard concurrently else { return try (0..<count).map(body) }
        var results = [T?](repeating: nil, count: count)
        try results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            try forEachIndexOnAllCores(count) { slots[$0] = try body($0) }  // each index writes its own slot
        }
        return results.map { $0! }
    }

    /// Consecutive ranges of at most `chunk` samples covering 0..<total for
    /// `forEachIndexOnAllCores`, one `chunk` per core in whole rounds. Up to two rounds' worth,
    /// the last round is split evenly over the cores (10 samples in chunks of 4 on 2 cores: 4, 4,
    /// 1, 1). Past that the cores drift apart over the rounds, so once fewer than two rounds remain
    /// the rest goes in ever smaller pieces (the rest over twice the cores, rounded up), down to
    /// single samples, which whichever core is ahead takes: both finish within about one sample of
    /// each other instead of one running a whole last chunk alone — 100 samples in chunks of 4 on
    /// 2 cores are 22 × 4, then 3, 3, 2, 1, 1, 1, 1.
    public static func balancedChunks(_ total: Int, chunk: Int) -> [Range<Int>] {
        let chunk = max(1, chunk), threads = max(1, workers), round = threads * chunk
        var ranges: [Range<Int>] = []
        var start = 0
        func take(_ count: Int) {
            ranges.append(start..<(start + count))
            start += count
        }
        let tapering = total > 2 * round
        while total - start >= (tapering ? 2 : 1) * round {  // whole rounds: one chunk per core
            for _ in 0..<threads { take(chunk) }
        }
        if tapering {
            while start < total { take(min(chunk, (total - start + 2 * threads - 1) / (2 * threads))) }
        } else {
            let rest = total - start, pieces = min(threads, rest), first = start
            for piece in 0..<pieces { take(first + rest * (piece + 1) / pieces - start) }
        }
        return ranges
    }

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
