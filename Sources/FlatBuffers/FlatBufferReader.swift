import Foundation

/// Reads a FlatBuffer with every offset and length checked against the buffer, so a damaged or
/// hostile file is an error, never a crash or a hang. Knows nothing of any schema.
///
/// Works on `Data`, so a memory-mapped file is read in place: byte vectors come back as slices
/// of the mapping, not copies.
public struct FlatBufferReader: @unchecked Sendable {
    /// The buffer, re-based so that its indices start at 0.
    public let bytes: Data
    /// Bytes the reader may still turn into Swift values (strings, scalar vectors, table lists).
    /// Offsets may point many times at the same data — a vector of a million offsets to one table
    /// holding a long vector — so without this cap a small hostile file could make the reader
    /// do work and allocate memory far beyond its size.
    let budget: Budget

    public init(bytes: [UInt8], fileIdentifier: String? = nil) throws {
        try self.init(data: Data(bytes), fileIdentifier: fileIdentifier)
    }

    /// Opens `data`, checking the root offset and, when given, the 4-byte file identifier.
    public init(data: Data, fileIdentifier: String? = nil) throws {
        let bytes = data.startIndex == 0 ? data : Data(data)
        self.bytes = bytes
        budget = Budget(limit: Self.decodeLimit(size: bytes.count))
        guard bytes.count >= 8 else { throw FlatBufferError.outOfBounds(what: "root offset", offset: 0, size: bytes.count) }
        if let fileIdentifier {
            guard Array(bytes[4..<8]) == Array(fileIdentifier.utf8) else {
                throw FlatBufferError.wrongIdentifier(expected: fileIdentifier, found: Self.printable(bytes[4..<8]))
            }
        }
    }

    /// Bytes a buffer of `size` bytes may decode to: 16 times its size plus 1 MiB. A well-formed
    /// buffer read once needs about its size; only data shared by many offsets comes near this.
    static func decodeLimit(size: Int) -> Int {
        size > (Int.max - (1 << 20)) / 16 ? Int.max : 16 * size + (1 << 20)
    }

    /// Raw bytes for a one-line message: printable ASCII as is, anything else as `\xNN`.
    static func printable(_ bytes: Data) -> String {
        bytes.map { byte in
            byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\")
                ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(2)
        }.joined()
    }

    /// Counts down the bytes decoded; shared by copies of the reader and its tables.
    final class Budget: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: Int
        let limit: Int

        init(limit: Int) {
            self.limit = limit
            remaining = limit
        }

