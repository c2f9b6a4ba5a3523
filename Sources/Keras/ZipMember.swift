import CKerasliteZlib
import Foundation

/// Reads one member of a zip archive with zlib, bounded by what the archive declares: the member
/// is found through the central directory (zip64 included) and its local header, its stored
/// bytes must lie inside the file, a deflate stream must reach its end-of-stream marker within
/// them, the output may not exceed the declared size and must match the CRC-32.
///
/// `entries` lists the archive from its central directory. ZIPFoundation is not used to read
/// archives: its Linux inflate loop reads past a member's compressed bytes and, once the file runs
/// out before the stream's end marker, spins forever (a 4.5 KB `.keras` whose `config.json` stream
/// was cut short hung every command), and opening an archive leaks the path's file-system
/// representation in swift-corelibs-foundation (LeakSanitizer, 36 bytes per open).
enum ZipMember {
    struct Problem: Error {
        let detail: String
    }

    /// One member as the central directory describes it (zip64 sizes and offset resolved).
    struct Entry {
        let name: String
        let method: UInt16
        let compressedSize: UInt64
        let uncompressedSize: UInt64
        let crc32: UInt32
        let localHeader: UInt64
    }

    /// Every member of the archive at `path`, in central-directory order.
    static func entries(_ path: String) throws -> [Entry] {
        try withArchive(path) { handle, fileSize in try directory(handle: handle, fileSize: fileSize) }
    }

    /// Calls `chunk` with the member's bytes in order, at most its declared size in all (exactly
    /// that many, or `Problem`), checked against its CRC-32.
    static func read(_ path: String, entry: Entry, chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withArchive(path) { handle, fileSize in
            let name = entry.name, declaredSize = entry.uncompressedSize
            let dataOffset = try dataOffset(of: entry, handle: handle, fileSize: fileSize)
            var produced: UInt64 = 0
            var crc = CKerasliteZlib.crc32(0, nil, 0)
            func emit(_ bytes: UnsafeRawBufferPointer) throws {
                guard !bytes.isEmpty else { return }
                produced += UInt64(bytes.count)
                guard produced <= declaredSize else { throw Problem(detail: "'\(name)' is longer than declared") }
                crc = CKerasliteZlib.crc32(crc, bytes.bindMemory(to: Bytef.self).baseAddress, uInt(bytes.count))
                try chunk(bytes)
            }
            try handle.seek(toOffset: dataOffset)
            var remaining = entry.compressedSize
            func nextInput() throws -> Data {
                let count = Int(min(remaining, 1 << 16))
                let data = try handle.read(upToCount: count) ?? Data()
                guard data.count == count else { throw Problem(detail: "'\(name)' is cut short") }
                remaining -= UInt64(count)
                return data
            }
            switch entry.method {
            case 0:
                while remaining > 0 { try nextInput().withUnsafeBytes(emit) }
            case 8:
                try inflate(name: name, remaining: { remaining }, nextInput: nextInput, emit: emit)
            default:
                throw Problem(detail: "'\(name)' uses zip compression method \(entry.method), not stored or deflate")
            }
            guard produced == declaredSize else { throw Problem(detail: "'\(name)' holds \(produced) bytes, not the \(declaredSize) declared") }
            guard crc == uLong(entry.crc32) else { throw Problem(detail: "'\(name)' fails its CRC-32 check") }
        }
    }

