import Analysis
import ArgumentParser
import Foundation

/// `keraslite verify A B --input x.npy`: runs two model files on the same inputs on keraslite's
/// reference interpreters and compares their outputs.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run two model files (.h5, .keras, .tflite in any pairing) on the same inputs and compare their outputs.",
        discussion: """
            Both files run on keraslite's reference interpreters (Keras files on the graph-IR interpreter after the \
            standard passes, .tflite files on the TFLite executor); outputs are compared as real numbers (quantized \
            outputs dequantized), paired by name, or by position when the names differ. Per output: max and mean \
            absolute error and, when the last axis has more than one element (class scores), the top-1 agreement. \
            Exit status 0, or 1 when --tolerance is given and some max absolute error exceeds it; 2 on error.
            """)

    @Argument(help: "The first model file (A, the reference).")
    var a: String

    @Argument(help: "The second model file (B).")
    var b: String

    @Option(help: ArgumentHelp(
        "Input samples: a .npy holding N × the input shape for one-input models, an .npz with one array per input name, or a directory of them.",
        valueName: "x.npy"))
    var input: String

    @Option(help: "Largest max absolute error that passes; exit 1 when an output exceeds it.")
    var tolerance: Double?

    @Option(help: "Samples per interpreter run (Keras files and .tflite files with a dynamic batch).")
    var batchSize: Int = 8

    @Flag(help: "Print one JSON object (keys in docs/json.md).")
    var json = false

    @OptionGroup var configs: ConfigPairOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        if let tolerance, !(tolerance >= 0 && tolerance.isFinite) {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
        }
    }

    func run() throws {
        let verification = try Verification(pathA: a, configA: configs.configA, pathB: b, configB: configs.configB,
                                            input: input, batchSize: batchSize, tolerance: tolerance)
        print(json ? verification.json.serialized() : verification.text(), terminator: json ? "\n" : "")
        if !verification.passed { throw ExitCode(1) }
    }
}
