// swift-tools-version:6.0
// libFuzzer target for keraslite's TFLite reader. Kept out of the root package so that its
// `swift build` / `swift test` never see it. Built and run by `make fuzz` at the repository root:
//
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address
//   .build/debug/TFLiteFuzz <corpus dirs> -dict=tflite.dict ...
//
// The executable has its own main (main.swift) that hands control to libFuzzer through
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
    ]
)
