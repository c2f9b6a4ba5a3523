import CHDF5

/// Behaviour shared by groups and datasets: both carry attributes.
public protocol HDF5Object: AnyObject {
    var file: HDF5File { get }
    var path: String { get }
    var objectID: hid_t { get }
}

extension HDF5Object {
    /// "file:path", the location used in error messages.
    public var location: String { "\(file.displayName):\(path)" }

    /// True when the object has an attribute called `name`; false too when its attributes are
    /// damaged (`attribute(_:)` and `attributeNames()` then say how).
    public func hasAttribute(_ name: String) -> Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        HDF5Library.initialize()
        guard (try? checkAttributes()) != nil else { return false }
        return name.withCString { H5Aexists(objectID, $0) } > 0
    }

    /// The names of all attributes of the object, in name order.
    public func attributeNames() throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try checkAttributes()
        return try attributeNames(by: H5_INDEX_NAME)
    }

    /// Throws when an attribute's stored bytes would make libhdf5 read out of bounds or loop
    /// (`HDF5AttributeCheck`); libhdf5 decodes every attribute of an object to find any one.
    func checkAttributes() throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        guard let check = file.attributeCheck else { return }
        var info = H5O_info_t()
        try checked("H5Oget_info", location) { H5Oget_info2(objectID, &info, UInt32(H5O_INFO_BASIC)) }
        do {
            try check.checkAttributes(headerAddress: UInt64(info.addr))
        } catch let problem as HDF5AttributeCheck.Problem {
            throw HDF5Error(call: "read attributes", path: location, detail: problem.detail)
        }
    }

    /// Copies every attribute of the object to `destination` (an object in a file open read-write),
    /// each with its datatype, shape and value unchanged, in creation order where the object tracks
    /// it.
    public func copyAttributes(to destination: some HDF5Object) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try checkAttributes()
        let names = try (try? attributeNames(by: H5_INDEX_CRT_ORDER)) ?? attributeNames()
        for name in names {
            try attribute(name).copy(to: destination, as: name)
        }
    }

    private func attributeNames(by order: H5_index_t) throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        var names: [String] = []
        var index: hsize_t = 0
        _ = try withUnsafeMutablePointer(to: &names) { pointer in
            try checked("H5Aiterate2", location) {
                H5Aiterate2(objectID, order, H5_ITER_INC, &index, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, pointer)
            }
        }
        return names
    }

    /// Opens the attribute `name`.
    public func attribute(_ name: String) throws -> HDF5Attribute {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try checkAttributes()
        return try HDF5Attribute(owner: self, name: name)
    }

    /// Reads a string-array attribute that Keras may have split into `name0`, `name1`, … because
    /// HDF5 object headers hold at most 64 KB; returns nil when neither form exists.
    public func chunkedStringsAttribute(_ name: String) throws -> [String]? {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try checkAttributes()
        if hasAttribute(name) { return try attribute(name).readStrings() }
        var values: [String] = []
        var chunk = 0
        while hasAttribute("\(name)\(chunk)") {
            values += try attribute("\(name)\(chunk)").readStrings()
            chunk += 1
        }
        return chunk == 0 ? nil : values
    }
}

extension HDF5Object {
    /// Writes the scalar attribute `name` as a variable-length UTF-8 string (what h5py writes for a
    /// Python `str`, e.g. Keras' `model_config`), replacing an attribute of that name.
    public func writeStringAttribute(_ name: String, _ value: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let target = "\(location)@\(name)"
        if hasAttribute(name) {
            try checked("H5Adelete", target) { name.withCString { H5Adelete(objectID, $0) } }
        }
        let type = try checked("H5Tcopy", target) { H5Tcopy(keraslite_H5T_C_S1()) }
        defer { H5Tclose(type) }
        try checked("H5Tset_size", target) { H5Tset_size(type, keraslite_H5T_VARIABLE()) }
        try checked("H5Tset_cset", target) { H5Tset_cset(type, H5T_CSET_UTF8) }
        let space = try checked("H5Screate", target) { H5Screate(H5S_SCALAR) }
        defer { H5Sclose(space) }
        let attribute = try checked("H5Acreate2", target) {
            name.withCString { H5Acreate2(objectID, $0, type, space, keraslite_H5P_DEFAULT(), keraslite_H5P_DEFAULT()) }
        }
        defer { H5Aclose(attribute) }
        try value.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            try checked("H5Awrite", target) { H5Awrite(attribute, type, &pointer) }
        }
    }
}
