/// Why a numeric kernel cannot run on its arguments: one line naming the problem (a shape that
/// is not a tensor shape, a matrix too large for BLAS). The interpreters wrap or forward it.
public enum KernelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A tensor or matrix argument is invalid (negative dimension, value count, size limit).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): return message
        }
    }
}
