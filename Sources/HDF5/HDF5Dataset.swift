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
        self.file = file
        self.path = path
        id = try checked("H5Dopen2", "\(file.path):\(path)") {
            path.withCString { H5Dopen2(file.id, $0, keraslite_H5P_DEFAULT()) }
        }
    }

    deinit { H5Dclose(id) }

    public var objectID: hid_t { id }

    /// The dataset's dimensions (empty for a scalar).
    public func shape() throws -> [Int] {
        let space = try checked("H5Dget_space", location) { H5Dget_space(id) }
        defer { H5Sclose(space) }
        let rank = Int(try checked("H5Sget_simple_extent_ndims", location) { H5Sget_simple_extent_ndims(space) })
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 {
            try checked("H5Sget_simple_extent_dims", location) { H5Sget_simple_extent_dims(space, &dims, nil) }
        }
        return dims.map { Int($0) }
    }

    /// The number of elements.
    public func elementCount() throws -> Int { try shape().reduce(1, *) }

    /// The element type as stored in the file.
    public func elementType() throws -> HDF5ElementType {
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
    public func storageSize() -> Int { Int(H5Dget_storage_size(id)) }

    /// Reads the whole dataset converted to Float (float16/float64/integers are converted by libhdf5),
    /// in C (row-major) order.
    public func readFloats() throws -> [Float] {
        let count = try elementCount()
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                try read(into: buffer)
            }
            initialized = count
        }
    }

    /// Reads the whole dataset as Float into `buffer`, which must hold exactly `elementCount()` values.
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        let count = try elementCount()
        guard buffer.count == count else {
            throw HDF5Error(call: "H5Dread", path: location, detail: "buffer holds \(buffer.count) of \(count) values")
        }
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
