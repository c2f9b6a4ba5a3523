import Foundation

/// Hands a stream of byte pieces to one thread that passes them, in order, to `write`: the caller
/// goes on producing the next piece while the last is written. Pieces are copied in blocks of at
/// most `block` bytes, and `enqueue` waits while `limit` bytes are already waiting, so memory
/// stays bounded whatever the pieces' sizes. The first error `write` throws stops the thread;
/// `enqueue` and `finish` throw it from then on.
final class BackgroundWriter: @unchecked Sendable {
    /// Bytes that may wait for the writing thread (a few blocks: enough to keep it busy).
    static let limit = 6 << 20
    /// Largest copy handed over at once.
    static let block = 2 << 20

    private let condition = NSCondition()
    private var waiting: [[UInt8]] = []
    private var waitingBytes = 0
    private var closed = false, stopped = false
    private var failure: Error?

    /// Starts the thread that calls `write` with each piece.
    init(_ write: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        nonisolated(unsafe) let write = write  // called on the thread only, after this returns
        let thread = Thread { [self] in run(write) }
        thread.name = "keraslite writer"
        thread.start()
    }

    /// Copies `piece` for the thread, waiting while `limit` bytes wait; throws the thread's error.
    func enqueue(_ piece: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < piece.count {
            let count = min(Self.block, piece.count - offset)
            let copy = [UInt8](UnsafeRawBufferPointer(rebasing: piece[offset..<(offset + count)]))
            try condition.withLock {
                while failure == nil && waitingBytes > 0 && waitingBytes + count > Self.limit { condition.wait() }
                if let failure { throw failure }
                waiting.append(copy)
                waitingBytes += count
                condition.broadcast()
            }
            offset += count
        }
    }

    /// Waits until every piece is written and the thread has ended; throws its error if any.
    func finish() throws {
        try condition.withLock {
            closed = true
            condition.broadcast()
            while !stopped { condition.wait() }
            if let failure { throw failure }
        }
    }

    /// Drops what waits and waits for the thread to end (the caller failed; nothing more is written).
    func cancel() {
        condition.withLock {
            closed = true
            waiting.removeAll()
            waitingBytes = 0
            condition.broadcast()
            while !stopped { condition.wait() }
        }
    }

    private func run(_ write: (UnsafeRawBufferPointer) throws -> Void) {
        while true {
            let next: [UInt8]? = condition.withLock {
                while waiting.isEmpty && !closed { condition.wait() }
                return waiting.isEmpty ? nil : waiting.removeFirst()
            }
            guard let piece = next else { break }
            do {
                try piece.withUnsafeBytes(write)
            } catch {
                condition.withLock {
                    failure = error
                    waiting.removeAll()
                    waitingBytes = 0
                    condition.broadcast()
                }
                break
            }
            condition.withLock {
                waitingBytes -= piece.count
                condition.broadcast()
            }
        }
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }
}
