import Foundation
import CHDF5

/// The one choke point every libhdf5 call goes through: a negative result throws an `HDF5Error`
/// naming the call and the object path, with libhdf5's innermost message when it has one.
@discardableResult
func checked<T: BinaryInteger>(_ call: String, _ path: @autoclosure () -> String, _ body: () -> T) throws -> T {
    HDF5Library.initialize()
    HDF5Library.lock.lock()
    defer { HDF5Library.lock.unlock() }
    let result = body()
    if result < 0 {
        throw HDF5Error(call: call, path: path(), detail: HDF5Library.lastErrorMessage())
    }
    return result
}

/// Process-wide libhdf5 set-up: silences libhdf5's own printing of errors to stderr.
enum HDF5Library {
    /// libhdf5 as Debian builds it (serial, without --enable-threadsafe) must not be entered by two
    /// threads at once: every call into it — through `checked`, in the wrappers' methods and their
    /// deinits — holds this lock, so concurrent readers (parallel tests, a library user's tasks)
    /// take turns instead of corrupting its caches and identifier tables.
    static let lock = NSRecursiveLock()

    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static let once: Void = { keraslite_H5_silence_errors() }()

    static func initialize() { _ = once }

    /// The description of the innermost error on libhdf5's default error stack, if any.
    static func lastErrorMessage() -> String {
        var message = ""
        withUnsafeMutablePointer(to: &message) { pointer in
            _ = H5Ewalk2(keraslite_H5E_DEFAULT(), H5E_WALK_UPWARD, { _, error, context in
                guard let error, let context, let text = error.pointee.desc else { return 0 }
                let target = context.assumingMemoryBound(to: String.self)
                if target.pointee.isEmpty { target.pointee = String(cString: text) }
                return 0
            }, pointer)
        }
        H5Eclear2(keraslite_H5E_DEFAULT())
        return message
    }
}
