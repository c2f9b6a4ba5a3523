import CHDF5
import Foundation

/// An HDF5 file opened read-only. Closed when the last reference goes away.
///
/// Opening reads only the superblock; groups, attributes and datasets are read on demand.
public final class HDF5File: @unchecked Sendable {
    let id: hid_t
    /// The path the file was opened from, used in error messages.
    public let path: String

    /// The eight-byte signature every HDF5 file carries at offset 0 (or 512, 1024, … for user blocks).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Opens `path` read-only; throws when it is missing, not HDF5 or damaged.
    public init(path: String) throws {
        self.path = path
        id = try checked("H5Fopen", path) {
            path.withCString { H5Fopen($0, keraslite_H5F_ACC_RDONLY(), keraslite_H5P_DEFAULT()) }
        }
    }

    deinit { H5Fclose(id) }

    /// The root group `/`.
    public func root() throws -> HDF5Group { try HDF5Group(file: self, path: "/") }

    /// True when the first bytes of the file at `path` are the HDF5 signature (cheap detection,
    /// no parsing).
    public static func hasSignature(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return Array(head) == signature
    }
}
