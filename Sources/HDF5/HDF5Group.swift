import CHDF5

/// An open HDF5 group. Closed in `deinit`.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
    let id: hid_t
    public let file: HDF5File
    /// The group's absolute path inside the file.
    public let path: String

    init(file: HDF5File, path: String) throws {
        self.file = file
        self.path = path
        id = try checked("H5Gopen2", "\(file.path):\(path)") {
            path.withCString { H5Gopen2(file.id, $0, keraslite_H5P_DEFAULT()) }
        }
        if let check = file.attributeCheck {
            // Before libhdf5 walks the group's link names (HDF5AttributeCheck.checkGroup).
            var info = H5O_info_t()
            try checked("H5Oget_info", location) { H5Oget_info2(id, &info, UInt32(H5O_INFO_BASIC)) }
            do {
                try check.checkGroup(headerAddress: UInt64(info.addr))
            } catch let problem as HDF5AttributeCheck.Problem {
                throw HDF5Error(call: "H5Gopen2", path: location, detail: problem.detail)
            }
        }
    }

    deinit { H5Gclose(id) }

    public var objectID: hid_t { id }

    /// The names of the group's direct children (groups, datasets, links), in name order.
    public func childNames() throws -> [String] { try childNames(by: H5_INDEX_NAME) }

    /// The names of the group's direct children in the order they were created when the group
    /// tracks creation order, else in name order — the order in which to recreate them.
    public func childNamesInCreationOrder() throws -> [String] {
        try (try? childNames(by: H5_INDEX_CRT_ORDER)) ?? childNames()
    }

    private func childNames(by index: H5_index_t) throws -> [String] {
        var names: [String] = []
        var position: hsize_t = 0
        _ = try withUnsafeMutablePointer(to: &names) { pointer in
            try checked("H5Literate", location) {
                H5Literate(id, index, H5_ITER_INC, &position, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, pointer)
            }
        }
        return names
    }

    /// Copies the object at the relative `path` to `name` (default: the same last path component)
    /// in `destination`, which may be in another file open read-write. `H5Ocopy` copies a dataset's
    /// type, shape, layout, filters, stored bytes and attributes unchanged, and a group with
    /// everything below it.
    public func copy(_ path: String, to destination: HDF5Group, as name: String? = nil) throws {
        let target = name ?? String(path.split(separator: "/").last ?? Substring(path))
        try checked("H5Ocopy", "\(file.path):\(join(path)) -> \(destination.file.path):\(destination.join(target))") {
            path.withCString { source in
                target.withCString { H5Ocopy(id, source, destination.id, $0, keraslite_H5P_DEFAULT(), keraslite_H5P_DEFAULT()) }
            }
        }
    }

    /// True when a link named by the relative `path` exists (every intermediate group must exist).
    public func contains(_ path: String) -> Bool {
        HDF5Library.initialize()
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            let exists = prefix.withCString { H5Lexists(id, $0, keraslite_H5P_DEFAULT()) }
            if exists <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// The kind of the object at the relative `path`.
    public func objectKind(_ path: String) throws -> HDF5ObjectKind {
        var info = H5O_info_t()
        try checked("H5Oget_info_by_name", location + "/" + path) {
            path.withCString { H5Oget_info_by_name1(id, $0, &info, keraslite_H5P_DEFAULT()) }
        }
        switch info.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }

    /// Opens the child group at the relative `path`.
    public func group(_ path: String) throws -> HDF5Group {
        try HDF5Group(file: file, path: join(path))
    }

    /// Opens the dataset at the relative `path`.
    public func dataset(_ path: String) throws -> HDF5Dataset {
        try HDF5Dataset(file: file, path: join(path))
    }

    func join(_ child: String) -> String {
        path == "/" ? "/" + child : path + "/" + child
    }
}

/// What an HDF5 link points at.
public enum HDF5ObjectKind: Sendable { case group, dataset, other }
