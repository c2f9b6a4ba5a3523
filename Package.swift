// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "keraslite",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keraslite", targets: ["keraslite"]),
        .library(name: "KerasLite", targets: ["HDF5", "FlatBuffers", "GraphIR", "Passes", "Files", "JSON", "Keras", "TFLite", "ModelFile",
                                              "HTML", "TFLiteReports", "Reports", "Diff", "Kernels", "NumPy", "Interpreter", "Calibration", "TFLiteInterpreter",
                                              "Analysis", "Conversion"]),
        // The .tflite reader and its reports alone, for Tests/Fuzz (a separate package): links
        // neither libhdf5 nor OpenBLAS.
        .library(name: "KerasLiteTFLiteReader", targets: ["FlatBuffers", "JSON", "Files", "TFLite", "HTML", "TFLiteReports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // C libraries, reached through tiny module maps and shim headers.
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]),
        .systemLibrary(
            name: "CKerasliteZlib", path: "Sources/CKerasliteZlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),

        // Container reader: knows HDF5, nothing of Keras.
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        // FlatBuffers builder and verifying reader: no schema knowledge.
        .target(name: "FlatBuffers"),
        // The graph IR: tensors, ops, shape inference, verifier, printer.
        .target(name: "GraphIR"),
        // Files keraslite writes (atomically) and errors that name their file.
        .target(name: "Files"),
        // JSON values: the parser (Python's NaN/Infinity accepted) and the sorted-key serializer.
        .target(name: "JSON"),
        // Keras frontend: HDF5 / zip container -> Keras model description -> graph IR.
        .target(name: "Keras", dependencies: [
            "HDF5", "GraphIR", "JSON", "Files", "CKerasliteZlib", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // Graph → graph passes (one per file, stable kebab-case ids) and pipelines.
        .target(name: "Passes", dependencies: ["GraphIR"]),
        // TFLite backend: schema constants, lowering table, writer.
        .target(name: "TFLite", dependencies: ["FlatBuffers", "GraphIR", "Passes", "Kernels"]),
        // Numeric cores both interpreters call (GEMM through OpenBLAS, parallel loops, layouts as
        // parameters); knows neither the graph IR nor TFLite.
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CKernels"]),
        // keraslite's own AVX-512 kernels in C: the GEMM micro-kernel for constant (packed once)
        // right-hand operands, the finite min/max scan of calibration.
        .target(name: "CKernels"),
        // numpy files: NPY/NPZ read and write, sample sets (.npy/.npz/directory) matched to model inputs.
        .target(name: "NumPy", dependencies: ["Kernels", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Reference interpreter: float32 execution of the graph IR on the Kernels.
        .target(name: "Interpreter", dependencies: ["GraphIR", "Kernels"]),
        // Reference executor for any .tflite file (float, float16, hybrid, simulated full-integer).
        .target(name: "TFLiteInterpreter", dependencies: ["TFLite", "FlatBuffers", "Kernels", "NumPy"]),
        // Full-integer quantization support: calibration samples → the float .tflite on the
        // reference executor → per-tensor ranges.
        .target(name: "Calibration", dependencies: ["GraphIR", "Kernels", "NumPy", "Interpreter", "TFLite", "TFLiteInterpreter"]),
        // The one front door: format detection and opening of any model file.
        .target(name: "ModelFile", dependencies: ["Keras", "TFLite", "Files"]),
        // Self-contained HTML pages: page shell, tables, bar charts, histograms, graph layout; number formatting.
        .target(name: "HTML"),
        // The reports a .tflite alone needs (inspect, sparsity, the inspect page), on the
        // format-neutral SparsityReport and HTMLReport; no Keras, no interpreter.
        .target(name: "TFLiteReports", dependencies: ["TFLite", "JSON", "HTML", "Files", "CKerasliteZlib"]),
        // Reports over Keras files: inspect, sparsity, prune, the Keras inspect page.
        .target(name: "Reports", dependencies: ["TFLiteReports", "ModelFile", "Keras", "GraphIR", "Passes", "JSON", "HTML"]),
        // `diff`: two model files reduced to comparable views, aligned, rendered as text / JSON / HTML.
        .target(name: "Diff", dependencies: [
            "TFLiteReports", "ModelFile", "Keras", "GraphIR", "Passes", "TFLite", "FlatBuffers", "JSON", "HTML",
        ]),
        // Analyses that run models: sensitivity, int8 error report, reference models and `verify`.
        .target(name: "Analysis", dependencies: [
            "TFLiteReports", "Files", "ModelFile", "Keras", "GraphIR", "Passes", "TFLite", "JSON", "HTML", "Calibration", "Kernels", "NumPy", "Interpreter", "TFLiteInterpreter",
        ]),
        // The converter behind one door: Keras file → prune → passes → lowering → quantize (int8
        // calibrated on samples) → .tflite bytes; pruned weights written back as Keras files.
        .target(name: "Conversion", dependencies: ["Keras", "ModelFile", "Passes", "TFLite", "Calibration", "Files", "JSON", "GraphIR", "FlatBuffers"]),
        // The thin command-line front.
        .executableTarget(name: "keraslite", dependencies: [
            "Files", "ModelFile", "Conversion", "Keras", "JSON", "TFLiteReports", "Reports", "Diff", "Analysis", "GraphIR", "TFLite", "Kernels", "NumPy", "Interpreter", "TFLiteInterpreter",
            "Passes", "Calibration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Paths of samples and shared third-party models, for every test target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "TestSupport"]),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR"]),
        .testTarget(name: "FlatBuffersTests", dependencies: ["FlatBuffers"]),
        .testTarget(name: "PassesTests", dependencies: ["Passes", "GraphIR"]),
        .testTarget(name: "TFLiteTests", dependencies: ["TFLite", "FlatBuffers", "GraphIR", "Keras", "Passes", "JSON", "TFLiteReports", "Diff", "TestSupport"],
                    exclude: ["Fixtures", "Corpus"]),
        .testTarget(name: "KerasTests", dependencies: ["Keras", "JSON", "GraphIR", "HDF5", "Reports", "TFLiteReports", "TestSupport"],
                    exclude: ["Golden", "Corpus"]),
        .testTarget(name: "ReportsTests", dependencies: [
            "HTML", "TFLiteReports", "Reports", "Diff", "Analysis", "JSON", "Keras", "TFLite", "GraphIR", "Passes", "Calibration", "Kernels", "NumPy", "TestSupport",
        ]),
        .testTarget(name: "InterpreterTests", dependencies: ["Interpreter", "Kernels", "NumPy", "GraphIR", "Passes", "Keras", "TestSupport"]),
        .testTarget(name: "CalibrationTests", dependencies: [
            "Calibration", "Kernels", "Interpreter", "TFLiteInterpreter", "GraphIR", "TFLite", "Keras", "TestSupport",
        ]),
        .testTarget(name: "TFLiteInterpreterTests", dependencies: [
            "TFLiteInterpreter", "TFLite", "Kernels", "NumPy", "Interpreter", "GraphIR", "Keras", "Passes", "TestSupport",
        ]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "NumPyTests", dependencies: ["NumPy", "Kernels", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
    ]
)
