/// An error from libhdf5 or from reading an HDF5 object, carrying the C call and the object path.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The libhdf5 function that failed, or a short description of the read that failed.
    public var call: String
    /// The file and object path the call was made on.
    public var path: String
    /// libhdf5's own message for the innermost error, when it gave one.
    public var detail: String

    public init(call: String, path: String, detail: String = "") {
        self.call = call
        self.path = path
        self.detail = detail
    }

    public var description: String {
        detail.isEmpty ? "\(call) failed on \(path)" : "\(call) failed on \(path): \(detail)"
    }
}
