import Foundation
import TestSupport
import Testing

/// `convert` and `prune` under faults: killed (SIGKILL) at any moment or out of space (a file-size
/// limit, `ulimit -f`), they leave the input byte for byte as it was and never a partial output
/// under the destination name. (A SIGKILL can leave AtomicFile's hidden `.NAME.PID-….tmp` beside
/// the destination; nothing can remove it then, and nothing reads it.)
@Suite struct WriteFaultTests {
    static let binary = CLITests.binary

    static let commands: [(input: String, output: String, arguments: [String])] = [
        ("seed_mobilenetv2_k3.h5", "out.tflite", ["convert", "--quiet"]),
        ("small_resnet_k2.h5", "out.h5", ["prune", "--sparsity", "0.5"]),
        ("small_resnet_k3.keras", "out.keras", ["prune", "--sparsity", "0.5"]),
    ]

    static func digest(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs `arguments` through /bin/sh with `limit` applied first; returns status and stderr.
    static func shell(_ script: String) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = ["SWIFT_BACKTRACE": "enable=no", "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    @Test(arguments: 0..<commands.count) func outOfSpaceLeavesInputAndNoOutput(index: Int) throws {
        let (input, output, arguments) = Self.commands[index]
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent(input).path
        try FileManager.default.copyItem(atPath: Fixtures.sample(input), toPath: source)
        let before = try Self.digest(source)
        let destination = directory.appendingPathComponent(output).path
        // 64 blocks of 512 bytes: every one of these outputs is larger.
        let command = ([Self.binary, arguments[0], source, "-o", destination] + arguments.dropFirst()).map { "'\($0)'" }.joined(separator: " ")
        let result = try Self.shell("ulimit -f 64; exec \(command)")
        #expect(result.status == 2, "\(arguments): status \(result.status), \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try Self.digest(source) == before)
        #expect(!FileManager.default.fileExists(atPath: destination))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != input }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }

    @Test(arguments: 0..<commands.count) func killedLeavesInputAndNoPartialOutput(index: Int) throws {
        let (input, output, arguments) = Self.commands[index]
        let directory = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent(input).path
        try FileManager.default.copyItem(atPath: Fixtures.sample(input), toPath: source)
        let before = try Self.digest(source)
        let destination = directory.appendingPathComponent(output).path
        // The complete output, for comparison with whatever a killed run leaves.
        let reference = directory.appendingPathComponent("reference-" + output).path
        let complete = try CLITests.run([arguments[0], source, "-o", reference] + arguments.dropFirst())
        #expect(complete.status == 0, "\(complete.stderr)")
        for delay in [0.02, 0.1, 0.25, 0.5] {
            try? FileManager.default.removeItem(atPath: destination)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = [arguments[0], source, "-o", destination] + arguments.dropFirst()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(try Self.digest(source) == before, "input changed after a kill at \(delay) s")
            // Either nothing under the destination name, or the whole output (the run had finished).
            if FileManager.default.fileExists(atPath: destination), output.hasSuffix(".tflite") || output.hasSuffix(".h5") {
                #expect(try Self.digest(destination).count == (try Self.digest(reference)).count, "partial output after a kill at \(delay) s")
            }
        }
    }
}
