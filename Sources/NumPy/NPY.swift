import Foundation
import Kernels

/// An array read from a `.npy` file: its shape, numpy's dtype description (`<f4`, `|u1`, …) and
/// its values converted to Float (integers by value, no scaling).
public struct NPYArray: Sendable {
    public var shape: [Int]
    public var dtype: String
    public var values: [Float]

    /// The values as an interpreter tensor.
    public var tensor: TensorValue { TensorValue(unchecked: shape, values) }

    /// True for integer and bool dtypes (`<i4`, `|u1`, `|b1`, …): the values are exact integers.
    public var hasIntegerType: Bool {
        let kind = dtype.drop { "<>|=".contains($0) }.first
        return kind == "i" || kind == "u" || kind == "b"
    }
}

/// Element types keraslite writes `.npy` files in.
public enum NPYElementType: String, Sendable, CaseIterable {
    case float32 = "<f4", int8 = "|i1", uint8 = "|u1", int16 = "<i2", int32 = "<i4", int64 = "<i8", bool = "|b1"

    var width: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .int16: return 2
        case .float32, .int32: return 4
        case .int64: return 8
        }
    }
}

/// Why a `.npy` (or `.npz`) file cannot be read.
public enum NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    case notNPY(String)
    case malformedHeader(String)
    case unsupportedDType(String)
    case fortranOrder
    case truncated(expected: Int, actual: Int)
    case archive(String)
    /// Sample files (`SampleFiles`) that cannot be read or matched to a model's inputs.
    case samples(file: String, problem: String)

    public var description: String {
        switch self {
        case .notNPY(let reason): return "not a .npy file (\(reason))"
        case .malformedHeader(let reason): return "malformed .npy header: \(reason)"
        case .unsupportedDType(let dtype):
            return "unsupported .npy dtype '\(dtype)' (bool, integers and float16/32/64 are read)"
        case .samples(let file, let problem): return "\(file): \(problem)"
        case .fortranOrder: return ".npy array in Fortran order; save it C-ordered (np.ascontiguousarray)"
        case .truncated(let expected, let actual): return ".npy data holds \(actual) bytes, the header promises \(expected)"
        case .archive(let reason): return "cannot read the .npz archive: \(reason)"
        }
    }
}

