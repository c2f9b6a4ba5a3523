/// Builds a FlatBuffer back to front, as google/flatbuffers does: children before parents, every
/// scalar aligned to its size, vectors as a length followed by elements, strings zero-terminated,
/// tables with de-duplicated vtables and default-valued fields left out.
///
/// An `Offset` is "bytes written so far" when the object was finished, so it stays valid as the
/// buffer grows. Knows nothing of any schema.
public struct FlatBufferBuilder {
    /// A finished object's position, counted from the end of the buffer.
    public struct Offset: Hashable, Sendable {
        public let value: Int
    }

    /// Storage grows toward lower indices: the data lives in `storage[head...]`.
    private var storage: [UInt8]
    private var head: Int
    private var minimumAlignment = 1
    private var tableStart: Int?
    /// (field id, offset where the field was written) for the table being built.
    private var fields: [(id: Int, offset: Int)] = []
    /// Offsets of vtables already written, for de-duplication.
    private var vtables: [Int] = []
    /// Byte vectors whose bytes are produced only when the finished file is written
    /// (`deferByteVector`): counted in `size` but not stored, so a model's weights need not be in
    /// memory while its FlatBuffer is built. In creation order (ascending `start`).
    private var holes: [FlatBufferFile.Hole] = []
    /// Bytes the holes take (length prefixes, contents and padding).
    private var holeBytes = 0
    /// Largest buffer this builder will make: FlatBuffers use 32-bit offsets.
    public static let maximumSize = Int(Int32.max)

    public init(initialCapacity: Int = 1024) {
        storage = [UInt8](repeating: 0, count: max(initialCapacity, 16))
        head = storage.count
    }

    /// Bytes written so far (deferred byte vectors included).
    public var size: Int { storage.count - head + holeBytes }

    /// Bytes actually stored.
    private var stored: Int { storage.count - head }

    /// The index in `storage` of the object that ends `offset` bytes from the end: holes finished
    /// before it lie behind it in the file and are not stored.
    private func position(of offset: Int) -> Int {
        var below = 0
        var low = 0, high = holes.count
        while low < high {  // holes whose end is ≤ offset: a prefix of the creation order
            let middle = (low + high) / 2
            if holes[middle].start + holes[middle].length <= offset { low = middle + 1 } else { high = middle }
        }
        below = low == 0 ? 0 : holes[low - 1].bytesUpToHere
        return storage.count - (offset - below)
    }

    // MARK: raw writing

