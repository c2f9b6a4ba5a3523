import CHDF5

/// An open HDF5 attribute. Closed in `deinit`.
public final class HDF5Attribute: @unchecked Sendable {
    let id: hid_t
    /// "file:object@name", used in error messages.
    public let location: String

    init(owner: some HDF5Object, name: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        location = "\(owner.location)@\(name)"
        id = try checked("H5Aopen", location) {
            name.withCString { H5Aopen(owner.objectID, $0, keraslite_H5P_DEFAULT()) }
        }
    }

    deinit { HDF5Library.locked { _ = H5Aclose(id) } }

    /// The number of elements (1 for a scalar attribute).
    public func elementCount() throws -> Int {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let space = try checked("H5Aget_space", location) { H5Aget_space(id) }
        defer { H5Sclose(space) }
        return Int(try checked("H5Sget_simple_extent_npoints", location) { H5Sget_simple_extent_npoints(space) })
    }

    /// Reads a string or string-array attribute, variable- or fixed-length, trimming the padding
    /// of fixed-length strings. Throws when the attribute is not a string type.
    public func readStrings() throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        // h5py writes an empty list as a zero-length float array; that is an empty string list too.
        let count = try elementCount()
        if count == 0 { return [] }
        let fileType = try checked("H5Aget_type", location) { H5Aget_type(id) }
        defer { H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_STRING else {
            throw HDF5Error(call: "read string attribute", path: location, detail: "not a string")
        }
        let memoryType = try checked("H5Tcopy", location) { H5Tcopy(keraslite_H5T_C_S1()) }
        defer { H5Tclose(memoryType) }
        H5Tset_cset(memoryType, H5Tget_cset(fileType))

        if try checked("H5Tis_variable_str", location, { H5Tis_variable_str(fileType) }) > 0 {
            try checked("H5Tset_size", location) { H5Tset_size(memoryType, keraslite_H5T_VARIABLE()) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try checked("H5Aread", location) { H5Aread(id, memoryType, &pointers) }
            defer { for pointer in pointers { H5free_memory(pointer) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }

        let size = H5Tget_size(fileType)
        guard size > 0 else { return Array(repeating: "", count: count) }
        try checked("H5Tset_size", location) { H5Tset_size(memoryType, size) }
        // NULLTERM (the C default) would spend the last byte on a terminator and cut full-width strings.
        try checked("H5Tset_strpad", location) { H5Tset_strpad(memoryType, H5T_STR_NULLPAD) }
        var bytes = [UInt8](repeating: 0, count: size * count)
        try checked("H5Aread", location) { H5Aread(id, memoryType, &bytes) }
        return (0..<count).map { index in
            let slice = bytes[(index * size)..<((index + 1) * size)]
            let end = slice.firstIndex(of: 0) ?? slice.endIndex
            var text = String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
            while text.last == " " { text.removeLast() }  // space-padded strings
            return text
        }
    }

    /// Copies the attribute to `name` on `destination` (an object in a file open read-write): the
    /// same datatype (fixed- and variable-length strings included), dataspace, creation properties
    /// and value. Object references are refused: they would point into the source file.
    public func copy(to destination: some HDF5Object, as name: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let target = "\(destination.location)@\(name)"
        let type = try checked("H5Aget_type", location) { H5Aget_type(id) }
        defer { H5Tclose(type) }
        let space = try checked("H5Aget_space", location) { H5Aget_space(id) }
        defer { H5Sclose(space) }
        let creation = try checked("H5Aget_create_plist", location) { H5Aget_create_plist(id) }
        defer { H5Pclose(creation) }
        guard try checked("H5Tdetect_class", location, { H5Tdetect_class(type, H5T_REFERENCE) }) == 0 else {
            throw HDF5Error(call: "copy attribute", path: location, detail: "holds references into its own file")
        }
        let elementSize = H5Tget_size(type)
        guard elementSize > 0 else { throw HDF5Error(call: "H5Tget_size", path: location, detail: HDF5Library.lastErrorMessage()) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, elementSize * (try elementCount())), alignment: 16)
        defer { buffer.deallocate() }
        try checked("H5Aread", location) { H5Aread(id, type, buffer) }
        // Variable-length values (strings included) were read as pointers libhdf5 allocated.
        let holdsVariableLength = H5Tis_variable_str(type) > 0 || H5Tdetect_class(type, H5T_VLEN) > 0
            || H5Tdetect_class(type, H5T_STRING) > 0
        defer { if holdsVariableLength { H5Dvlen_reclaim(type, space, keraslite_H5P_DEFAULT(), buffer) } }
        let copy = try checked("H5Acreate2", target) {
            name.withCString { H5Acreate2(destination.objectID, $0, type, space, creation, keraslite_H5P_DEFAULT()) }
        }
        defer { H5Aclose(copy) }
        try checked("H5Awrite", target) { H5Awrite(copy, type, buffer) }
    }

    /// Reads a single string attribute (the first element of a string array).
    public func readString() throws -> String {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        guard let first = try readStrings().first else {
            throw HDF5Error(call: "read string attribute", path: location, detail: "empty")
        }
        return first
    }
}
