import Foundation

/// What a convolution with a constant filter prepares once and reuses on every call — the filter
/// packed for `GEMM.multiply(packed:)`, its Winograd transform — made on first use under a lock
/// (both cores may ask at once). A kernel whose filter is one of the model's constants holds one
/// for its lifetime; each form is keyed by what it depends on besides the filter's values.
public final class PreparedFilter: @unchecked Sendable {
    private let lock = NSLock()
    private var forms: [String: AnyObject] = [:]

    public init() {}

    /// The form stored under `key`, made by `make` the first time.
    func form<T: AnyObject>(_ key: String, _ make: () -> T) -> T? {
        lock.withLock {
            if let made = forms[key] { return made as? T }
            let made = make()
            forms[key] = made
            return made
        }
    }
}

/// `count` floats owned by a prepared form (a transformed filter).
final class FloatStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: count)
    }

    deinit { pointer.deallocate() }
}
