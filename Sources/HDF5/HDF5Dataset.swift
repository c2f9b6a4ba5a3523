import CHDF5

/// An open HDF5 dataset. Opening reads only its header (shape, type, storage layout);
/// the data is read by `readFloats()` and, in a file opened read-write, replaced by `write(_:)`.
/// Closed in `deinit`.
public final class HDF5Dataset: HDF5Object, @unchecked Sendable {
    let id: hid_t
    public let file: HDF5File
    /// The dataset's absolute path inside the file.
    public let path: String

    init(file: HDF5File, path: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        self.file = file
        self.path = path
        try file.checkGroups(along: path, call: "H5Dopen2")
        if let check = file.attributeCheck {
            // H5Dopen2 decodes every message of the dataset's header (type, shape, layout, filters):
            // the header is checked first, found through the link alone.
            var link = H5L_info_t()
            let linked = path.withCString { H5Lget_info(file.id, $0, &link, keraslite_H5P_DEFAULT()) }
            if linked >= 0, link.type == H5L_TYPE_HARD {
                do {
                    try check.checkHeader(headerAddress: UInt64(link.u.address))
                } catch let problem as HDF5AttributeCheck.Problem {
                    throw HDF5Error(call: "H5Dopen2", path: "\(file.displayName):\(path)", detail: problem.detail)
                }
            }
            H5Eclear2(keraslite_H5E_DEFAULT())
        }
        id = try checked("H5Dopen2", "\(file.displayName):\(path)") {
            path.withCString { H5Dopen2(file.id, $0, keraslite_H5P_DEFAULT()) }
        }
    }

    deinit { HDF5Library.locked { _ = H5Dclose(id) } }

    public var objectID: hid_t { id }

