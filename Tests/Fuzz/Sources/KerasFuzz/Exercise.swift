import Foundation
import JSON
import Reports
import TFLiteReports

/// One fuzz input: the bytes are a candidate `.h5` or `.keras` file. libhdf5 and the zip reader
/// open files by path, so the bytes go to one scratch file per process in /dev/shm (memory, so no
/// disk I/O), named with the extension the magic bytes call for; the library keeps its normal API.
/// Runs what `keraslite inspect` (text, `--json`, `--html`) and `keraslite sparsity` (text,
/// `--json`) run. A thrown error with a one-line message is a fine outcome; a trap, an ASan report,
/// a timeout, running out of memory or an unclear message is a bug.
/// Tests/KerasTests/CorpusTests.swift runs the same sequence over the regression corpus.
func exercise(_ data: Data) {
    let isZip = data.starts(with: [0x50, 0x4B, 0x03, 0x04])
    let path = scratch + (isZip ? ".keras" : ".h5")
    guard FileManager.default.createFile(atPath: path, contents: data) else { fatalError("cannot write \(path)") }
    defer { unlink(path) }
    do {
        let inspection = try ModelInspection(path: path)
        _ = inspection.text()
        precondition(!inspection.json.serialized().isEmpty)
        _ = try? inspection.html()
    } catch {
        check(error)
        return
    }
    do {
        let sparsity = try SparsityReport(path: path, threshold: 1e-3)
        _ = sparsity.text()
        _ = sparsity.json.serialized()
    } catch {
        check(error)
    }
}

let scratch: String = {
    let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(directory)/keraslite-fuzz-\(getpid())"
}()

/// The CLI prints an error as one line: it must say something and hold no control character.
func check(_ error: Error) {
    let text = "\(error)"
    if text.isEmpty || text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        fatalError("unclear error message: \(text.debugDescription)")
    }
}

/// The classic libFuzzer entry, for drivers that look for it (main.swift runs the driver itself).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    exercise(start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}
