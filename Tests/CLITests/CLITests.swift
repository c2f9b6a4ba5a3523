import Foundation
import TestSupport
import Testing

/// End-to-end: runs the built `keraslite` binary and checks stdout, stderr and exit status.
@Suite struct CLITests {
    static let root = Fixtures.root
    static let binary = ProcessInfo.processInfo.environment["KERASLITE_BIN"] ?? root.appendingPathComponent(".build/debug/keraslite").path
    static let realworld = Fixtures.realworld

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Bad input: exactly one line on stderr naming the file, exit status 2, nothing on stdout.
    static func expectOneLineError(_ arguments: [String], mentioning fragments: [String]) throws {
        let result = try run(arguments)
        #expect(result.status == 2, "\(arguments): status \(result.status), stderr \(result.stderr)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(arguments): \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "\(result.stderr) lacks \(fragment)") }
    }

    @Test func missingFileAndDirectory() throws {
        try Self.expectOneLineError(["inspect", "/nonexistent/model.h5"], mentioning: ["/nonexistent/model.h5", "no such file"])
        let directory = try Self.temporaryDirectory()
        try Self.expectOneLineError(["sparsity", directory.path], mentioning: [directory.path, "directory"])
    }

    @Test func notHDF5AndTruncated() throws {
        let directory = try Self.temporaryDirectory()
        let text = directory.appendingPathComponent("notes.h5")
        try Data("this is not a model\n".utf8).write(to: text)
        try Self.expectOneLineError(["inspect", text.path], mentioning: [text.path, "neither HDF5 nor"])
        let empty = directory.appendingPathComponent("empty.h5")
        try Data().write(to: empty)
        try Self.expectOneLineError(["inspect", empty.path], mentioning: [empty.path])

        let original = try Data(contentsOf: URL(fileURLWithPath: Self.realworld))
        for length in [8, 512, 4096, original.count / 2] {
            let truncated = directory.appendingPathComponent("truncated-\(length).h5")
            try original.prefix(length).write(to: truncated)
            for command in ["inspect", "sparsity"] {
                try Self.expectOneLineError([command, truncated.path], mentioning: [truncated.path])
            }
        }
    }

    @Test func badOptionsGiveOneLineAndUsageStatus() throws {
        let result = try Self.run(["sparsity", Self.realworld, "--threshold", "-1"])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("--threshold"))
        let unknown = try Self.run(["inspect", Self.realworld, "--no-such-flag"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.split(separator: "\n").count == 1)
    }