    private static func withArchive<R>(_ path: String, _ body: (FileHandle, UInt64) throws -> R) throws -> R {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Problem(detail: "cannot open the archive") }
        defer { try? handle.close() }
        return try body(handle, try handle.seekToEnd())
    }

    /// Raw deflate until the end-of-stream marker; the input running out first is an error.
    private static func inflate(name: String, remaining: () -> UInt64, nextInput: () throws -> Data,
                                emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Problem(detail: "zlib cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var status = Z_OK
        while status != Z_STREAM_END {
            guard remaining() > 0 else { throw Problem(detail: "'\(name)' ends before its compressed stream does") }
            var input = try nextInput()
            try input.withUnsafeMutableBytes { input in
                stream.next_in = input.bindMemory(to: Bytef.self).baseAddress
                stream.avail_in = uInt(input.count)
                repeat {
                    try output.withUnsafeMutableBytes { buffer in
                        stream.next_out = buffer.bindMemory(to: Bytef.self).baseAddress
                        stream.avail_out = uInt(buffer.count)
                        status = CKerasliteZlib.inflate(&stream, Z_NO_FLUSH)
                        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                            throw Problem(detail: "'\(name)' holds damaged deflate data")
                        }
                        try emit(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<(buffer.count - Int(stream.avail_out))]))
                    }
                } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
            }
        }
    }

    private static func bytes(_ handle: FileHandle, _ fileSize: UInt64, at offset: UInt64, count: Int) throws -> [UInt8] {
        guard offset <= fileSize, UInt64(count) <= fileSize - offset else { throw Problem(detail: "the zip directory points past the file") }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw Problem(detail: "the zip directory points past the file") }
        return [UInt8](data)
    }

    private static func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
        (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
    }

    /// The central directory's records, zip64 sizes and offsets taken from the extended
    /// information field; the directory must lie inside the file and every record within it.
    private static func directory(handle: FileHandle, fileSize: UInt64) throws -> [Entry] {
        // End of central directory: the last signature within the final 64 KB + 22 bytes.
        let tailCount = Int(min(fileSize, 65_557))
        let tail = try bytes(handle, fileSize, at: fileSize - UInt64(tailCount), count: tailCount)
        guard tailCount >= 22, let end = stride(from: tailCount - 22, through: 0, by: -1).first(where: {
            tail[$0] == 0x50 && tail[$0 + 1] == 0x4B && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
        }) else { throw Problem(detail: "no end of central directory") }
        var count = integer(tail, end + 10, 2), directorySize = integer(tail, end + 12, 4), directoryOffset = integer(tail, end + 16, 4)
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locatorStart = fileSize - UInt64(tailCount) + UInt64(end)
            guard locatorStart >= 20 else { throw Problem(detail: "no zip64 end of central directory") }
            let locator = try bytes(handle, fileSize, at: locatorStart - 20, count: 20)
            guard integer(locator, 0, 4) == 0x0706_4B50 else { throw Problem(detail: "no zip64 end of central directory") }
            let record = try bytes(handle, fileSize, at: integer(locator, 8, 8), count: 56)
            guard integer(record, 0, 4) == 0x0606_4B50 else { throw Problem(detail: "no zip64 end of central directory") }
            (count, directorySize, directoryOffset) = (integer(record, 32, 8), integer(record, 40, 8), integer(record, 48, 8))
        }
        let directory = try bytes(handle, fileSize, at: directoryOffset, count: Int(min(directorySize, fileSize)))
        var entries: [Entry] = []
        var position = 0
        for _ in 0..<min(count, UInt64(directory.count / 46 + 1)) {
            guard position + 46 <= directory.count, integer(directory, position, 4) == 0x0201_4B50 else {
                throw Problem(detail: "damaged central directory")
            }
            let method = UInt16(integer(directory, position + 10, 2))
            let crc32 = UInt32(integer(directory, position + 16, 4))
            var compressed = integer(directory, position + 20, 4), uncompressed = integer(directory, position + 24, 4)
            let nameLength = Int(integer(directory, position + 28, 2)), extraLength = Int(integer(directory, position + 30, 2))
            let commentLength = Int(integer(directory, position + 32, 2))
            var localHeader = integer(directory, position + 42, 4)
            let nameStart = position + 46, extraStart = nameStart + nameLength, next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw Problem(detail: "damaged central directory") }
            // Zip64 extended information: the 8-byte values of the fields that read 0xFFFFFFFF, in order.
            var field = extraStart
            while field + 4 <= extraStart + extraLength {
                let id = integer(directory, field, 2), size = Int(integer(directory, field + 2, 2))
                guard field + 4 + size <= extraStart + extraLength else { break }
                if id == 0x0001 {
                    var values = [uncompressed, compressed, localHeader], value = field + 4
                    for index in values.indices where values[index] == 0xFFFF_FFFF && value + 8 <= field + 4 + size {
                        values[index] = integer(directory, value, 8)
                        value += 8
                    }
                    (uncompressed, compressed, localHeader) = (values[0], values[1], values[2])
                }
                field += 4 + size
            }
            entries.append(Entry(name: String(decoding: directory[nameStart..<extraStart], as: UTF8.self), method: method,
                                 compressedSize: compressed, uncompressedSize: uncompressed, crc32: crc32, localHeader: localHeader))
            position = next
        }
        return entries
    }

    /// Where the member's bytes start: after its local header's name and extra field; its stored
    /// bytes must end inside the file.
    private static func dataOffset(of entry: Entry, handle: FileHandle, fileSize: UInt64) throws -> UInt64 {
        let header = try bytes(handle, fileSize, at: entry.localHeader, count: 30)
        guard integer(header, 0, 4) == 0x0403_4B50 else { throw Problem(detail: "no local header for '\(entry.name)'") }
        let (dataOffset, overflow) = entry.localHeader.addingReportingOverflow(30 + integer(header, 26, 2) + integer(header, 28, 2))
        guard !overflow, dataOffset <= fileSize, entry.compressedSize <= fileSize - dataOffset else {
            throw Problem(detail: "'\(entry.name)' declares \(entry.compressedSize) stored bytes past the end of the file")
        }
        return dataOffset
    }
}
