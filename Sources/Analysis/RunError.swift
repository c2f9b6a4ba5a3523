/// A `run`, `verify` or `prune` problem that is not an interpreter or file-format error.
public struct RunError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
