import Foundation

/// Writes a file all at once or not at all: the content is produced in a temporary file beside the
/// destination (same directory, so same file system), synced, and renamed over the destination.
/// On any failure every temporary file is removed and the destination is left as it was.
enum AtomicOutput {
    /// Calls `produce` with the temporary path to create the content at (it does not exist yet) and
    /// a function handing out further scratch paths beside it (removed afterwards, whatever happens);
    /// then syncs the temporary file and renames it to `path`.
    static func write(to path: String, produce: (_ temporary: String, _ scratch: (_ suffix: String) -> String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw KerasError.unwritable(file: path, reason: "directory \(directory.path) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw KerasError.unwritable(file: path, reason: "is a directory")
        }
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw KerasError.unwritable(file: path, reason: "permission denied in \(directory.path)")
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
            throw KerasError.unwritable(file: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Flushes the file's data to the disk before the rename makes it visible.
    private static func sync(_ temporary: String, destination: String) throws {
        let descriptor = open(temporary, O_RDONLY)
        guard descriptor >= 0 else {
            throw KerasError.unwritable(file: destination, reason: "temporary file vanished: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw KerasError.unwritable(file: destination, reason: String(cString: strerror(errno)))
        }
    }
}
