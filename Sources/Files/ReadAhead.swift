#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to start reading a whole file into the page cache in the background
/// (`posix_fadvise(POSIX_FADV_WILLNEED)`), for a reader about to read all of it in many small
/// reads: the converter reads every weight of a model, and while the kernel fetches them it
/// parses the architecture and loads calibration samples. Best effort: any failure is ignored,
/// and the file is read as before.
public enum ReadAhead {
    public static func start(_ path: String) {
        #if canImport(Glibc)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_WILLNEED)
        close(descriptor)
        #endif
    }
}
