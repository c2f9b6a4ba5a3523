import Foundation

/// Checks an attribute's bytes in the file before libhdf5 decodes them, because libhdf5 1.10
/// trusts what it reads there: a global heap collection whose free-space object has size 0 makes
/// `H5HG` loop forever, an object running past its collection or a variable-length string whose
/// recorded length or heap index disagrees with the heap makes `H5HG_read` copy out of bounds, and
/// an attribute whose value is longer than its message is copied past the object header.
///
/// The check parses only what the reader touches: the superblock (offset and length sizes), the
/// owner's object header (version 1, or 2 with `OHDR`/`OCHK` blocks, continuations followed,
/// at most `maximumBlocks`), every attribute message in it, and for variable-length strings each
/// referenced global heap collection. An attribute it cannot find there (dense attribute storage,
/// a shared message) is left to libhdf5 unchecked: docs/architecture.md lists what remains.
final class HDF5AttributeCheck: @unchecked Sendable {
    /// The file, read through `pread` only where the check looks.
    private let handle: FileHandle
    /// Object headers already checked (a file's attributes are checked once), under `lock`.
    private var checked: Set<UInt64> = []
    /// Group headers whose local heap `checkGroup` has passed.
    private var checkedGroups: Set<UInt64> = []
    private let lock = NSLock()
    private let fileSize: UInt64
    private let base: UInt64
    private let offsetSize: Int
    private let lengthSize: Int
    /// The most header blocks (the first chunk and its continuations) followed for one object.
    static let maximumBlocks = 64

    /// What the check found wrong, phrased for `HDF5Error.detail`.
    struct Problem: Error { var detail: String }

    deinit { try? handle.close() }

