import CKerasliteZlib
import Foundation

/// Reads one member of a zip archive with zlib, bounded by what the archive declares: the member
/// is found through the central directory (zip64 included) and its local header, its stored
/// bytes must lie inside the file, a deflate stream must reach its end-of-stream marker within
/// them, the output may not exceed the declared size and must match the CRC-32.
///
/// ZIPFoundation lists the archive; its Linux inflate loop is not used to read members: it reads
/// past a member's compressed bytes and, once the file runs out before the stream's end marker,
/// spins forever (a 4.5 KB `.keras` whose `config.json` stream was cut short hung every command).
enum ZipMember {
    struct Problem: Error {
        let detail: String
    }

    /// Calls `chunk` with the member's bytes in order, at most `declaredSize` in all (exactly that
    /// many, or `Problem`), checked against `crc32`.
    static func read(_ path: String, member name: String, declaredSize: UInt64, crc32 expected: UInt32,
                     chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Problem(detail: "cannot open the archive") }
        defer { try? handle.close() }
        let fileSize = try handle.seekToEnd()
        guard let location = try locate(name, handle: handle, fileSize: fileSize) else {
            throw Problem(detail: "'\(name)' is not in the central directory")
        }
        var produced: UInt64 = 0
        var crc = CKerasliteZlib.crc32(0, nil, 0)
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            guard !bytes.isEmpty else { return }
            produced += UInt64(bytes.count)
            guard produced <= declaredSize else { throw Problem(detail: "'\(name)' is longer than declared") }
            crc = CKerasliteZlib.crc32(crc, bytes.bindMemory(to: Bytef.self).baseAddress, uInt(bytes.count))
            try chunk(bytes)
        }
        try handle.seek(toOffset: location.dataOffset)
        var remaining = location.compressedSize
        func nextInput() throws -> Data {
            let count = Int(min(remaining, 1 << 16))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw Problem(detail: "'\(name)' is cut short") }
            remaining -= UInt64(count)
            return data
        }
        switch location.method {
        case 0:
            while remaining > 0 { try nextInput().withUnsafeBytes(emit) }
        case 8:
            try inflate(name: name, remaining: { remaining }, nextInput: nextInput, emit: emit)
        default:
            throw Problem(detail: "'\(name)' uses zip compression method \(location.method), not stored or deflate")
        }
        guard produced == declaredSize else { throw Problem(detail: "'\(name)' holds \(produced) bytes, not the \(declaredSize) declared") }
        guard crc == uLong(expected) else { throw Problem(detail: "'\(name)' fails its CRC-32 check") }
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

    private struct Location {
        let dataOffset: UInt64
        let compressedSize: UInt64
        let method: UInt16
    }

    /// Where the member's bytes are: its central directory record (zip64 sizes and offsets from the
    /// extended information field) and its local header's name and extra lengths.
    private static func locate(_ name: String, handle: FileHandle, fileSize: UInt64) throws -> Location? {
        func bytes(at offset: UInt64, count: Int) throws -> [UInt8] {
            guard offset <= fileSize, UInt64(count) <= fileSize - offset else { throw Problem(detail: "the zip directory points past the file") }
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw Problem(detail: "the zip directory points past the file") }
            return [UInt8](data)
        }
        func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
        }
        // End of central directory: the last signature within the final 64 KB + 22 bytes.
        let tailCount = Int(min(fileSize, 65_557))
        let tail = try bytes(at: fileSize - UInt64(tailCount), count: tailCount)
        guard tailCount >= 22, let end = stride(from: tailCount - 22, through: 0, by: -1).first(where: {
            tail[$0] == 0x50 && tail[$0 + 1] == 0x4B && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
        }) else { throw Problem(detail: "no end of central directory") }
        var entries = integer(tail, end + 10, 2), directorySize = integer(tail, end + 12, 4), directoryOffset = integer(tail, end + 16, 4)
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locatorStart = fileSize - UInt64(tailCount) + UInt64(end)
            guard locatorStart >= 20 else { throw Problem(detail: "no zip64 end of central directory") }
            let locator = try bytes(at: locatorStart - 20, count: 20)
            guard integer(locator, 0, 4) == 0x0706_4B50 else { throw Problem(detail: "no zip64 end of central directory") }
            let record = try bytes(at: integer(locator, 8, 8), count: 56)
            guard integer(record, 0, 4) == 0x0606_4B50 else { throw Problem(detail: "no zip64 end of central directory") }
            (entries, directorySize, directoryOffset) = (integer(record, 32, 8), integer(record, 40, 8), integer(record, 48, 8))
        }
        let directory = try bytes(at: directoryOffset, count: Int(min(directorySize, fileSize)))
        var position = 0
        for _ in 0..<min(entries, UInt64(directory.count / 46 + 1)) {
            guard position + 46 <= directory.count, integer(directory, position, 4) == 0x0201_4B50 else {
                throw Problem(detail: "damaged central directory")
            }
            let method = UInt16(integer(directory, position + 10, 2))
            var compressed = integer(directory, position + 20, 4), uncompressed = integer(directory, position + 24, 4)
            let nameLength = Int(integer(directory, position + 28, 2)), extraLength = Int(integer(directory, position + 30, 2))
            let commentLength = Int(integer(directory, position + 32, 2))
            var localHeader = integer(directory, position + 42, 4)
            let nameStart = position + 46, extraStart = nameStart + nameLength, next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw Problem(detail: "damaged central directory") }
            if String(decoding: directory[nameStart..<extraStart], as: UTF8.self) == name {
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
                let header = try bytes(at: localHeader, count: 30)
                guard integer(header, 0, 4) == 0x0403_4B50 else { throw Problem(detail: "no local header for '\(name)'") }
                let (dataOffset, overflow) = localHeader.addingReportingOverflow(30 + integer(header, 26, 2) + integer(header, 28, 2))
                guard !overflow, dataOffset <= fileSize, compressed <= fileSize - dataOffset else {
                    throw Problem(detail: "'\(name)' declares \(compressed) stored bytes past the end of the file")
                }
                return Location(dataOffset: dataOffset, compressedSize: compressed, method: method)
            }
            position = next
        }
        return nil
    }
}