    private mutating func ensureSpace(_ count: Int) throws {
        guard size + count <= Self.maximumSize else { throw FlatBufferError.tooLarge(size + count) }
        if head >= count { return }
        var capacity = storage.count
        while capacity - stored < count + 8 { capacity *= 2 }
        var grown = [UInt8](repeating: 0, count: capacity)
        let used = stored
        grown.withUnsafeMutableBytes { destination in
            storage.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[(capacity - used)...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[head...]))
            }
        }
        storage = grown
        head = capacity - used
    }

    private mutating func pad(_ count: Int) throws {
        try ensureSpace(count)
        for _ in 0..<count {
            head -= 1
            storage[head] = 0
        }
    }

    /// Pads so that after writing `additional` more bytes, the position is a multiple of `alignment`.
    public mutating func prepare(alignment: Int, additional: Int) throws {
        minimumAlignment = max(minimumAlignment, alignment)
        let padding = (alignment - ((size + additional) % alignment)) % alignment
        try pad(padding)
    }

    private mutating func putRaw<T: FixedWidthInteger>(_ value: T) throws {
        let width = MemoryLayout<T>.size
        try ensureSpace(width)
        head -= width
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { bytes in
            for index in 0..<width { storage[head + index] = bytes[index] }
        }
    }

    /// Writes an aligned little-endian scalar.
    public mutating func push<T: FixedWidthInteger>(_ value: T) throws {
        try prepare(alignment: MemoryLayout<T>.size, additional: 0)
        try putRaw(value)
    }

    /// Writes an offset to an object finished earlier, relative to where it is written.
    public mutating func push(_ offset: Offset) throws {
        try prepare(alignment: 4, additional: 0)
        guard offset.value <= size else { throw FlatBufferError.invalidOffset(offset.value) }
        try putRaw(UInt32(size + 4 - offset.value))
    }

    // MARK: strings and vectors

    /// A zero-terminated UTF-8 string.
    public mutating func createString(_ string: String) throws -> Offset {
        let bytes = Array(string.utf8)
        try prepare(alignment: 4, additional: bytes.count + 1)
        try pad(1)
        try writeBytes(bytes)
        try putRaw(UInt32(bytes.count))
        return Offset(value: size)
    }

    private mutating func writeBytes(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeBytes($0) }
    }

    private mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws {
        try ensureSpace(bytes.count)
        head -= bytes.count
        let start = head
        storage.withUnsafeMutableBytes { destination in
            UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + bytes.count)]).copyMemory(from: bytes)
        }
    }

    /// A vector of bytes whose first element is aligned to `alignment` (16 for TFLite buffers).
    public mutating func createByteVector(_ bytes: [UInt8], alignment: Int = 1) throws -> Offset {
        try bytes.withUnsafeBytes { try createByteVector($0, alignment: alignment) }
    }

    /// A vector of raw bytes (e.g. a Float array's memory) aligned to `alignment`.
    public mutating func createByteVector(_ bytes: UnsafeRawBufferPointer, alignment: Int = 1) throws -> Offset {
        try prepare(alignment: max(alignment, 4), additional: bytes.count)
        try writeBytes(bytes)
        try putRaw(UInt32(bytes.count))
        return Offset(value: size)
    }

    /// A byte vector of `count` bytes aligned to `alignment`, filled in place by `fill` — for data
    /// that is computed (e.g. transposed) straight into the buffer without an intermediate copy.
    public mutating func createByteVector(count: Int, alignment: Int = 1,
                                          fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Offset {
        try prepare(alignment: max(alignment, 4), additional: count)
        try ensureSpace(count)
        head -= count
        let start = head
        try storage.withUnsafeMutableBytes { destination in
            let region = UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + count)])
            region.initializeMemory(as: UInt8.self, repeating: 0)
            try fill(region)
        }
        try putRaw(UInt32(count))
        return Offset(value: size)
    }

    /// A byte vector of `count` bytes aligned to `alignment` whose bytes `produce` hands, in
    /// pieces, to the sink it gets only when the finished file is written (`FlatBufferFile.write`),
    /// possibly more than once — the layout is `createByteVector(count:alignment:fill:)`'s, byte
    /// for byte. Producing other than `count` bytes fails the write.
    public mutating func deferByteVector(count: Int, alignment: Int = 1,
                                         produce: @escaping (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Offset {
        let alignment = max(alignment, 4)
        minimumAlignment = max(minimumAlignment, alignment)
        let padding = (alignment - ((size + count) % alignment)) % alignment
        let length = padding + count + 4
        guard size + length <= Self.maximumSize else { throw FlatBufferError.tooLarge(size + length) }
        holeBytes += length
        holes.append(FlatBufferFile.Hole(start: size - length, length: length, count: count, bytesUpToHere: holeBytes, produce: produce))
        return Offset(value: size)
    }

    /// A vector of scalars.
    public mutating func createVector<T: FixedWidthInteger>(_ values: [T]) throws -> Offset {
        let width = MemoryLayout<T>.size
        try prepare(alignment: max(width, 4), additional: values.count * width)
        for value in values.reversed() { try putRaw(value) }
        try putRaw(UInt32(values.count))
        return Offset(value: size)
    }

    /// A vector of Float32 scalars.
    public mutating func createVector(_ values: [Float]) throws -> Offset {
        try createVector(values.map(\.bitPattern))
    }

    /// A vector of offsets to tables or strings.
    public mutating func createVector(_ offsets: [Offset]) throws -> Offset {
        try prepare(alignment: 4, additional: offsets.count * 4)
        for offset in offsets.reversed() { try push(offset) }
        try putRaw(UInt32(offsets.count))
        return Offset(value: size)
    }

    // MARK: tables

    /// Starts a table; add fields, then call `endTable()`.
    public mutating func startTable() {
        precondition(tableStart == nil, "tables cannot nest: finish children first")
        tableStart = size
        fields = []
    }

    /// Adds a scalar field unless it equals the schema default.
    public mutating func add<T: FixedWidthInteger>(_ id: Int, _ value: T, default defaultValue: T) throws {
        guard value != defaultValue else { return }
        try push(value)
        fields.append((id, size))
    }

    public mutating func add(_ id: Int, _ value: Bool, default defaultValue: Bool) throws {
        try add(id, UInt8(value ? 1 : 0), default: defaultValue ? 1 : 0)
    }

    public mutating func add(_ id: Int, _ value: Float, default defaultValue: Float) throws {
        guard value != defaultValue else { return }
        try push(value.bitPattern)
        fields.append((id, size))
    }

    /// Adds an offset field (string, vector or table).
    public mutating func add(_ id: Int, _ offset: Offset?) throws {
        guard let offset else { return }
        try push(offset)
        fields.append((id, size))
    }

    /// Finishes the table: writes its vtable (or reuses an identical one) and returns its offset.
    public mutating func endTable() throws -> Offset {
        guard let start = tableStart else { preconditionFailure("endTable without startTable") }
        try push(Int32(0))  // soffset to the vtable, patched below
        let object = size
        let slots = (fields.map(\.id).max() ?? -1) + 1
        var vtable = [UInt16](repeating: 0, count: slots + 2)
        vtable[0] = UInt16((slots + 2) * 2)
        vtable[1] = UInt16(object - start)
        for field in fields { vtable[field.id + 2] = UInt16(object - field.offset) }

        var vtableOffset: Int?
        for existing in vtables where matches(vtable, at: existing) {
            vtableOffset = existing
            break
        }
        if vtableOffset == nil {
            for entry in vtable.reversed() { try putRaw(entry) }
            vtableOffset = size
            vtables.append(size)
        }
        let position = position(of: object)
        var soffset = Int32(vtableOffset! - object).littleEndian
        withUnsafeBytes(of: &soffset) { bytes in
            for index in 0..<4 { storage[position + index] = bytes[index] }
        }
        tableStart = nil
        fields = []
        return Offset(value: object)
    }

    private func matches(_ vtable: [UInt16], at offset: Int) -> Bool {
        let position = position(of: offset)
        let length = Int(UInt16(storage[position]) | UInt16(storage[position + 1]) << 8)
        guard length == vtable.count * 2 else { return false }
        for (index, entry) in vtable.enumerated() {
            let low = storage[position + 2 * index], high = storage[position + 2 * index + 1]
            if UInt16(low) | UInt16(high) << 8 != entry { return false }
        }
        return true
    }

    /// Finishes the buffer with `root` and an optional 4-character file identifier; returns the bytes.
    public mutating func finish(root: Offset, fileIdentifier: String? = nil) throws -> [UInt8] {
        try finishFile(root: root, fileIdentifier: fileIdentifier).bytes()
    }

    /// Finishes the buffer with `root` and an optional 4-character file identifier; returns the
    /// file, whose deferred byte vectors are produced when it is written.
    public mutating func finishFile(root: Offset, fileIdentifier: String? = nil) throws -> FlatBufferFile {
        let identifier = fileIdentifier.map { Array($0.utf8) }
        if let identifier { precondition(identifier.count == 4, "file identifiers have 4 bytes") }
        try prepare(alignment: minimumAlignment, additional: 4 + (identifier == nil ? 0 : 4))
        if let identifier { try writeBytes(identifier) }
        try push(root)
        // Shift the data to the front in place rather than copying it into a new array.
        var result = storage
        storage = []
        result.removeSubrange(0..<head)
        head = 0
        let total = result.count + holeBytes
        // File order: the last hole created lies nearest the front.
        let placed = holes.reversed().map { hole -> FlatBufferFile.Hole in
            var hole = hole
            hole.start = total - hole.start - hole.length
            return hole
        }
        holes = []
        holeBytes = 0
        return FlatBufferFile(stored: result, holes: placed)
    }
}

/// A finished FlatBuffer: the bytes the builder stored, and the deferred byte vectors
/// (`deferByteVector`) between them, produced as the file is written.
public struct FlatBufferFile: @unchecked Sendable {
    struct Hole {
        /// Where the hole starts (its length prefix): counted from the end while building, from
        /// the front once finished.
        var start: Int
        /// Length prefix + contents + padding.
        var length: Int
        var count: Int
        /// Bytes of every hole up to and including this one (while building).
        var bytesUpToHere: Int
        var produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    }

    /// Data placed after the FlatBuffer at an absolute file position (TFLite's offset/size buffers
    /// of models over 2 GB), produced like a deferred vector but without a length prefix.
    public struct Appended {
        public var position: Int
        public var count: Int
        public var produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
        public init(position: Int, count: Int, produce: @escaping (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            self.position = position
            self.count = count
            self.produce = produce
        }
    }

    let stored: [UInt8]
    let holes: [Hole]
    /// In ascending position, each at or after the FlatBuffer's end.
    var appended: [Appended] = []

    init(stored: [UInt8], holes: [Hole]) {
        self.stored = stored
        self.holes = holes
    }

    /// The FlatBuffer's own size (stored bytes and deferred vectors).
    public var flatBufferSize: Int { stored.count + holes.reduce(0) { $0 + $1.length } }

    /// The file's size in bytes.
    public var size: Int { appended.last.map { $0.position + $0.count } ?? flatBufferSize }

    /// This file with `segments` written after the FlatBuffer, zero-padded up to each position.
    public func appending(_ segments: [Appended]) throws -> FlatBufferFile {
        var file = self
        var end = flatBufferSize
        for segment in segments {
            guard segment.position >= end, segment.count >= 0 else {
                throw FlatBufferError.invalid("appended data at byte \(segment.position) overlaps what precedes it (ends at \(end))")
            }
            end = segment.position + segment.count
        }
        file.appended += segments
        return file
    }

    /// Hands the file to `sink` front to back in pieces — the stored bytes between deferred
    /// vectors, and each deferred vector as it is produced (one at a time, so at most the largest
    /// of them is in memory beside the stored bytes).
    public func write(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position = 0, index = 0
        try stored.withUnsafeBytes { stored in
            for hole in holes {
                let before = hole.start - position
                try sink(UnsafeRawBufferPointer(rebasing: stored[index..<(index + before)]))
                index += before
                var count = UInt32(hole.count).littleEndian
                try withUnsafeBytes(of: &count) { try sink($0) }
                try Self.pass(hole.count, bytes: hole.produce, what: "a deferred vector", to: sink)
                let padding = [UInt8](repeating: 0, count: hole.length - 4 - hole.count)
                try padding.withUnsafeBytes { try sink($0) }
                position = hole.start + hole.length
            }
            try sink(UnsafeRawBufferPointer(rebasing: stored[index...]))
        }
        var end = flatBufferSize
        for segment in appended {
            try [UInt8](repeating: 0, count: segment.position - end).withUnsafeBytes { try sink($0) }
            try Self.pass(segment.count, bytes: segment.produce, what: "appended data", to: sink)
            end = segment.position + segment.count
        }
    }

    /// Hands what `produce` gives to `sink`, failing unless it is exactly `count` bytes.
    private static func pass(_ count: Int, bytes produce: @escaping (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                             what: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var produced = 0
        try produce { piece in
            produced += piece.count
            guard produced <= count else { throw FlatBufferError.invalid("\(what) produced more than its \(count) bytes") }
            try sink(piece)
        }
        guard produced == count else { throw FlatBufferError.invalid("\(what) produced \(produced) of its \(count) bytes") }
    }

    /// The whole file in memory.
    public func bytes() throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(size)
        try write { result.append(contentsOf: $0) }
        return result
    }
}

/// Errors of building or reading FlatBuffers.
public enum FlatBufferError: Error, CustomStringConvertible, Equatable, Sendable {
    case tooLarge(Int)
    case invalidOffset(Int)
    case outOfBounds(what: String, offset: Int, size: Int)
    case wrongIdentifier(expected: String, found: String)
    case tooDeep
    case invalid(String)

    public var description: String {
        switch self {
        case .tooLarge(let size): return "the FlatBuffer would be \(size) bytes, over the 2 GB limit of 32-bit offsets"
        case .invalidOffset(let offset): return "offset \(offset) points past the data written so far"
        case .outOfBounds(let what, let offset, let size): return "\(what) at byte \(offset) lies outside the \(size)-byte buffer"
        case .wrongIdentifier(let expected, let found): return "file identifier is '\(found)', expected '\(expected)'"
        case .tooDeep: return "tables nest too deeply (a cycle?)"
        case .invalid(let message): return message
        }
    }
}