    @Test func helpAndVersionExitZero() throws {
        let help = try Self.run(["--help"])
        #expect(help.status == 0)
        for command in ["inspect", "sparsity", "graph"] { #expect(help.stdout.contains(command)) }
        let subcommandHelp = try Self.run(["sparsity", "--help"])
        #expect(subcommandHelp.status == 0)
        #expect(subcommandHelp.stdout.contains("--threshold"))
        #expect(try Self.run(["--version"]).status == 0)
    }

    @Test func inspectJSONHasTheDocumentedKeys() throws {
        let result = try Self.run(["inspect", Self.realworld, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["format", "keras_version", "params", "size_bytes", "inputs", "outputs", "layers"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["format"] as? String == "keras-h5")
        #expect(object["keras_version"] as? String == "2.0.5")
        let size = try FileManager.default.attributesOfItem(atPath: Self.realworld)[.size] as? Int
        #expect(object["size_bytes"] as? Int == size)
        let layers = try #require(object["layers"] as? [[String: Any]])
        for layer in layers {
            for key in ["name", "type", "params", "output_shape"] { #expect(layer[key] != nil) }
        }
    }

    @Test func sparsityJSONHasTheDocumentedKeysAndAddsUp() throws {
        let result = try Self.run(["sparsity", Self.realworld, "--json", "--threshold", "0.01"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["threshold"] as? Double == Double(Float(0.01)))
        let tensors = try #require(object["tensors"] as? [[String: Any]])
        #expect(tensors.reduce(0) { $0 + ($1["total"] as! Int) } == object["total"] as? Int)
        #expect(tensors.reduce(0) { $0 + ($1["near_zero"] as! Int) } == object["near_zero"] as? Int)
        let inspect = try JSONSerialization.jsonObject(with: Data(try Self.run(["inspect", Self.realworld, "--json"]).stdout.utf8)) as? [String: Any]
        #expect(object["total"] as? Int == inspect?["params"] as? Int)
    }

    @Test func inputIsNeverModified() throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: Self.realworld))
        _ = try Self.run(["sparsity", Self.realworld])
        _ = try Self.run(["inspect", Self.realworld])
        #expect(try Data(contentsOf: URL(fileURLWithPath: Self.realworld)) == before)
    }

    @Test func convertWritesAtomicallyAndSummarizes() throws {
        let directory = try Self.temporaryDirectory()
        let output = directory.appendingPathComponent("model.tflite").path
        let result = try Self.run(["convert", Fixtures.sample("digits_cnn_k2.h5"), "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote \(output): "))
        #expect(result.stdout.contains("CONV_2D 2"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(bytes.count > 1000 && Array(bytes[4..<8]) == Array("TFL3".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.tflite"])
        let quiet = try Self.run(["convert", Fixtures.sample("digits_cnn_k2.h5"), "-o", output, "--quiet"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty)
    }

    /// `convert --sparse` reports what it stored sparse, or that nothing paid off; `verify` runs the file.
    @Test func convertSparseReportsItsSavings() throws {
        let directory = try Self.temporaryDirectory()
        let output = directory.appendingPathComponent("sparse.tflite").path
        let pruned = try Self.run(["convert", Fixtures.sample("digits_cnn_k2.h5"), "-o", output, "--prune", "0.8", "--sparse"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("DENSIFY 1"), "\(pruned.stdout)")
        #expect(pruned.stdout.contains(" constants stored sparse (CSR 2, 1 through DENSIFY): "), "\(pruned.stdout)")
        #expect(pruned.stdout.hasSuffix(" saved\n"), "\(pruned.stdout)")
        let verify = try Self.run(["verify", output, output, "--input", Fixtures.sample("digits_cnn_k2.inputs.npy")])
        #expect(verify.status == 0, "\(verify.stderr)")
        let dense = try Self.run(["convert", Fixtures.sample("digits_cnn_k2.h5"), "-o", output, "--sparse"])
        #expect(dense.stdout.hasSuffix("; --sparse: no constant pays off stored sparse\n"), "\(dense.stdout)")
    }

    /// diff exits like diff(1): 0 equal, 1 different, 2 trouble (one stderr line).
    @Test func diffExitStatus() throws {
        let same = try Self.run(["diff", Fixtures.sample("digits_cnn_k3.h5"), Fixtures.sample("digits_cnn_k3.keras")])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.hasSuffix("equal: 8 ops and 12 weights match exactly\n"), "\(same.stdout)")
        let different = try Self.run(["diff", Fixtures.sample("digits_cnn_k2.h5"), Fixtures.sample("digits_cnn_k3.h5"), "--json"])
        #expect(different.status == 1, "\(different.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(different.stdout.utf8)) as? [String: Any])
        #expect(object["equal"] as? Bool == false)
        try Self.expectOneLineError(["diff", Fixtures.sample("digits_cnn_k3.h5"), "/nonexistent/b.tflite"],
                                    mentioning: ["/nonexistent/b.tflite"])
        let usage = try Self.run(["diff", Fixtures.sample("digits_cnn_k3.h5"), Fixtures.sample("digits_cnn_k3.h5"), "--tolerance", "-1"])
        #expect(usage.status == 64)
    }

    @Test func convertNeverTouchesItsInput() throws {
        let directory = try Self.temporaryDirectory()
        let input = directory.appendingPathComponent("model.h5")
        try FileManager.default.copyItem(atPath: Fixtures.sample("digits_mlp_k2.h5"), toPath: input.path)
        let before = try Data(contentsOf: input)
        let result = try Self.run(["convert", input.path, "-o", input.path])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("never overwrites"))
        #expect(try Data(contentsOf: input) == before)
    }

    @Test func failedConversionLeavesNothingBehind() throws {
        let directory = try Self.temporaryDirectory()
        let output = directory.appendingPathComponent("out.tflite").path
        for bad in ["bad/lambda_k3.h5", "bad/custom_layer.h5", "bad/truncated.h5"] {
            try Self.expectOneLineError(["convert", Fixtures.sample(bad), "-o", output], mentioning: [bad])
        }
        try Self.expectOneLineError(["convert", Fixtures.sample("digits_mlp_k2.h5"), "-o", "/nonexistent-dir/x.tflite"],
                                    mentioning: ["/nonexistent-dir/x.tflite"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        let badBatch = try Self.run(["convert", Fixtures.sample("digits_mlp_k2.h5"), "-o", output, "--batch", "-3"])
        #expect(badBatch.status == 64)
    }

    /// `convert --input-shape NAME=D1,…`: sizes after the batch; malformed values are usage errors (64),
    /// sizes that do not fit the model's input are bad input naming the file (2).
    @Test func convertInputShape() throws {
        let directory = try Self.temporaryDirectory()
        let output = directory.appendingPathComponent("out.tflite").path
        let model = Fixtures.sample("digits_mlp_k2.h5")
        let fits = try Self.run(["convert", model, "-o", output, "--input-shape", "dense_input=64", "--quiet"])
        #expect(fits.status == 0, "\(fits.stderr)")
        try Self.expectOneLineError(["convert", model, "-o", output, "--input-shape", "pixels=64"],
                                    mentioning: [model, "no input 'pixels' (its inputs: dense_input [?,64])"])
        try Self.expectOneLineError(["convert", model, "-o", output, "--input-shape", "dense_input=8,8"],
                                    mentioning: [model, "1 dimensions after the batch, 2 given"])
        try Self.expectOneLineError(["convert", model, "-o", output, "--input-shape", "dense_input=32"],
                                    mentioning: [model, "fixes dimension 1 at 64, not 32"])
        for bad in ["dense_input=0", "dense_input=-2", "dense_input", "=64", "dense_input=8,,8"] {
            let result = try Self.run(["convert", model, "-o", output, "--input-shape", bad])
            #expect(result.status == 64 && result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("--input-shape"),
                    "\(bad): \(result.status) \(result.stderr)")
        }
        let twice = try Self.run(["convert", model, "-o", output, "--input-shape", "dense_input=64", "--input-shape", "dense_input=64"])
        #expect(twice.status == 64 && twice.stderr.contains("twice"))
    }

    @Test func inspectReadsTFLiteAndRejectsDamagedOnes() throws {
        let directory = try Self.temporaryDirectory()
        let output = directory.appendingPathComponent("digits.tflite").path
        _ = try Self.run(["convert", Fixtures.sample("digits_cnn_k2.h5"), "-o", output, "--quiet"])
        let result = try Self.run(["inspect", output, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in ["format", "size_bytes", "params", "operators", "tensors", "op_counts"] { #expect(object[key] != nil, "missing \(key)") }
        #expect(object["format"] as? String == "tflite")
        #expect((object["op_counts"] as? [String: Int])?["CONV_2D"] == 2)
        #expect(try Self.run(["inspect", output]).stdout.contains("CONV_2D"))
        #expect(try Self.run(["sparsity", output, "--json"]).status == 0)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        let truncated = directory.appendingPathComponent("truncated.tflite")
        try bytes.prefix(bytes.count / 3).write(to: truncated)
        try Self.expectOneLineError(["inspect", truncated.path], mentioning: [truncated.path])
        var corrupt = bytes
        corrupt.replaceSubrange(0..<4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        let corruptPath = directory.appendingPathComponent("corrupt.tflite")
        try corrupt.write(to: corruptPath)
        try Self.expectOneLineError(["inspect", corruptPath.path], mentioning: [corruptPath.path])
    }

    /// `run` on a .tflite (a fixed batch of 1: one sample at a time) and `verify` of a Keras file
    /// against its conversion; bad input is one line and exit 2.
    @Test func runTFLiteAndVerify() throws {
        let directory = try Self.temporaryDirectory()
        let keras = Fixtures.sample("digits_cnn_k3.keras"), inputs = Fixtures.sample("digits_cnn_k3.inputs.npy")
        let tflite = directory.appendingPathComponent("digits.tflite").path
        #expect(try Self.run(["convert", keras, "-o", tflite, "--quiet"]).status == 0)
        let ran = try Self.run(["run", tflite, "--input", inputs, "-o", directory.appendingPathComponent("y.npy").path])
        #expect(ran.status == 0 && ran.stdout.contains("on 4 samples (batches of 1): dense_1 [4,10]"), "\(ran.stdout)\(ran.stderr)")
        let verified = try Self.run(["verify", keras, tflite, "--input", inputs, "--tolerance", "1e-5"])
        #expect(verified.status == 0 && verified.stdout.contains("100.00% (4/4)") && verified.stdout.contains("ok: max |A-B|"),
                "\(verified.stdout)\(verified.stderr)")
        try Self.expectOneLineError(["verify", keras, tflite, "--input", "/nonexistent/x.npy"], mentioning: ["/nonexistent/x.npy"])
        try Self.expectOneLineError(["run", tflite, "--input", Fixtures.sample("multi_io_k3.inputs.npz")],
                                    mentioning: ["multi_io_k3.inputs.npz"])
    }
}
