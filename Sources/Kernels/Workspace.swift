import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Scratch memory for one run of either interpreter: im2col patches and transposed-convolution columns.
/// Grows to the largest request and is reused by every op of the run.
public final class Workspace {
    private var buffer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    public init() { _ = Self.keepFreedMemory }

    /// Each op of a run allocates its outputs afresh, mostly the same sizes as the run before: glibc
    /// is told to keep freed memory (up to 1 GB at the heap's top) and to serve blocks up to 32 MB
    /// (its largest setting) from the heap, so they are reused instead of unmapped and faulted in
    /// again, page by page, by the next op — about a third of the interpreters' system time.
    private static let keepFreedMemory: Void = {
        #if canImport(Glibc)
        // mallopt(M_TRIM_THRESHOLD = -1 / M_MMAP_THRESHOLD = -3, …) from <malloc.h>, which the
        // Glibc module does not import: looked up by name.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-1, 1 << 30)
        _ = mallopt(-3, 32 << 20)
        #endif
    }()

    /// At least `count` uninitialized floats, valid until the next call.
    public func scratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity || buffer == nil {
            buffer?.deallocate()
            capacity = max(count, 1)
            buffer = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        }
        return buffer!
    }

    /// Upper bound on scratch floats a kernel plans for when it tiles work (64 MB).
    public static let budget = 16 << 20

    deinit { buffer?.deallocate() }
}

/// A new array of `count` floats that `fill` initializes completely (no zero-fill first).
public func makeValues(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
    try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { try fill(buffer.baseAddress!) }
        initialized = count
    }
}

/// Keeps freed blocks under 32 MB in the C heap for reuse instead of returning them to the kernel
/// (glibc; `ck_retain_freed_memory`): for a process that runs many batches, each allocating and
/// freeing the same activation buffers. Call once at start-up, before other threads start.
public func retainFreedMemory() {
    ck_retain_freed_memory()
}
