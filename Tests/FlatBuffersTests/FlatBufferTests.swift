import Testing
@testable import FlatBuffers

@Suite struct FlatBufferTests {
    /// The same objects built by google/flatbuffers' Python Builder (flatbuffers 25.x) printed these
    /// bytes: a root table with an int, a string, an int vector, a 16-aligned byte vector, a vector of
    /// two child tables sharing one vtable, and a float, finished with identifier "TFL3".
    static let golden: [UInt8] = [
        28, 0, 0, 0, 84, 70, 76, 51, 0, 0, 0, 0, 16, 0, 28, 0, 24, 0, 20, 0, 16, 0, 12, 0, 8, 0, 4, 0, 16, 0, 0, 0,
        0, 0, 192, 63, 20, 0, 0, 0, 52, 0, 0, 0, 60, 0, 0, 0, 72, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 24, 0, 0, 0,
        4, 0, 0, 0, 248, 255, 255, 255, 0, 0, 20, 0, 8, 0, 8, 0, 0, 0, 6, 0, 8, 0, 0, 0, 0, 0, 10, 0, 5, 0, 0, 0,
        9, 8, 7, 6, 5, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 104, 105, 0, 0,
    ]

    func build(initialCapacity: Int = 1024) throws -> [UInt8] {
        var builder = FlatBufferBuilder(initialCapacity: initialCapacity)
        let string = try builder.createString("hi")
        let ints = try builder.createVector([Int32(1), 2, 3])
        let bytes = try builder.createByteVector([9, 8, 7, 6, 5], alignment: 16)
        var children: [FlatBufferBuilder.Offset] = []
        for value in [Int16(10), 20] {
            builder.startTable()
            try builder.add(1, value, default: 0)
            children.append(try builder.endTable())
        }
        let childVector = try builder.createVector(children)
        builder.startTable()
        try builder.add(0, Int32(7), default: 0)
        try builder.add(1, string)
        try builder.add(2, ints)
        try builder.add(3, bytes)
        try builder.add(4, childVector)
        try builder.add(5, Float(1.5), default: 0)
        try builder.add(0 + 6, Int8(0), default: 0)  // equal to its default: left out
        let root = try builder.endTable()
        return try builder.finish(root: root, fileIdentifier: "TFL3")
    }

    @Test func matchesTheReferenceImplementationByteForByte() throws {
        #expect(try build() == Self.golden)
        // Growing from a tiny buffer must not change a byte.
        #expect(try build(initialCapacity: 16) == Self.golden)
    }

    @Test func readerReadsWhatTheBuilderWrote() throws {
        let reader = try FlatBufferReader(bytes: try build(), fileIdentifier: "TFL3")
        let root = try reader.root()
        #expect(try root.scalar(0, default: Int32(0)) == 7)
        #expect(try root.string(1) == "hi")
        #expect(try root.scalars(2, as: Int32.self) == [1, 2, 3])
        let bytes = try #require(try root.bytes(3))
        #expect(Array(bytes) == [9, 8, 7, 6, 5])
        #expect(bytes.startIndex % 16 == 0)
        #expect(try root.tables(4)?.map { try $0.scalar(1, default: Int16(0)) } == [10, 20])
        #expect(try root.float(5, default: 0) == 1.5)
        #expect(try root.scalar(6, default: Int8(-3)) == -3)  // absent field gives the default
        #expect(try root.string(9) == nil)
    }

    @Test func wrongIdentifierIsAnError() throws {
        #expect(throws: FlatBufferError.wrongIdentifier(expected: "ABCD", found: "TFL3")) {
            try FlatBufferReader(bytes: try build(), fileIdentifier: "ABCD")
        }
    }

    /// Every truncation and every single-byte corruption of the golden buffer either reads or
    /// throws: the reader never traps.
    @Test func damagedBuffersNeverCrash() throws {
        let good = try build()
        func readEverything(_ bytes: [UInt8]) {
            guard let reader = try? FlatBufferReader(bytes: bytes), let root = try? reader.root() else { return }
            _ = try? root.scalar(0, default: Int32(0))
            _ = try? root.string(1)
            _ = try? root.scalars(2, as: Int32.self)
            _ = try? root.bytes(3)
            _ = try? root.tables(4)?.map { try $0.scalar(1, default: Int16(0)) }
            _ = try? root.float(5, default: 0)
        }
        for length in 0..<good.count { readEverything(Array(good.prefix(length))) }
        for index in good.indices {
            for value: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] {
                var damaged = good
                damaged[index] = value
                readEverything(damaged)
            }
        }
        #expect(throws: FlatBufferError.self) { try FlatBufferReader(bytes: [1, 2, 3]).root() }
    }

    @Test func selfReferencingTableIsRejected() throws {
        // A root table whose vtable claims field 0 is an offset pointing back at the table itself.
        let bytes: [UInt8] = [12, 0, 0, 0, 6, 0, 8, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
        let reader = try FlatBufferReader(bytes: bytes)
        var table = try reader.root()
        var threw = false
        for _ in 0..<100 {
            guard let next = try? table.table(0) else { threw = true; break }
            table = next
        }
        #expect(threw)
    }

    /// Byte vectors deferred to write time give the same file as vectors written at once, with
    /// tables (de-duplicated vtables included) built between and after them; the file streams in
    /// pieces; a producer that gives the wrong number of bytes fails the write.
    @Test func deferredByteVectorsLayOutLikeImmediateOnes() throws {
        let payloads: [[UInt8]] = [Array(0..<37), Array(repeating: 7, count: 100), [1, 2, 3], Array(repeating: 9, count: 16)]
        func build(deferred: Bool) throws -> FlatBufferFile {
            var builder = FlatBufferBuilder(initialCapacity: 8)
            var tables: [FlatBufferBuilder.Offset] = []
            for payload in payloads {
                let vector = deferred
                    ? try builder.deferByteVector(count: payload.count, alignment: 16) { sink in
                        try payload.withUnsafeBytes { bytes in
                            try sink(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count / 2)]))
                            try sink(UnsafeRawBufferPointer(rebasing: bytes[(bytes.count / 2)...]))
                        }
                    }
                    : try builder.createByteVector(payload, alignment: 16)
                builder.startTable()
                try builder.add(0, vector)
                try builder.add(1, UInt32(payload.count), default: 0)
                tables.append(try builder.endTable())
            }
            let name = try builder.createString("after the vectors")
            let list = try builder.createVector(tables)
            builder.startTable()
            try builder.add(0, list)
            try builder.add(1, name)
            return try builder.finishFile(root: try builder.endTable(), fileIdentifier: "TEST")
        }
        let immediate = try build(deferred: false), deferred = try build(deferred: true)
        #expect(deferred.size == immediate.size)
        #expect(try deferred.bytes() == immediate.bytes())
        var pieces = 0
        try deferred.write { _ in pieces += 1 }
        #expect(pieces > payloads.count)
        let root = try FlatBufferReader(bytes: try deferred.bytes()).root()
        #expect(try root.tables(0)?.count == payloads.count)

        var builder = FlatBufferBuilder()
        let short = try builder.deferByteVector(count: 8) { sink in try [UInt8](repeating: 1, count: 5).withUnsafeBytes { try sink($0) } }
        builder.startTable()
        try builder.add(0, short)
        let file = try builder.finishFile(root: try builder.endTable())
        #expect(throws: FlatBufferError.self) { _ = try file.bytes() }
    }
}