        func spend(_ amount: Int) throws {
            lock.lock()
            defer { lock.unlock() }
            guard amount >= 0, amount <= remaining else {
                throw FlatBufferError.invalid(
                    "the FlatBuffer decodes to more than \(limit) bytes of strings and vectors (offsets reuse the same data over and over)")
            }
            remaining -= amount
        }
    }

    /// The root table.
    public func root() throws -> Table {
        try table(at: Int(try read(UInt32.self, at: 0)), depth: 0)
    }

    func check(_ what: String, _ offset: Int, _ count: Int) throws {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw FlatBufferError.outOfBounds(what: what, offset: offset, size: bytes.count)
        }
    }

    func read<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        try check("\(T.self)", offset, MemoryLayout<T>.size)
        return bytes.withUnsafeBytes { raw in
            T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
    }

    /// The string whose length prefix is at `at`, charged to the budget.
    func string(at: Int) throws -> String {
        let length = Int(try read(UInt32.self, at: at))
        try check("string", at + 4, length)
        try budget.spend(length)
        return String(decoding: bytes[(at + 4)..<(at + 4 + length)], as: UTF8.self)
    }

    func table(at position: Int, depth: Int) throws -> Table {
        guard depth < 64 else { throw FlatBufferError.tooDeep }
        let soffset = Int(try read(Int32.self, at: position))
        let vtable = position - soffset
        let vtableLength = Int(try read(UInt16.self, at: vtable))
        guard vtableLength >= 4, vtableLength % 2 == 0 else { throw FlatBufferError.invalid("bad vtable at byte \(vtable)") }
        try check("vtable", vtable, vtableLength)
        let objectLength = Int(try read(UInt16.self, at: vtable + 2))
        try check("table", position, objectLength)
        return Table(reader: self, position: position, vtable: vtable, vtableLength: vtableLength,
                     objectLength: objectLength, depth: depth)
    }

    /// A table: fields are looked up through its vtable; absent fields give the default.
    public struct Table: Sendable {
        let reader: FlatBufferReader
        public let position: Int
        let vtable: Int
        let vtableLength: Int
        let objectLength: Int
        let depth: Int

        /// Byte position of field `id`, or nil when absent.
        func fieldPosition(_ id: Int, width: Int) throws -> Int? {
            let entry = 4 + 2 * id
            guard entry < vtableLength else { return nil }
            let relative = Int(try reader.read(UInt16.self, at: vtable + entry))
            guard relative != 0 else { return nil }
            guard relative + width <= objectLength else {
                throw FlatBufferError.outOfBounds(what: "field \(id)", offset: position + relative, size: reader.bytes.count)
            }
            return position + relative
        }

        public func has(_ id: Int) throws -> Bool { try fieldPosition(id, width: 1) != nil }

        public func scalar<T: FixedWidthInteger>(_ id: Int, default defaultValue: T) throws -> T {
            guard let at = try fieldPosition(id, width: MemoryLayout<T>.size) else { return defaultValue }
            return try reader.read(T.self, at: at)
        }

        public func float(_ id: Int, default defaultValue: Float) throws -> Float {
            Float(bitPattern: try scalar(id, default: defaultValue.bitPattern))
        }

        public func bool(_ id: Int, default defaultValue: Bool) throws -> Bool {
            try scalar(id, default: UInt8(defaultValue ? 1 : 0)) != 0
        }

        private func target(_ id: Int) throws -> Int? {
            guard let at = try fieldPosition(id, width: 4) else { return nil }
            let target = at + Int(try reader.read(UInt32.self, at: at))
            try reader.check("offset target of field \(id)", target, 4)
            return target
        }

        public func table(_ id: Int) throws -> Table? {
            guard let at = try target(id) else { return nil }
            return try reader.table(at: at, depth: depth + 1)
        }

        public func string(_ id: Int) throws -> String? {
            guard let at = try target(id) else { return nil }
            return try reader.string(at: at)
        }

        /// (element start, count) of a vector field, checked for `elementWidth`-byte elements.
        public func vectorRange(_ id: Int, elementWidth: Int) throws -> (start: Int, count: Int)? {
            guard let at = try target(id) else { return nil }
            let count = Int(try reader.read(UInt32.self, at: at))
            guard count <= (reader.bytes.count - at - 4) / max(elementWidth, 1) else {
                throw FlatBufferError.outOfBounds(what: "vector of \(count) elements", offset: at, size: reader.bytes.count)
            }
            return (at + 4, count)
        }

        public func scalars<T: FixedWidthInteger>(_ id: Int, as type: T.Type) throws -> [T]? {
            guard let (start, count) = try vectorRange(id, elementWidth: MemoryLayout<T>.size) else { return nil }
            try reader.budget.spend(count * MemoryLayout<T>.size)
            return try (0..<count).map { try reader.read(T.self, at: start + $0 * MemoryLayout<T>.size) }
        }

        public func floats(_ id: Int) throws -> [Float]? {
            try scalars(id, as: UInt32.self)?.map(Float.init(bitPattern:))
        }

        /// Raw bytes of a `[ubyte]` vector: a slice of the buffer (indices are buffer offsets).
        public func bytes(_ id: Int) throws -> Data? {
            guard let (start, count) = try vectorRange(id, elementWidth: 1) else { return nil }
            return reader.bytes[start..<(start + count)]
        }

        public func tables(_ id: Int) throws -> [Table]? {
            guard let (start, count) = try vectorRange(id, elementWidth: 4) else { return nil }
            try reader.budget.spend(count * 4)
            return try (0..<count).map { index in
                let at = start + index * 4
                let target = at + Int(try reader.read(UInt32.self, at: at))
                return try reader.table(at: target, depth: depth + 1)
            }
        }

        public func strings(_ id: Int) throws -> [String]? {
            guard let (start, count) = try vectorRange(id, elementWidth: 4) else { return nil }
            try reader.budget.spend(count * 4)
            return try (0..<count).map { index in
                let at = start + index * 4
                return try reader.string(at: at + Int(try reader.read(UInt32.self, at: at)))
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
