extension Optional where Wrapped == [Float] {
    /// Runs `body` with a pointer to the array's elements, or nil.
    public func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
