import Foundation

/// Writes a file all at once or not at all: the content is produced in a temporary file beside the
/// destination (same directory, so same file system), synced, and renamed over the destination.
/// On any failure every temporary file is removed and the destination is left as it was. Every
/// file keraslite writes (`.tflite`, Keras files, `.npy`/`.npz`, HTML pages, plans) goes through it.
public enum AtomicFile {
    /// Writes `bytes` to `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }

    /// Writes what `produce` hands its sink, piece by piece in order, to `path` — for content too
    /// large to hold at once (a model's weights, one tensor at a time). The pieces are copied to a
    /// thread that writes them (`BackgroundWriter`, at most `BackgroundWriter.limit` bytes
    /// waiting), so producing the next piece — reading and reordering weights — overlaps the
    /// write of the last; a write error is thrown from the sink's next call or at the end.
    public static func write(to path: String, streaming produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try write(to: path) { temporary, _ in
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else {
                throw FileError.cannotWrite(file: path, reason: "cannot create a file in \(directory): \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            var total = 0, started = 0
            let writer = BackgroundWriter { buffer in
                var written = 0
                while written < buffer.count {
                    let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                    if result < 0 { throw FileError.cannotWrite(file: path, reason: String(cString: strerror(errno))) }
                    written += result
                }
                total += buffer.count
                // The disk starts writing each 8 MB as soon as it is complete, so the sync before
                // the rename waits for the last few megabytes instead of the whole file.
                if total - started >= writeBehind {
                    startWriteback(descriptor, offset: started, count: total - started)
                    started = total
                }
            }
            do {
                try produce { try writer.enqueue($0) }
            } catch {
                writer.cancel()  // the thread is gone before the descriptor closes and the file is removed
                throw error
            }
            try writer.finish()
        }
    }

    /// Calls `produce` with the temporary path to create the content at (it does not exist yet) and
    /// a function handing out further scratch paths beside it (removed afterwards, whatever happens);
    /// then syncs the temporary file and renames it to `path`. Throws `FileError.cannotWrite` when
    /// the directory is missing or `path` is a directory.
    public static func write(to path: String, produce: (_ temporary: String, _ scratch: (_ suffix: String) -> String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileError.cannotWrite(file: path, reason: "directory \(directory.path) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileError.cannotWrite(file: path, reason: "is a directory")
        }

        var created: [String] = []
        func scratch(_ suffix: String) -> String {
            let name = ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))\(suffix)"
            let scratchPath = directory.appendingPathComponent(name).path
            created.append(scratchPath)
            return scratchPath
        }
        defer { for file in created { try? FileManager.default.removeItem(atPath: file) } }

        let temporary = scratch(".tmp")
        try produce(temporary, scratch)
        try sync(temporary, destination: path)
        guard rename(temporary, path) == 0 else {
            throw FileError.cannotWrite(file: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Bytes between two write-back requests of a streamed write.
    static let writeBehind = 8 << 20

    /// Asks the kernel to start writing `count` bytes at `offset` to the disk without waiting
    /// (Linux's sync_file_range with SYNC_FILE_RANGE_WRITE, looked up by name as the Glibc module
    /// does not declare it); elsewhere, or if it fails, the final fsync does all the work.
    private static func startWriteback(_ descriptor: Int32, offset: Int, count: Int) {
        #if os(Linux)
        _ = syncFileRange.map { $0(descriptor, Int64(offset), Int64(count), 2) }
        #endif
    }

    #if os(Linux)
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range")
        .map { unsafeBitCast($0, to: SyncFileRange.self) }
    #endif

    /// Flushes the file's data to the disk before the rename makes it visible.
    private static func sync(_ temporary: String, destination: String) throws {
        let descriptor = open(temporary, O_RDONLY)
        guard descriptor >= 0 else {
            throw FileError.cannotWrite(file: destination, reason: "temporary file vanished: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw FileError.cannotWrite(file: destination, reason: String(cString: strerror(errno)))
        }
    }
}
