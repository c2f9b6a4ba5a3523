import CHDF5

/// An open HDF5 group. Closed in `deinit`.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
    let id: hid_t
    public let file: HDF5File
    /// The group's absolute path inside the file.
    public let path: String
    /// The address of the group's object header: the same for every path that reaches the group,
    /// so walks can tell a group they have already seen (a hostile file links a group into itself).
    public let address: UInt64

    init(file: HDF5File, path: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        self.file = file
        self.path = path
        try file.checkGroups(along: path, call: "H5Gopen2")
        id = try checked("H5Gopen2", "\(file.displayName):\(path)") {
            path.withCString { H5Gopen2(file.id, $0, keraslite_H5P_DEFAULT()) }
        }
        var info = H5O_info_t()
        let opened = id
        do {
            try checked("H5Oget_info", "\(file.displayName):\(path)") { H5Oget_info2(opened, &info, UInt32(H5O_INFO_BASIC)) }
        } catch {
            H5Gclose(opened)  // deinit does not run for an instance that never finished initialising
            throw error
        }
        address = UInt64(info.addr)
        if let check = file.attributeCheck {
            // Before libhdf5 walks the group's link names (HDF5AttributeCheck.checkGroup). Checked
            // here, at the address libhdf5 opened, rather than with the path before opening: a
            // group reached through a soft link has no hard link for checkGroups to follow.
            do {
                try check.checkGroup(headerAddress: UInt64(info.addr))
            } catch let problem as HDF5AttributeCheck.Problem {
                throw HDF5Error(call: "H5Gopen2", path: location, detail: problem.detail)
            }
        }
    }

    deinit { HDF5Library.locked { _ = H5Gclose(id) } }

    public var objectID: hid_t { id }

    /// The names of the group's direct children (groups, datasets, links), in name order.
    public func childNames() throws -> [String] { try childNames(by: H5_INDEX_NAME) }

    /// The names of the group's direct children in the order they were created when the group
    /// tracks creation order, else in name order — the order in which to recreate them.
    public func childNamesInCreationOrder() throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try (try? childNames(by: H5_INDEX_CRT_ORDER)) ?? childNames()
    }

    private func childNames(by index: H5_index_t) throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
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
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let target = name ?? String(path.split(separator: "/").last ?? Substring(path))
        try checked("H5Ocopy", "\(file.path):\(join(path)) -> \(destination.file.path):\(destination.join(target))") {
            path.withCString { source in
                target.withCString { H5Ocopy(id, source, destination.id, $0, keraslite_H5P_DEFAULT(), keraslite_H5P_DEFAULT()) }
            }
        }
    }

    /// True when a link named by the relative `path` exists (every intermediate group must exist).
    public func contains(_ path: String) -> Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        HDF5Library.initialize()
        // A group along the way whose local heap fails the check holds nothing keraslite reads.
        guard (try? file.checkGroups(along: join(path), call: "H5Lexists")) != nil else { return false }
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
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try file.checkGroups(along: join(path), call: "H5Oget_info_by_name")
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
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try HDF5Group(file: file, path: join(path))
    }

    /// Opens the dataset at the relative `path`.
    public func dataset(_ path: String) throws -> HDF5Dataset {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try HDF5Dataset(file: file, path: join(path))
    }

    func join(_ child: String) -> String {
        path == "/" ? "/" + child : path + "/" + child
    }
}

/// What an HDF5 link points at.
public enum HDF5ObjectKind: Sendable { case group, dataset, other }

extension HDF5Group {
    /// Creates the child group `name` (the file must be open read-write), with `source`'s creation
    /// properties when given (link creation-order tracking, so a copy lists children like the source).
    public func createGroup(_ name: String, like source: HDF5Group? = nil) throws -> HDF5Group {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        var creation = keraslite_H5P_DEFAULT()
        if let source { creation = try checked("H5Gget_create_plist", source.location) { H5Gget_create_plist(source.id) } }
        defer { if source != nil { H5Pclose(creation) } }
        let made = try checked("H5Gcreate2", "\(file.path):\(join(name))") {
            name.withCString { H5Gcreate2(id, $0, keraslite_H5P_DEFAULT(), creation, keraslite_H5P_DEFAULT()) }
        }
        H5Gclose(made)
        return try group(name)
    }

    /// Creates the dataset `name` with `source`'s element type and attributes but the new `shape`
    /// (contiguous layout), holding `values` in C order, converted by libhdf5 to the stored type.
    public func createDataset(_ name: String, like source: HDF5Dataset, shape: [Int], values: [Float]) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let target = "\(file.path):\(join(name))"
        guard shape.allSatisfy({ $0 >= 0 }), values.count == shape.reduce(1, *) else {
            throw HDF5Error(call: "H5Dcreate2", path: target, detail: "\(values.count) values for shape \(shape)")
        }
        guard case .float = try source.elementType() else {
            throw HDF5Error(call: "H5Dcreate2", path: target, detail: "\(try source.elementType()) is not a float dataset")
        }
        let type = try checked("H5Dget_type", source.location) { H5Dget_type(source.id) }
        defer { H5Tclose(type) }
        let dimensions = shape.map { hsize_t($0) }
        let space = try checked("H5Screate_simple", target) { H5Screate_simple(Int32(dimensions.count), dimensions, nil) }
        defer { H5Sclose(space) }
        let dataset = try checked("H5Dcreate2", target) {
            name.withCString { H5Dcreate2(id, $0, type, space, keraslite_H5P_DEFAULT(), keraslite_H5P_DEFAULT(), keraslite_H5P_DEFAULT()) }
        }
        defer { H5Dclose(dataset) }
        if !values.isEmpty {
            _ = try values.withUnsafeBufferPointer { buffer in
                try checked("H5Dwrite", target) {
                    H5Dwrite(dataset, keraslite_H5T_NATIVE_FLOAT(), keraslite_H5S_ALL(), keraslite_H5S_ALL(), keraslite_H5P_DEFAULT(), buffer.baseAddress)
                }
            }
        }
        try source.copyAttributes(to: try self.dataset(name))
    }
}
