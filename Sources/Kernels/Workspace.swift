import CKernels

/// Scratch memory for one run of either interpreter: im2col patches and transposed-convolution columns.
/// Grows to the largest request and is reused by every op of the run.
public final class Workspace {
    private var buffer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    public init() { _ = Self.keepFreedMemory }

    /// Where the kernel about to run notes its output's extremes, when the caller wants them (an
    /// executor observing a calibration run sets a fresh one before each operator); see
    /// `OutputExtremes`.
    public var outputExtremes: OutputExtremes?

    /// The positions of the next kernel's inputs whose values only its argument list holds
    /// (tensors that die at that operator, passed to it once): the kernel may take such a value
    /// out of the list and write its result into its storage (`ElementwiseTarget`). Set by the
    /// executor before each operator; empty otherwise.
    public var consumable: [Bool] = []

    /// The ADD an executor fused into the convolution about to run (the convolution's output
    /// read by nothing else): the ADD's other operand — its only reference when that tensor dies
    /// there, so the sum can be stored over it —, the ADD's clip, and where to note the sums'
    /// extremes. The kernel takes it out (`takeResidual`) and returns the sum as its output;
    /// `outputExtremes` then notes the convolution's values before the addition.
    public var residual: Residual?

    public struct Residual {
        public var value: TensorValue
        public var clip: ActivationClip?
        public var extremes: OutputExtremes?

        public init(value: TensorValue, clip: ActivationClip?, extremes: OutputExtremes?) {
            self.value = value
            self.clip = clip
            self.extremes = extremes
        }
    }

    /// The residual set for the next kernel, cleared here so the caller holds its only reference.
    public func takeResidual() -> Residual? {
        defer { residual = nil }
        return residual
    }

    /// Each op of a run allocates its outputs afresh, mostly the same sizes as the run (or batch)
    /// before: glibc is told to keep up to 1 GB freed at a heap's top, to grow its heaps 64 MB
    /// at a time and to serve blocks up to 32 MB (its largest setting) from them
    /// (`ck_retain_freed_memory`), so they are reused instead of unmapped and faulted in again,
    /// page by page, by the next op — about a third of the interpreters' system time.
    private static let keepFreedMemory: Void = ck_retain_freed_memory(1 << 30, 64 << 20)

    /// What a process that streams tensors one at a time (a float conversion, with no
    /// workspace) sets first thing: blocks up to 32 MB from the heaps, up to 16 MB kept freed at
    /// a heap's top, glibc's usual 128 KB of growth. On the ResNet50 head's conversion: a fifth
    /// fewer page faults than glibc's own adaptive limits at the same peak memory (keeping up to
    /// 1 GB, the workspace's level, added 12 MB to the peak). A workspace made later raises the
    /// limits to its own.
    public static func retainFreedMemory() { _ = keepStreamedMemory }

    private static let keepStreamedMemory: Void = ck_retain_freed_memory(16 << 20, 128 << 10)

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
