import ArgumentParser
import Diff
import Files
import Foundation
import TFLiteReports

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two model files (.h5, .keras, .tflite in any pairing): structure and weights.",
        discussion: """
            Both sides are normalised before comparing: two Keras files as graph IR after the standard \
            passes; when either is a .tflite, a Keras side is lowered by keraslite's converter and both \
            are compared as TFLite operators, so a Keras file and the .tflite keraslite made from it are \
            equal. Exit status as diff(1): 0 equal, 1 different, 2 error.
            """)

    @Argument(help: "The first model file (A).")
    var a: String

    @Argument(help: "The second model file (B).")
    var b: String

    @Option(help: "Largest absolute weight difference that still counts as equal.")
    var tolerance: Double = 0

    @Flag(help: "Print one JSON object (keys in docs/json.md).")
    var json = false

    @OptionGroup var configs: ConfigPairOptions

    @Option(help: "Most changed ops and differing weights listed in the text report.")
    var limit = 40

    @Option(help: ArgumentHelp(
        "Also write a self-contained HTML page (both models side by side: aligned op table, weight comparison, size bars, "
            + "sparsity histograms, op types, graphs, changes highlighted; no network) to this file, atomically and never "
            + "over an input; the usual report still goes to stdout and the exit status is unchanged.",
        valueName: "page.html"))
    var html: String?

    func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
        guard limit >= 0 else { throw ValidationError("--limit must be ≥ 0, got \(limit)") }
        try refuseOverwriting("--html", html, [("the input file", a), ("the input file", b)])
    }

    func run() throws {
        let diff = try ModelDiff(pathA: a, pathB: b, tolerance: tolerance, configA: configs.configA, configB: configs.configB)
        if let html { try AtomicFile.write(Array(HTMLReport.diff(diff).utf8), to: html) }
        print(json ? diff.json.serialized() : diff.text(limit: limit), terminator: json ? "\n" : "")
        if !diff.equal { throw ExitCode(1) }
    }
}
