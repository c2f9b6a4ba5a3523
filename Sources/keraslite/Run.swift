import Analysis
import ArgumentParser
import Files
import Foundation

/// `keraslite run MODEL --input x.npy -o y.npy`: the reference interpreters on a model file.
///
/// A Keras file runs on the graph-IR interpreter after the standard pass pipeline (remove-identity,
/// fold-pad, fold-batchnorm, fuse-activation), so it runs what `convert` lowers; `--no-passes`
/// runs the graph exactly as the Keras frontend built it. A `.tflite` file runs on the TFLite
/// executor (`TFLiteExecutor`): float, float16, dynamic-range and full-integer models.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model (.h5, .keras or .tflite) on keraslite's reference interpreters and write its outputs as .npy/.npz.",
        discussion: """
            A .tflite input of type int8/uint8/int16 takes either its stored integers (an integer .npy: int8 data \
            for an int8 input) or real numbers (a float .npy), which are quantized with the input's scale and zero \
            point. Quantized .tflite outputs are written in their stored type (int8 stays int8) unless \
            --dequantize-outputs. A .tflite with a fixed batch (keraslite's default: 1) runs that many samples at \
            a time; --batch-size applies to Keras files and to .tflite files with a dynamic batch (-1 in the shape \
            signature, as TensorFlow's converter writes).
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp(
        "Input samples: a .npy holding N × the input shape (float32/64, integers; C order) for a one-input model, "
            + "an .npz with one array per input name, or a directory of them (stacked in name order).", valueName: "x.npy"))
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the outputs here (atomically): .npy for a one-output model, .npz (arrays named after the outputs) for any.",
        valueName: "y.npy"))
    var output: String?

    @Option(help: "Samples per interpreter run: bounds memory; outputs agree across sizes up to float rounding.")
    var batchSize: Int = 8

    @Flag(help: "Run the graph as the Keras frontend built it, without the standard passes (Keras files).")
    var noPasses = false

    @Flag(help: "Write a quantized .tflite's outputs as float32 real values instead of their stored integers.")
    var dequantizeOutputs = false

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
        guard let output else { return }
        guard output.hasSuffix(".npy") || output.hasSuffix(".npz") else {
            throw ValidationError("--output must end in .npy or .npz, got \(output)")
        }
        try refuseOverwriting("--output", output, [("the model file", model.file), ("--input", input), ("--config", model.config)])
    }

    func run() throws {
        let start = DispatchTime.now()
        let reference = try ReferenceModel.load(path: model.file, config: model.config, passes: !noPasses)
        if let output { try reference.checkOutputFile(output) }
        let inputs = try reference.loadInputs(input)
        let samples = inputs.first?.shape.first ?? 0
        let loaded = DispatchTime.now()
        let outputs = try reference.run(inputs, batchSize: batchSize)
        let ran = DispatchTime.now()
        let stored = try reference.stored(outputs, dequantize: dequantizeOutputs)
        if let output { try AtomicFile.write(try ReferenceModel.encode(stored, for: output), to: output) }
        guard !quiet else { return }
        print(reference.summary(samples: samples, batchSize: batchSize, stored: stored,
                                seconds: (seconds(start, ran), seconds(start, loaded), seconds(loaded, ran)), wrote: output))
    }
}

func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
    Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e9
}
