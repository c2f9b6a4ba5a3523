import Foundation
import TFLiteReports
import TFLite

/// One fuzz input: the bytes are a candidate `.tflite`. Runs what `keraslite inspect` (text,
/// `--json`, `--html`) and `keraslite sparsity` (text, `--json`) run on a file. A thrown error
/// with a one-line message is a fine outcome; a trap, an ASan report, a timeout, running out of
/// memory or an unclear message is a bug. Tests/TFLiteTests/CorpusTests.swift runs the same
/// sequence over the regression corpus in the normal test suite.
func exercise(_ data: Data) {
    let file: TFLiteFile
    do {
        file = try TFLiteFile(data: data, path: "fuzz.tflite")
    } catch {
        check(error)
        return
    }
    let report = TFLiteInspectReport(file: file)
    precondition(!report.json.serialized().isEmpty)
    _ = report.text()
    var sparsity: SparsityReport?
    do {
        sparsity = try SparsityReport(tflite: file, threshold: 1e-3)
        _ = sparsity?.json.serialized()
        _ = sparsity?.text()
    } catch {
        check(error)
    }
    _ = HTMLReport.inspect(tflite: report, sparsity: sparsity)
}

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
