import Foundation
import Kernels
import NumPy
import Testing

/// The one sample loader: files, directories and the matching of arrays to input names.
struct SampleFilesTests {
    @Test func directoriesAreReadInNameOrderAndArraysMatchByNameOrPosition() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-samples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = try TensorValue(shape: [1, 2], values: [1, 2]), b = try TensorValue(shape: [1, 3], values: [3, 4, 5])
        try Data(try NPZ.encode([("x", a), ("arr_1", b)])).write(to: directory.appendingPathComponent("b.npz"))
        try Data(NPY.encode(a)).write(to: directory.appendingPathComponent("a.npy"))
        try Data("ignored".utf8).write(to: directory.appendingPathComponent("notes.txt"))

        let files = try SampleFiles.paths(directory.path)
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["a.npy", "b.npz"])
        #expect(try SampleFiles.read(files[0], inputNames: ["only"]).map(\.tensor) == [a])
        #expect(try SampleFiles.read(files[1], inputNames: ["x", "y"]).map(\.tensor) == [a, b])
        #expect(try SampleFiles.read(files[1], inputNames: ["z", "y"], alternativeNames: ["x", nil]).map(\.tensor) == [a, b])
        #expect(throws: NPYError.self) { try SampleFiles.read(files[0], inputNames: ["x", "y"]) }
        #expect(throws: NPYError.samples(file: "/nonexistent", problem: "no such file or directory")) {
            try SampleFiles.paths("/nonexistent")
        }
    }
}
