/// A problem with a named file, printed as `<file>: <problem>` on one line.
public enum FileError: Error, CustomStringConvertible {
    /// `file` cannot be written (missing directory, a directory in the way, a failed write).
    case cannotWrite(file: String, reason: String)
    /// An error from a library module that does not know the file it came from, given its file.
    case inFile(file: String, underlying: Error)

    public var description: String {
        switch self {
        case .cannotWrite(let file, let reason): return "\(file): cannot write: \(reason)"
        case .inFile(let file, let underlying): return "\(file): \(underlying)"
        }
    }

    /// Runs `body`, naming `file` in any error it throws.
    public static func naming<T>(_ file: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw FileError.inFile(file: file, underlying: error) }
    }
}
