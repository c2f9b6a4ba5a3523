import Foundation

/// The smallest and largest finite value of one kernel's output, gathered by the code that writes
/// it — keraslite's GEMM and Winograd epilogues keep them in registers as they store, the
/// same-shape elementwise loop scans each block while it is in cache — so calibration need not
/// read every intermediate tensor again (`finiteExtremes`).
///
/// An executor puts a fresh one in `Workspace.outputExtremes` before each operator; a kernel that
/// can note its output passes it to the kernel-library call writing that output, whose chunks
/// (on any core) merge into it, and which calls `complete()` only once every element it wrote
/// was merged. An incomplete note (a kernel that does not note, or a path that cannot) means
/// "scan the tensor". A kernel that changes its output afterwards (a fused tanh) must not pass it.
public final class OutputExtremes: @unchecked Sendable {
    private let lock = NSLock()
    private var low = Float.infinity, high = -Float.infinity
    private var completed = false

    public init() {}

    /// The smallest and largest finite value written — (+∞, −∞) when none was finite — once
    /// `complete()`; nil otherwise.
    public var value: (low: Float, high: Float)? {
        lock.withLock { completed ? (low, high) : nil }
    }

    /// Marks every element of the output merged.
    func complete() { lock.withLock { completed = true } }

    /// Merges one chunk's extremes (+∞, −∞ for a chunk without finite values).
    func merge(_ low: Float, _ high: Float) {
        lock.withLock {
            self.low = min(self.low, low)
            self.high = max(self.high, high)
        }
    }

    /// Merges the finite values of `count` floats at `values` (scanned on the calling thread).
    func merge(scanning values: UnsafePointer<Float>, count: Int) {
        let (low, high) = chunkExtremes(values, count: count)
        merge(low, high)
    }

    /// Lowers extremes[0] and raises extremes[1] (when given) to the finite values of `count`
    /// floats at `values`, scanned on the calling thread: for writers without a noting epilogue.
    static func widen(_ extremes: UnsafeMutablePointer<Float>?, scanning values: UnsafePointer<Float>, count: Int) {
        guard let extremes else { return }
        let (low, high) = chunkExtremes(values, count: count)
        extremes[0] = min(extremes[0], low)
        extremes[1] = max(extremes[1], high)
    }

    /// Runs `body` with two floats, (+∞, −∞), for one chunk's writer to lower and raise (a
    /// CKernels `extremes` argument), then merges them into `note`; with no note, `body(nil)`.
    static func gathering<R>(into note: OutputExtremes?, _ body: (UnsafeMutablePointer<Float>?) throws -> R) rethrows -> R {
        guard let note else { return try body(nil) }
        return try withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { pair in
            let extremes = pair.baseAddress!
            extremes[0] = .infinity
            extremes[1] = -.infinity
            let result = try body(extremes)
            note.merge(extremes[0], extremes[1])
            return result
        }
    }
}