    /// Opens `path` and reads its superblock; nil when the superblock is not one this check
    /// understands (libhdf5 has opened the file already, so it is left to libhdf5).
    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        self.handle = handle
        fileSize = (try? handle.seekToEnd()) ?? 0
        // The superblock sits at 0, 512, 1024, … (after a user block); addresses are relative to it.
        var candidate: UInt64 = 0
        var found: UInt64?
        while candidate + 16 <= fileSize {
            if let head = Self.read(handle, at: candidate, count: 8, fileSize: fileSize), head == HDF5File.signature { found = candidate; break }
            candidate = candidate == 0 ? 512 : candidate * 2
        }
        guard let base = found, let superblock = Self.read(handle, at: base, count: 16, fileSize: fileSize) else { return nil }
        self.base = base
        switch superblock[8] {
        case 0, 1: (offsetSize, lengthSize) = (Int(superblock[13]), Int(superblock[14]))
        case 2, 3: (offsetSize, lengthSize) = (Int(superblock[9]), Int(superblock[10]))
        default: return nil
        }
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else { return nil }
    }

    /// Throws `Problem` when an attribute of the object whose header is at `headerAddress` would
    /// make libhdf5 read out of bounds or loop (every attribute: libhdf5 decodes them all to find one).
    func checkAttributes(headerAddress: UInt64) throws {
        if lock.withLock({ checked.contains(headerAddress) }) { return }
        for message in try attributeMessages(headerAddress: headerAddress) {
            try checkValue(of: message)
        }
        lock.withLock { _ = checked.insert(headerAddress) }
    }

    // MARK: reading

    private static func read(_ handle: FileHandle, at offset: UInt64, count: Int, fileSize: UInt64) -> [UInt8]? {
        guard count >= 0, offset <= fileSize, UInt64(count) <= fileSize - offset else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got <= 0 { return nil }
            done += got
        }
        return bytes
    }

    /// `count` bytes at the file address `address` (relative to the superblock).
    private func bytes(at address: UInt64, count: Int, what: String) throws -> [UInt8] {
        let (offset, overflow) = base.addingReportingOverflow(address)
        guard !overflow, let bytes = Self.read(handle, at: offset, count: count, fileSize: fileSize) else {
            throw Problem(detail: "\(what) at address \(address) (\(count) bytes) lies outside the \(fileSize)-byte file")
        }
        return bytes
    }

    // MARK: object headers

    /// Throws `Problem` when the group whose header is at `headerAddress` keeps its link names in a
    /// local heap libhdf5 1.10 would mishandle: a data segment not ending in a NUL (`H5G__ent_to_link`
    /// and name lookups `strdup`/`strcmp` the names without a bound and would read past the heap),
    /// or a free list that loops or leaves the segment (`H5HL__fl_deserialize` follows "next" offsets
    /// without remembering where it has been: a loop allocates list nodes until memory runs out —
    /// the Keras fuzzer's 23 KB file took 21 GB in a minute).
    func checkGroup(headerAddress: UInt64) throws {
        if lock.withLock({ checkedGroups.contains(headerAddress) }) { return }
        for body in try messages(ofType: 0x11, headerAddress: headerAddress) {  // symbol table
            guard body.count >= 2 * offsetSize else { throw Problem(detail: "truncated symbol table message") }
            let heapAddress = UInt64(Self.integer(body, at: offsetSize, size: offsetSize))
            let heap = try bytes(at: heapAddress, count: 8 + 2 * lengthSize + offsetSize, what: "local heap")
            guard heap.starts(with: Array("HEAP".utf8)) else { throw Problem(detail: "no local heap at address \(heapAddress)") }
            let size = Self.integer(heap, at: 8, size: lengthSize)
            let dataAddress = UInt64(Self.integer(heap, at: 8 + 2 * lengthSize, size: offsetSize))
            guard size > 0 else { throw Problem(detail: "empty local heap at address \(heapAddress)") }
            let count = try checkedCount(UInt64(size), "local heap")
            let last = try bytes(at: dataAddress + UInt64(count) - 1, count: 1, what: "local heap data")
            guard last[0] == 0 else { throw Problem(detail: "the local heap at address \(heapAddress) holds a name without its terminating NUL") }
            // The free list: blocks of (offset of the next block, size), 1 (H5HL_FREE_NULL) ending it.
            var block = UInt64(Self.integer(heap, at: 8 + lengthSize, size: lengthSize))
            var seen = Set<UInt64>()
            while block != 1 {
                guard block <= UInt64(count), UInt64(2 * lengthSize) <= UInt64(count) - block else {
                    throw Problem(detail: "the local heap at address \(heapAddress) has a free block outside its \(count)-byte data segment")
                }
                guard seen.insert(block).inserted else {
                    throw Problem(detail: "the local heap at address \(heapAddress) has a free list that loops")
                }
                let entry = try bytes(at: dataAddress + block, count: 2 * lengthSize, what: "local heap free block")
                let next = UInt64(Self.integer(entry, at: 0, size: lengthSize)), length = UInt64(Self.integer(entry, at: lengthSize, size: lengthSize))
                guard next != 0, length <= UInt64(count) - block else {
                    throw Problem(detail: "the local heap at address \(heapAddress) has a damaged free block at offset \(block)")
                }
                block = next
            }
        }
        lock.withLock { _ = checkedGroups.insert(headerAddress) }
    }

    /// Throws `Problem` when the object header at `headerAddress` cannot be walked (blocks outside
    /// the file, messages past their block) or holds a message kept in the shared-message heap,
    /// which libhdf5 1.10 looks up through a table the file may not have (a `memcpy` to NULL the
    /// Keras fuzzer found in `H5SM_get_fheap_addr`; h5py and Keras never share messages).
    func checkHeader(headerAddress: UInt64) throws {
        _ = try messages(ofType: -1, headerAddress: headerAddress)
    }

    /// The bodies of the object's attribute messages stored in its header (none when the header
    /// is of a form this check does not read).
    private func attributeMessages(headerAddress: UInt64) throws -> [[UInt8]] {
        try messages(ofType: 0x0C, headerAddress: headerAddress)
    }

    /// The bodies of the header messages of `type` stored in the object's header.
    private func messages(ofType wanted: Int, headerAddress: UInt64) throws -> [[UInt8]] {
        var found: [[UInt8]] = []
        let prefix = try bytes(at: headerAddress, count: 16, what: "object header")
        var blocks: [(messages: ArraySlice<UInt8>, version: Int)] = []
        var pending: [(address: UInt64, length: UInt64)] = []
        if prefix[0] == 1 {
            let size = UInt64(Self.integer(prefix, at: 8, size: 4))
            let block = try bytes(at: headerAddress + 16, count: try checkedCount(size, "object header"), what: "object header")
            blocks.append((block[...], 1))
        } else if prefix.starts(with: Array("OHDR".utf8)), prefix[4] == 2 {
            let flags = prefix[5]
            var position = 6 + (flags & 0x20 != 0 ? 16 : 0) + (flags & 0x10 != 0 ? 4 : 0)
            let widthOfSize = 1 << Int(flags & 0x03)
            let head = try bytes(at: headerAddress, count: position + widthOfSize, what: "object header")
            let size = UInt64(Self.integer(head, at: position, size: widthOfSize))
            position += widthOfSize
            let block = try bytes(at: headerAddress + UInt64(position), count: try checkedCount(size, "object header"), what: "object header")
            blocks.append((block[...], 2))
        } else {
            return []
        }
        var followed = 1
        while !blocks.isEmpty {
            let (messages, version) = blocks.removeFirst()
            for (type, body) in try Self.messages(in: messages, version: version) {
                if type == 0x10 {  // continuation: another block of messages
                    guard body.count >= offsetSize + lengthSize else { throw Problem(detail: "truncated header continuation message") }
                    pending.append((UInt64(Self.integer(body, at: body.startIndex, size: offsetSize)),
                                     UInt64(Self.integer(body, at: body.startIndex + offsetSize, size: lengthSize))))
                } else if type == wanted {
                    found.append(Array(body))
                }
            }
            while let next = pending.first, blocks.isEmpty {
                pending.removeFirst()
                followed += 1
                guard followed <= Self.maximumBlocks else { throw Problem(detail: "object header has more than \(Self.maximumBlocks) continuation blocks") }
                let block = try bytes(at: next.address, count: try checkedCount(next.length, "header continuation"), what: "header continuation")
                if version == 2 {
                    guard block.starts(with: Array("OCHK".utf8)), block.count >= 8 else { throw Problem(detail: "header continuation without its OCHK signature") }
                    blocks.append((block[4..<(block.count - 4)], 2))
                } else {
                    blocks.append((block[...], 1))
                }
            }
        }
        return found
    }

    private func checkedCount(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= fileSize else { throw Problem(detail: "\(what) of \(value) bytes is larger than the \(fileSize)-byte file") }
        return Int(value)
    }

    /// The (type, body) pairs of one block of header messages; v1 messages are 8-byte aligned.
    private static func messages(in block: ArraySlice<UInt8>, version: Int) throws -> [(Int, ArraySlice<UInt8>)] {
        var result: [(Int, ArraySlice<UInt8>)] = []
        var position = block.startIndex
        let end = block.endIndex
        while position < end {
            let type: Int, size: Int, flags: UInt8, headerSize: Int
            if version == 1 {
                guard end - position >= 8 else { break }
                type = integer(block, at: position, size: 2)
                size = integer(block, at: position + 2, size: 2)
                flags = block[position + 4]
                headerSize = 8
            } else {
                guard end - position >= 4 else { break }  // gap at the end of a chunk
                type = Int(block[position])
                size = integer(block, at: position + 1, size: 2)
                flags = block[position + 3]
                headerSize = 4 + (flags & 0x04 != 0 ? 2 : 0)
            }
            let start = position + headerSize
            guard start <= end, size <= end - start else { throw Problem(detail: "header message of \(size) bytes runs past its header block") }
            // Shared messages hold a reference, not the message: not read here — except attributes,
            // which libhdf5 would then decode from elsewhere unchecked (Keras files never share them).
            if flags & 0x02 != 0, type == 0x0C { throw Problem(detail: "a shared attribute message (keraslite reads attributes stored in their object header)") }
            // A shared message's body says where the message is: from version 2 on, type 1 is the
            // shared-message heap (libhdf5 asserts version 3 only in debug builds); version 1 and
            // type 2 name another object header.
            if flags & 0x02 != 0, type != 0x10, size >= 2, block[start] >= 2, block[start + 1] == 1 {
                throw Problem(detail: "a header message of type \(type) kept in the shared-message heap (keraslite reads files without one)")
            }
            // libhdf5 follows a continuation whatever its flags say.
            if flags & 0x02 == 0 || type == 0x10 { result.append((type, block[start..<(start + size)])) }
            position = start + (version == 1 ? (size + 7) & ~7 : size)
        }
        return result
    }

    // MARK: attribute messages

    private struct Layout { var name: Range<Int>; var datatype: Range<Int>; var dataspace: Range<Int>; var data: Range<Int> }

    private func layout(_ body: ArraySlice<UInt8>) throws -> Layout? {
        let start = body.startIndex
        guard body.count >= 8 else { throw Problem(detail: "truncated attribute message") }
        let version = body[start]
        // Version 2 and 3 flags: a shared datatype or dataspace is a reference libhdf5 resolves
        // elsewhere, so the value's size cannot be checked here.
        if version >= 2, body[start + 1] & 0x03 != 0 {
            throw Problem(detail: "an attribute with a shared datatype or dataspace (keraslite reads self-contained attributes)")
        }
        let nameSize = Self.integer(body, at: start + 2, size: 2)
        let datatypeSize = Self.integer(body, at: start + 4, size: 2)
        let dataspaceSize = Self.integer(body, at: start + 6, size: 2)
        let pad: (Int) -> Int
        var position: Int
        switch version {
        case 1: pad = { ($0 + 7) & ~7 }; position = start + 8
        case 2: pad = { $0 }; position = start + 8
        case 3: pad = { $0 }; position = start + 9
        default: return nil
        }
        let name = position..<(position + nameSize)
        position += pad(nameSize)
        let datatype = position..<(position + datatypeSize)
        position += pad(datatypeSize)
        let dataspace = position..<(position + dataspaceSize)
        position += pad(dataspaceSize)
        guard position <= body.endIndex else { throw Problem(detail: "attribute message shorter than its name, datatype and dataspace") }
        return Layout(name: name, datatype: datatype, dataspace: dataspace, data: position..<body.endIndex)
    }

    /// The value must fit in the message; variable-length strings must point at intact heap objects
    /// of their recorded length.
    private func checkValue(of body: [UInt8]) throws {
        guard let layout = try layout(body[...]) else { return }
        // libhdf5 copies the name with strdup: its NUL must lie inside the name field.
        guard !layout.name.isEmpty, body[layout.name].contains(0) else {
            throw Problem(detail: "attribute name without its terminating NUL")
        }
        let datatype = body[layout.datatype], dataspace = body[layout.dataspace]
        guard datatype.count >= 8, dataspace.count >= 2 else { throw Problem(detail: "truncated attribute datatype or dataspace") }
        let typeClass = Int(datatype[datatype.startIndex] & 0x0F)
        // Compound and enum types (and arrays of them) carry member names libhdf5 strdup's without
        // a bound; Keras writes string and numeric attributes only, so these are refused unparsed.
        guard ![6, 8, 10].contains(typeClass) else {
            throw Problem(detail: "attribute of \(typeClass == 6 ? "a compound" : typeClass == 8 ? "an enum" : "an array") datatype (keraslite reads string and numeric attributes)")
        }
        var elementSize = Self.integer(datatype, at: datatype.startIndex + 4, size: 4)
        if typeClass == 9 {
            // libhdf5 sizes a variable-length element on disk itself (length, heap address, index),
            // whatever the datatype's size field says, and copies that many bytes per element.
            let onDisk = 4 + offsetSize + 4
            guard elementSize == onDisk else {
                throw Problem(detail: "variable-length attribute datatype declares \(elementSize)-byte elements, not \(onDisk)")
            }
            elementSize = onDisk
        }
        let count = try elementCount(dataspace)
        let (total, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, total <= layout.data.count else {
            throw Problem(detail: "attribute value of \(count) × \(elementSize) bytes does not fit in its \(layout.data.count)-byte message")
        }
        guard typeClass == 9 else { return }
        // A variable-length element: length (4), global heap collection address, object index (4).
        guard datatype.count >= 16 else { return }
        let baseSize = Self.integer(datatype, at: datatype.startIndex + 12, size: 4)
        var collections: [UInt64: [Int: Int]] = [:]
        for element in 0..<count {
            let at = layout.data.lowerBound + element * elementSize
            let length = Self.integer(body, at: at, size: 4)
            let address = UInt64(Self.integer(body, at: at + 4, size: offsetSize))
            let index = Self.integer(body, at: at + 4 + offsetSize, size: 4)
            if address == 0 { continue }  // an empty value
            if collections[address] == nil { collections[address] = try heapObjects(at: address) }
            guard let size = collections[address]?[index], index > 0 else {
                throw Problem(detail: "variable-length value points at object \(index), which the global heap at \(address) does not hold")
            }
            let (expected, overflow) = length.multipliedReportingOverflow(by: baseSize)
            guard !overflow, expected == size else {
                throw Problem(detail: "variable-length value of \(length) elements does not match its \(size)-byte global heap object")
            }
        }
    }

    private func elementCount(_ dataspace: ArraySlice<UInt8>) throws -> Int {
        let start = dataspace.startIndex
        let version = dataspace[start], rank = Int(dataspace[start + 1])
        var position: Int
        switch version {
        case 1: position = start + 8
        case 2:
            guard dataspace.count >= 4 else { throw Problem(detail: "truncated attribute dataspace") }
            if dataspace[start + 3] == 2 { return 0 }  // null dataspace
            position = start + 4
        default: throw Problem(detail: "unknown dataspace version \(version)")
        }
        guard rank <= 32, position + rank * lengthSize <= dataspace.endIndex else { throw Problem(detail: "truncated attribute dataspace") }
        var count = 1
        for _ in 0..<rank {
            let (product, overflow) = count.multipliedReportingOverflow(by: Self.integer(dataspace, at: position, size: lengthSize))
            guard !overflow, product <= Int(fileSize) else { throw Problem(detail: "attribute dataspace holds more elements than the file has bytes") }
            count = product
            position += lengthSize
        }
        return count
    }

    // MARK: global heap

    /// The objects (index → size) of the global heap collection at `address`, walked as
    /// libhdf5's `H5HG__cache_heap_deserialize` walks it, refusing what would loop or overrun.
    private func heapObjects(at address: UInt64) throws -> [Int: Int] {
        let headerSize = (8 + lengthSize + 7) & ~7
        let head = try bytes(at: address, count: 8 + lengthSize, what: "global heap collection")
        guard head.starts(with: Array("GCOL".utf8)), head[4] == 1 else {
            throw Problem(detail: "no global heap collection at address \(address)")
        }
        let size = Self.integer(head, at: 8, size: lengthSize)
        guard size >= headerSize else { throw Problem(detail: "global heap collection at \(address) of \(size) bytes is smaller than its header") }
        let collection = try bytes(at: address, count: try checkedCount(UInt64(size), "global heap collection"), what: "global heap collection")
        let objectHeaderSize = (2 + 2 + 4 + lengthSize + 7) & ~7
        var objects: [Int: Int] = [:]
        var position = headerSize
        while position < size {
            if position + objectHeaderSize > size { break }  // too small for an object: free space
            let index = Self.integer(collection, at: position, size: 2)
            let objectSize = Self.integer(collection, at: position + 8, size: lengthSize)
            let need = index > 0 ? objectHeaderSize + ((objectSize + 7) & ~7) : objectSize
            guard need > 0, objectSize <= size, need <= size - position else {
                throw Problem(detail: "global heap collection at \(address) is damaged (object \(index) of \(objectSize) bytes at offset \(position))")
            }
            if index > 0 { objects[index] = objectSize }
            position += need
        }
        return objects
    }

    /// A little-endian unsigned integer of `size` bytes (at most 8; larger values saturate).
    private static func integer<C: RandomAccessCollection>(_ bytes: C, at position: C.Index, size: Int) -> Int where C.Element == UInt8, C.Index == Int {
        var value: UInt64 = 0
        for offset in (0..<size).reversed() { value = value << 8 | UInt64(bytes[position + offset]) }
        return value > UInt64(Int.max / 2) ? Int.max / 2 : Int(value)
    }
}