    /// The dataset's dimensions (empty for a scalar).
    public func shape() throws -> [Int] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let space = try checked("H5Dget_space", location) { H5Dget_space(id) }
        defer { H5Sclose(space) }
        let rank = Int(try checked("H5Sget_simple_extent_ndims", location) { H5Sget_simple_extent_ndims(space) })
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 {
            try checked("H5Sget_simple_extent_dims", location) { H5Sget_simple_extent_dims(space, &dims, nil) }
        }
        return dims.map { Int($0) }
    }

    /// The number of elements; throws when the dimensions' product overflows.
    public func elementCount() throws -> Int {
        try shape().reduce(1) { count, dimension in
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw HDF5Error(call: "H5Dget_space", path: location, detail: "dimensions \(try shape()) overflow a 64-bit element count") }
            return product
        }
    }

    /// The most bytes a filtered (compressed) dataset may expand to per stored byte: deflate's
    /// limit is about 1032:1, so more means the declared shape is not what the file holds.
    public static let maximumExpansion = 1100

    /// Throws unless the declared shape could come from what the file stores — at most the file's
    /// size for raw data, at most `maximumExpansion` times its stored bytes through filters — and
    /// every filter it was written through is available: checked before any buffer is allocated.
    func checkReadable(count: Int) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let creation = try checked("H5Dget_create_plist", location) { H5Dget_create_plist(id) }
        defer { H5Pclose(creation) }
        let filters = Int(try checked("H5Pget_nfilters", location) { H5Pget_nfilters(creation) })
        for index in 0..<filters {
            var flags: UInt32 = 0, values = 0, configuration: UInt32 = 0
            var name = [CChar](repeating: 0, count: 64)
            let filter = H5Pget_filter2(creation, UInt32(index), &flags, &values, nil, name.count, &name, &configuration)
            guard filter >= 0 else { throw HDF5Error(call: "H5Pget_filter2", path: location, detail: HDF5Library.lastErrorMessage()) }
            if H5Zfilter_avail(filter) <= 0 {
                let label = String(cString: name)
                throw HDF5Error(call: "H5Dread", path: location,
                                detail: "stored through HDF5 filter \(filter)\(label.isEmpty ? "" : " (\(label))"), which this libhdf5 does not have")
            }
        }
        let width = max(1, try elementType().byteWidth)
        let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
        // A compact dataset keeps its bytes in its header; libhdf5 1.10 copies the declared size
        // out of a buffer of the stored size (a NULL one when that is 0) without comparing them.
        if H5Pget_layout(creation) == H5D_COMPACT, overflow || storageSize() != bytes {
            throw HDF5Error(call: "H5Dread", path: location,
                            detail: "a compact dataset stores \(storageSize()) bytes for \(count) elements of \(width) bytes")
        }
        let stored = min(storageSize(), file.size)
        let limit = filters == 0 ? file.size : stored.multipliedReportingOverflow(by: Self.maximumExpansion).partialValue + 4096
        guard !overflow, bytes <= limit else {
            throw HDF5Error(call: "H5Dread", path: location,
                            detail: "declares \(count) elements, more than the \(file.size)-byte file can hold")
        }
    }

    /// The element type as stored in the file.
    public func elementType() throws -> HDF5ElementType {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let type = try checked("H5Dget_type", location) { H5Dget_type(id) }
        defer { H5Tclose(type) }
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT: return .float(bits: size * 8)
        case H5T_INTEGER: return .integer(bits: size * 8, signed: H5Tget_sign(type) == H5T_SGN_2)
        case H5T_STRING: return .string
        default: return .other
        }
    }

    /// Bytes the data occupies in the file (after any HDF5 compression filter).
    public func storageSize() -> Int { HDF5Library.locked { Int(clamping: H5Dget_storage_size(id)) } }  // damaged files claim up to 2^64

    /// Reads the whole dataset converted to Float (float16/float64/integers are converted by libhdf5),
    /// in C (row-major) order.
    public func readFloats() throws -> [Float] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let count = try elementCount()
        try checkReadable(count: count)
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                try read(into: buffer)
            }
            initialized = count
        }
    }

    /// Reads the whole dataset as Float into `buffer`, which must hold exactly `elementCount()` values.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let count = try elementCount()
        guard buffer.count == count else {
            throw HDF5Error(call: "H5Dread", path: location, detail: "buffer holds \(buffer.count) of \(count) values")
        }
        try checkReadable(count: count)
        switch try elementType() {
        case .float, .integer: break
        case let other: throw HDF5Error(call: "H5Dread", path: location, detail: "\(other) is not a numeric dataset")
        }
        try checked("H5Dread", location) {
            H5Dread(id, keraslite_H5T_NATIVE_FLOAT(), keraslite_H5S_ALL(), keraslite_H5S_ALL(), keraslite_H5P_DEFAULT(), buffer.baseAddress)
        }
    }

    /// Overwrites the whole dataset with `values` in C (row-major) order; libhdf5 converts them to
    /// the stored float type (float16 rounds to nearest, float64 widens exactly) and keeps the
    /// dataset's type, shape, layout, filters and attributes. The file must be open read-write;
    /// throws unless the dataset stores floats and `values` holds exactly `elementCount()` values.
    public func write(_ values: [Float]) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let count = try elementCount()
        guard values.count == count else {
            throw HDF5Error(call: "H5Dwrite", path: location, detail: "\(values.count) values for a dataset of \(count)")
        }
        guard case .float = try elementType() else {
            throw HDF5Error(call: "H5Dwrite", path: location, detail: "\(try elementType()) is not a float dataset")
        }
        if count == 0 { return }
        _ = try values.withUnsafeBufferPointer { buffer in
            try checked("H5Dwrite", location) {
                H5Dwrite(id, keraslite_H5T_NATIVE_FLOAT(), keraslite_H5S_ALL(), keraslite_H5S_ALL(), keraslite_H5P_DEFAULT(), buffer.baseAddress)
            }
        }
    }
}

/// The class and width of a dataset's stored elements.
public enum HDF5ElementType: Equatable, Sendable, CustomStringConvertible {
    case float(bits: Int)
    case integer(bits: Int, signed: Bool)
    case string
    case other

    public var description: String {
        switch self {
        case .float(let bits): return "float\(bits)"
        case .integer(let bits, let signed): return (signed ? "int" : "uint") + "\(bits)"
        case .string: return "string"
        case .other: return "other"
        }
    }

    /// Bytes per element as stored (0 when unknown).
    public var byteWidth: Int {
        switch self {
        case .float(let bits), .integer(let bits, _): return bits / 8
        default: return 0
        }
    }
}