/// numpy's `.npy` format, versions 1–3: reads C-ordered bool, integer and float arrays of either
/// byte order as Float; writes float32 (`<f4`, version 1.0 unless the header needs 2.0).
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads the `.npy` file at `path`.
    public static func read(path: String) throws -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw NPYError.notNPY("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        return try decode(data)
    }

    /// Decodes the bytes of a `.npy` file.
    public static func decode(_ data: Data) throws -> NPYArray {
        try data.withUnsafeBytes { bytes in try decode(bytes) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> NPYArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw NPYError.notNPY("no \\x93NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError.notNPY("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw NPYError.notNPY("format version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else { throw NPYError.notNPY("truncated header") }
        let header = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)]), as: UTF8.self)
        let (dtype, fortranOrder, shape) = try parseHeader(header)
        if fortranOrder && shape.count > 1 { throw NPYError.fortranOrder }
        guard let count = checkedCount(shape) else { throw NPYError.malformedHeader("shape \(shape) is too large") }
        let (kind, width, bigEndian) = try parseDType(dtype)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(headerStart + headerLength)...])
        let (expected, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, payload.count >= expected else { throw NPYError.truncated(expected: expected, actual: payload.count) }
        let values = convert(payload, count: count, kind: kind, width: width, bigEndian: bigEndian)
        return NPYArray(shape: shape, dtype: dtype, values: values)
    }

    /// The dict literal numpy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
    static func parseHeader(_ header: String) throws -> (dtype: String, fortranOrder: Bool, shape: [Int]) {
        func value(after key: String) throws -> Substring {
            for quote in ["'", "\""] {
                if let range = header.range(of: quote + key + quote) {
                    let rest = header[range.upperBound...].drop { $0 == " " }
                    guard rest.first == ":" else { break }
                    return rest.dropFirst().drop { $0 == " " }
                }
            }
            throw NPYError.malformedHeader("no '\(key)' in \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let descrText = try value(after: "descr")
        guard let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote) else {
            throw NPYError.unsupportedDType(String(descrText.prefix(20)))  // structured dtypes are lists
        }
        let dtype = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        let fortranText = try value(after: "fortran_order")
        let fortranOrder: Bool
        if fortranText.hasPrefix("True") { fortranOrder = true } else if fortranText.hasPrefix("False") { fortranOrder = false } else {
            throw NPYError.malformedHeader("fortran_order is neither True nor False")
        }
        let shapeText = try value(after: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw NPYError.malformedHeader("shape is not a tuple")
        }
        var shape: [Int] = []
        for part in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if trimmed.isEmpty { continue }
            guard let dimension = Int(trimmed), dimension >= 0 else { throw NPYError.malformedHeader("shape entry '\(trimmed)'") }
            shape.append(dimension)
        }
        return (dtype, fortranOrder, shape)
    }

    enum Kind { case float, signed, unsigned, bool }

    static func parseDType(_ dtype: String) throws -> (Kind, Int, bigEndian: Bool) {
        var characters = Substring(dtype)
        var bigEndian = false
        if let order = characters.first, "<>|=".contains(order) {
            bigEndian = order == ">"
            characters = characters.dropFirst()
        }
        guard let kindCharacter = characters.first, let width = Int(characters.dropFirst()) else { throw NPYError.unsupportedDType(dtype) }
        let kind: Kind
        switch (kindCharacter, width) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: throw NPYError.unsupportedDType(dtype)
        }
        return (kind, width, bigEndian && width > 1)
    }

    private static func convert(_ payload: UnsafeRawBufferPointer, count: Int, kind: Kind, width: Int, bigEndian: Bool) -> [Float] {
        @inline(__always) func bits<T: FixedWidthInteger>(_ index: Int, _: T.Type) -> T {
            let raw = payload.loadUnaligned(fromByteOffset: index * width, as: T.self)
            return bigEndian ? raw.byteSwapped : T(littleEndian: raw)
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            switch (kind, width) {
            case (.float, 4) where !bigEndian:
                if count > 0 { memcpy(buffer.baseAddress!, payload.baseAddress!, count * 4) }
            case (.float, 4): for i in 0..<count { buffer[i] = Float(bitPattern: bits(i, UInt32.self)) }
            case (.float, 8): for i in 0..<count { buffer[i] = Float(Double(bitPattern: bits(i, UInt64.self))) }
            case (.float, _): for i in 0..<count { buffer[i] = Float(halfBits: bits(i, UInt16.self)) }
            case (.signed, 1): for i in 0..<count { buffer[i] = Float(Int8(bitPattern: payload[i])) }
            case (.signed, 2): for i in 0..<count { buffer[i] = Float(Int16(bitPattern: bits(i, UInt16.self))) }
            case (.signed, 4): for i in 0..<count { buffer[i] = Float(Int32(bitPattern: bits(i, UInt32.self))) }
            case (.signed, _): for i in 0..<count { buffer[i] = Float(Int64(bitPattern: bits(i, UInt64.self))) }
            case (.unsigned, 1), (.bool, _): for i in 0..<count { buffer[i] = Float(payload[i]) }
            case (.unsigned, 2): for i in 0..<count { buffer[i] = Float(bits(i, UInt16.self)) }
            case (.unsigned, 4): for i in 0..<count { buffer[i] = Float(bits(i, UInt32.self)) }
            case (.unsigned, _): for i in 0..<count { buffer[i] = Float(bits(i, UInt64.self)) }
            }
            initialized = count
        }
    }

    /// The bytes of a little-endian float32 `.npy` file holding `value`.
    public static func encode(_ value: TensorValue) -> [UInt8] { encode(value, as: .float32) }

    /// The bytes of a `.npy` file holding `value` as `type`: integer types round each value to
    /// the nearest integer and clamp it to the type's range (NaN becomes 0), bool writes value ≠ 0.
    public static func encode(_ value: TensorValue, as type: NPYElementType) -> [UInt8] {
        let shapeText: String
        switch value.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(value.shape[0]),)"
        default: shapeText = "(" + value.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(type.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Version 1.0 has a 2-byte header length; the preamble plus header is padded to 64 bytes.
        let version2 = header.utf8.count + 11 > 0xFFFF
        let preamble = version2 ? 12 : 10
        header += String(repeating: " ", count: (64 - (preamble + header.utf8.count + 1) % 64) % 64) + "\n"
        let length = header.utf8.count
        var bytes = magic + [version2 ? 2 : 1, 0]
        bytes += version2 ? (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
                          : [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + value.count * type.width)
        func integers<T: FixedWidthInteger>(_: T.Type) {
            for element in value.values {
                let clamped = element.isNaN ? 0 : min(max(element.rounded(), Float(T.min)), Float(T.max))
                // Float(T.max) may round up past T.max (Int32, Int64): convert saturating.
                let integer = clamped >= Float(T.max) ? T.max : T(clamped)
                withUnsafeBytes(of: integer.littleEndian) { bytes += $0 }
            }
        }
        switch type {
        case .float32:
            value.values.withUnsafeBytes { raw in
                if 1.littleEndian == 1 {
                    bytes += raw
                } else {
                    for element in value.values { withUnsafeBytes(of: element.bitPattern.littleEndian) { bytes += $0 } }
                }
            }
        case .int8: integers(Int8.self)
        case .uint8: integers(UInt8.self)
        case .int16: integers(Int16.self)
        case .int32: integers(Int32.self)
        case .int64: integers(Int64.self)
        case .bool: bytes += value.values.map { $0 != 0 ? 1 : 0 }
        }
        return bytes
    }
}

extension Float {
    /// An IEEE half-precision bit pattern as Float (without relying on the Float16 type).
    public init(halfBits: UInt16) {
        let sign: Float = halfBits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(halfBits >> 10) & 0x1F, fraction = Float(halfBits & 0x3FF)
        switch exponent {
        case 0: self = sign * fraction * Float(sign: .plus, exponent: -24, significand: 1)
        case 0x1F: self = fraction == 0 ? sign * .infinity : .nan
        default: self = sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
