import CHDF5
import Foundation

/// An open HDF5 file, read-only unless opened with `.readWrite` or made by `create`. Closed when
/// the last reference to it and to its groups, datasets and attributes goes away.
///
/// Opening reads only the superblock; groups, attributes and datasets are read on demand.
public final class HDF5File: @unchecked Sendable {
    let id: hid_t
    /// The path the file was opened from.
    public let path: String
    /// What error messages call the file (`path` unless set: a `.keras` archive's extracted
    /// weights are named after the archive, not the private scratch file).
    public var displayName: String
    /// Checks attributes' bytes before libhdf5 decodes them (files opened read-only: the input
    /// files keraslite did not write); nil when the superblock is not one it reads.
    let attributeCheck: HDF5AttributeCheck?

    /// How a file is opened.
    public enum Access: Sendable { case readOnly, readWrite }

    /// The eight-byte signature every HDF5 file carries at offset 0 (or 512, 1024, … for user blocks).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Opens `path` read-only; throws when it is missing, not HDF5 or damaged.
    public convenience init(path: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try self.init(path: path, access: .readOnly)
    }

    /// Opens the existing file `path`; `.readWrite` lets datasets be written (`HDF5Dataset.write`)
    /// and objects be copied into it.
    public init(path: String, access: Access) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        self.path = path
        displayName = path
        let flags = access == .readOnly ? keraslite_H5F_ACC_RDONLY() : keraslite_H5F_ACC_RDWR()
        id = try checked("H5Fopen", path) {
            path.withCString { H5Fopen($0, flags, keraslite_H5P_DEFAULT()) }
        }
        attributeCheck = access == .readOnly ? HDF5AttributeCheck(path: path) : nil
    }

    private init(path: String, id: hid_t) {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        self.path = path
        displayName = path
        self.id = id
        attributeCheck = nil
    }

    deinit { HDF5Library.locked { _ = H5Fclose(id) } }

    /// The file's size in bytes, the bound for what any size read from it may claim.
    public var size: Int {
        var bytes: hsize_t = 0
        return HDF5Library.locked { H5Fget_filesize(id, &bytes) } < 0 ? Int.max / 2 : Int(min(bytes, hsize_t(Int.max / 2)))
    }

    /// Creates the new, empty file `path` (which must not exist yet), open read-write. With a
    /// `template`, the file takes the template's creation properties — superblock and B-tree
    /// parameters, user-block size, the root group's creation-order tracking — so copies of the
    /// template's objects land in a file laid out like the template.
    public static func create(path: String, like template: HDF5File? = nil) throws -> HDF5File {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        var creation = keraslite_H5P_DEFAULT()
        if let template {
            creation = try checked("H5Fget_create_plist", template.path) { H5Fget_create_plist(template.id) }
        }
        defer { if template != nil { H5Pclose(creation) } }
        let id = try checked("H5Fcreate", path) {
            path.withCString { H5Fcreate($0, keraslite_H5F_ACC_EXCL(), creation, keraslite_H5P_DEFAULT()) }
        }
        return HDF5File(path: path, id: id)
    }

    /// Writes everything libhdf5 still buffers for the file to disk, so write failures surface
    /// here rather than unreported at close.
    public func flush() throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try checked("H5Fflush", path) { H5Fflush(id, H5F_SCOPE_GLOBAL) }
    }

    /// The root group `/`.
    public func root() throws -> HDF5Group { try HDF5Group(file: self, path: "/") }

    /// True when the first bytes of the file at `path` are the HDF5 signature (cheap detection,
    /// no parsing).
    public static func hasSignature(path: String) -> Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return Array(head) == signature
    }
}

extension HDF5File {
    /// Checks (`HDF5AttributeCheck.checkGroup`) every group libhdf5 walks through to resolve the
    /// absolute `path` — the root and each proper prefix, each found by `H5Lget_info` only once its
    /// parent has passed — so a damaged local heap along the way is refused before libhdf5 loads
    /// it. A prefix that is missing or not a hard link is left to the call itself to report.
    /// Read-only files only; `call` and the path name the error.
    func checkGroups(along path: String, call: String) throws {
        guard let check = attributeCheck else { return }
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        func checkGroup(_ address: UInt64, _ prefix: String) throws {
            do {
                try check.checkGroup(headerAddress: address)
            } catch let problem as HDF5AttributeCheck.Problem {
                throw HDF5Error(call: call, path: "\(displayName):\(prefix)", detail: problem.detail)
            }
        }
        var root = H5O_info_t()
        guard H5Oget_info_by_name1(id, "/", &root, keraslite_H5P_DEFAULT()) >= 0 else {
            H5Eclear2(keraslite_H5E_DEFAULT())
            return
        }
        try checkGroup(UInt64(root.addr), "/")
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            var link = H5L_info_t()
            let linked = prefix.withCString { H5Lget_info(id, $0, &link, keraslite_H5P_DEFAULT()) }
            guard linked >= 0, link.type == H5L_TYPE_HARD else {
                H5Eclear2(keraslite_H5E_DEFAULT())
                return
            }
            try checkGroup(UInt64(link.u.address), prefix)
        }
    }
}
