import Foundation
import Kernels
import NumPy
import TestSupport
import Testing

/// NPY and NPZ encode, decode and round-trip.
struct NPYTests {
    @Test func npyRoundTripAndOtherDTypes() throws {
        let value = try TensorValue(shape: [2, 3], values: [1, -2.5, 3, 0, .infinity, 1e-30])
        let bytes = NPY.encode(value)
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect((bytes.count - value.count * 4) % 64 == 0, "header padded to 64 bytes")
        let decoded = try NPY.decode(Data(bytes))
        #expect(decoded.dtype == "<f4" && decoded.tensor == value)
        #expect(try NPY.decode(Data(NPY.encode(try TensorValue(shape: [], values: [7])))).shape == [])

        func file(_ descr: String, _ shape: String, _ payload: [UInt8], fortran: Bool = false) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
            header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
            return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + payload)
        }
        // float64 2.5 and −1 (little endian), uint8 255, big-endian int16 −2, float16 1.5 (0x3E00), bool.
        let f8 = try NPY.decode(file("<f8", "(2,)", [0, 0, 0, 0, 0, 0, 4, 64, 0, 0, 0, 0, 0, 0, 240, 191]))
        #expect(f8.values == [2.5, -1] && f8.shape == [2])
        #expect(try NPY.decode(file("|u1", "(1, 1)", [255])).values == [255])
        #expect(try NPY.decode(file(">i2", "(1,)", [0xFF, 0xFE])).values == [-2])
        #expect(try NPY.decode(file("<f2", "(1,)", [0x00, 0x3E])).values == [1.5])
        #expect(try NPY.decode(file("|b1", "(2,)", [1, 0])).values == [1, 0])
        #expect(throws: NPYError.fortranOrder) { try NPY.decode(file("<f4", "(1, 2)", [UInt8](repeating: 0, count: 8), fortran: true)) }
        #expect(throws: NPYError.truncated(expected: 8, actual: 4)) { try NPY.decode(file("<f4", "(2,)", [0, 0, 0, 0])) }
        #expect(throws: NPYError.unsupportedDType("<c8")) { try NPY.decode(file("<c8", "(1,)", [UInt8](repeating: 0, count: 8))) }
        #expect(throws: NPYError.self) { try NPY.decode(Data("not numpy".utf8)) }
    }

    @Test func npzRoundTrip() throws {
        let a = try TensorValue(shape: [1, 2], values: [1, 2]), b = try TensorValue(shape: [3], values: [4, 5, 6])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-\(UUID().uuidString).npz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(try NPZ.encode([("alpha", a), ("beta", b)])).write(to: URL(fileURLWithPath: path))
        let arrays = try NPZ.read(path: path)
        #expect(arrays.map(\.name) == ["alpha", "beta"])
        #expect(arrays[0].array.tensor == a && arrays[1].array.tensor == b)
        // numpy's own .npz (the committed multi-input samples).
        let inputs = try NPZ.read(path: Fixtures.sample("multi_io_k3.inputs.npz"))
        #expect(inputs.count == 2 && inputs.allSatisfy { $0.array.shape.first == 4 })
    }
}
