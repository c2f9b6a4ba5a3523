// swift-tools-version:6.0
// libFuzzer targets for keraslite's readers. Kept out of the root package so that its
// `swift build` / `swift test` never see them. Built and run by `make fuzz` (the .tflite reader)
// and `make fuzz-keras` (the Keras reader) at the repository root:
//
//   swift build -c release -Xswiftc -sanitize=fuzzer,address
//   .build/release/TFLiteFuzz <corpus dirs> -dict=tflite.dict ...
//   .build/release/KerasFuzz <corpus dirs> -dict=keras.dict ...
//
// Each executable has its own main (main.swift) that hands control to libFuzzer through
// LLVMFuzzerRunDriver: `-parse-as-library` with libFuzzer's own main does not link under SwiftPM,
// which points `main` at a renamed `TFLiteFuzz_main` entry.
import PackageDescription

let package = Package(
    name: "keraslite-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "keraslite", path: "../.."),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "TFLiteFuzz", dependencies: [
            "CLibFuzzer", .product(name: "KerasLiteTFLiteReader", package: "keraslite"),
        ]),
        // The Keras path: HDF5 wrapper (libhdf5, not instrumented), JSON, config dialects,
        // ModelBuilder, weight matching, .keras zip reading, and the reports over them.
        .executableTarget(name: "KerasFuzz", dependencies: [
            "CLibFuzzer", .product(name: "KerasLite", package: "keraslite"),
        ]),
    ]
)
