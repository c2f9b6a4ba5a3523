import ArgumentParser
import Foundation
import Kernels

// Errors become one line on stderr: "keraslite: <file>: <problem>", exit 2 for bad input (like
// diff(1) and grep(1): `diff` uses 1 for "the models differ") and ArgumentParser's usage code (64)
// for bad options. Help and --version exit 0 as usual.
// Past a file-size limit (`ulimit -f`) a write must fail with EFBIG, which AtomicFile turns into one
// error line after removing its temporary file, rather than SIGXFSZ killing the process mid-write.
signal(SIGXFSZ, SIG_IGN)
// Before anything else runs on the second core: OpenBLAS' idle worker stopped (see GEMM.useOneThread).
GEMM.useOneThread()
// Freed memory kept for reuse rather than unmapped and faulted in again (see Workspace).
Workspace.retainFreedMemory()
do {
    var command = try Keraslite.parseAsRoot()
    do {
        try command.run()
    } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
        // Help, --version and ArgumentParser's own errors raised while running.
        Keraslite.exit(withError: error)
    } catch {
        // keraslite's own errors (KerasError, ConversionError, GraphError, write errors) name the file.
        let line = "\(error)".split(separator: "\n").first.map(String.init) ?? "failed"
        FileHandle.standardError.write(Data("keraslite: \(line)\n".utf8))
        exit(2)
    }
} catch {
    let code = Keraslite.exitCode(for: error)
    if code == .success {
        Keraslite.exit(withError: error)
    }
    let message = Keraslite.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    FileHandle.standardError.write(Data("keraslite: \(message) (see 'keraslite --help')\n".utf8))
    exit(code.rawValue)
}
