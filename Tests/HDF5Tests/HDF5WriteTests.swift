import Foundation
import HDF5
import TestSupport
import Testing

/// Writing: datasets overwritten in a file opened read-write, objects and attributes copied into a
/// new file. Every test works on copies in a private temporary directory.
@Suite struct HDF5WriteTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-hdf5-write-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func copyOf(_ path: String) throws -> String {
        let copy = directory.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        return copy
    }

    @Test func writesFloatsIntoAnExistingDataset() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try copyOf(Fixtures.realworld)
        let name = "model_weights/conv2d_1/conv2d_1_1/kernel:0"
        let original = try HDF5File(path: Fixtures.realworld).root().dataset(name).readFloats()
        let replaced = original.enumerated().map { $0.offset.isMultiple(of: 2) ? 0 : $0.element }
        do {
            let file = try HDF5File(path: path, access: .readWrite)
            try file.root().dataset(name).write(replaced)
            try file.flush()
        }
        let dataset = try HDF5File(path: path).root().dataset(name)
        #expect(try dataset.readFloats() == replaced)
        #expect(try dataset.elementType() == .float(bits: 32))
        #expect(try dataset.shape() == [3, 3, 1, 8])
        // The neighbouring dataset is untouched.
        let beta = "model_weights/batch_normalization_1/batch_normalization_1_1/beta:0"
        #expect(try HDF5File(path: path).root().dataset(beta).readFloats()
            == HDF5File(path: Fixtures.realworld).root().dataset(beta).readFloats())
    }

    /// h5py 3.14, libver latest: `half` float16 [2, 3] = 0…5, `double` float64 [3], `chunked` float32
    /// [8] in gzip-compressed chunks of 4, `int` int64 [3].
    static let storedTypes = [
        "iUhERg0KGgoDCAgAAAAAAAAAAAD//////////2MIAAAAAAAAMAAAAAAAAAAbgPemT0hEUgIgeBcMa3gXDGt4FwxreBcMa3gC",
        "EgAAAAD/////////////////////CgIAAQAABg8AAAEABGhhbGbDAAAAAAAAAAYRAAABAAZkb3VibGXPAQAAAAAAAAYSAAAB",
        "AAdjaHVua2Vk2wIAAAAAAAAGDgAAAQADaW50MQQAAAAAAAAACAAAAAAAAAAAAAC8BRi4T0hEUgIBAAEBJAAAAgIBAQIAAAAA",
        "AAAAAwAAAAAAAAACAAAAAAAAAAMAAAAAAAAAAxQAAREgDwACAAAAAAAQAAoFAAoPAAAABQIAAQMKCBIAAAQBAAgAAAAAAAAM",
        "AAAAAAAAAACgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALuUaik9IRFICAQABARQAAAIBAQEDAAAAAAAAAAMAAAAAAAAAAxQAAREgPwAI",
        "AAAAAABAADQLADT/AwAABQIAAQMKCBIAAAQBDAgAAAAAAAAYAAAAAAAAAACwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAKSbMPtPSERSAgEAAQEUAAACAQEBCAAAAAAAAAAIAAAAAAAAAAMUAAERIB8ABAAAAAAAIAAXCAAXfwAAAAUCAAED",
        "CwsMAAECAQEAAQABAAQAAAAIEQAABAIAAgEEBAMK5wMAAAAAAAAAoQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC7DzW7RkFIRAABDgoC",
        "AAAAAAAAAAMEAAAAAAAA/ZnFg0ZBREIAAecDAAAAAAAAJAgAAAAAAAASAAAAAAA2CAAAAAAAABUAAAAAAJi0JUJPSERSAgEA",
        "AQEUAAACAQEBAwAAAAAAAAADAAAAAAAAAAMMAAEQCAAACAAAAAAAQAAFAgABAwoIEgAABAFLCAAAAAAAABgAAAAAAAAAALgA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAevJSZAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8AEAAQgBEAEUAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAEB4XmNg",
        "AIEGeyDhAEQOAAlHAYB4XmNgaHBgYFgAxAeA+IEDABqQA8EAAAAAAAAAAAEAAAAAAAAAAgAAAAAAAAA="
    ].joined()

    @Test func writeConvertsToTheStoredFloatType() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("types.h5").path
        try Data(base64Encoded: Self.storedTypes)!.write(to: URL(fileURLWithPath: path))
        do {
            let root = try HDF5File(path: path, access: .readWrite).root()
            try root.dataset("half").write([0, 1.0001, 0.1, 65504, 1e-8, -2.5])
            try root.dataset("double").write([0.1, 2, -3])
            try root.dataset("chunked").write([0, 1, 0, 3, 0, 5, 0, 7])
            #expect(throws: HDF5Error.self) { try root.dataset("int").write([0, 0, 0]) }
        }
        let root = try HDF5File(path: path).root()
        // Rounded to the nearest float16 as numpy rounds (1e-8 is below the smallest subnormal).
        #expect(try root.dataset("half").readFloats() == [0, 1, 0.0999755859375, 65504, 0, -2.5])
        #expect(try root.dataset("half").elementType() == .float(bits: 16))
        #expect(try root.dataset("double").elementType() == .float(bits: 64))
        #expect(try root.dataset("double").readFloats() == [0.1, 2, -3])
        #expect(try root.dataset("chunked").readFloats() == [0, 1, 0, 3, 0, 5, 0, 7])
        #expect(try root.dataset("int").readFloats() == [0, 1, 2])
    }

    @Test func writeChecksCountTypeAndAccess() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try copyOf(Fixtures.realworld)
        let name = "model_weights/batch_normalization_1/batch_normalization_1_1/beta:0"
        do {
            try HDF5File(path: path).root().dataset(name).write([Float](repeating: 0, count: 8))
            Issue.record("wrote into a file opened read-only")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Dwrite")
            #expect(error.path == "\(path):/\(name)")
        }
        let writable = try HDF5File(path: path, access: .readWrite)
        #expect(throws: HDF5Error.self) { try writable.root().dataset(name).write([1, 2, 3]) }
        #expect(try HDF5File(path: path).root().dataset(name).readFloats()
            == HDF5File(path: Fixtures.realworld).root().dataset(name).readFloats())
    }

    @Test func createRefusesAnExistingFile() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try copyOf(Fixtures.sample("digits_mlp_k2.h5"))
        do {
            _ = try HDF5File.create(path: path)
            Issue.record("created over an existing file")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Fcreate")
        }
        #expect(try HDF5File(path: path).root().hasAttribute("model_config"))
    }

    /// Fixed-length strings (h5py 2.x, the 2017 file) and variable-length ones (h5py 3, the sample).
    @Test(arguments: [Fixtures.realworld, Fixtures.sample("digits_cnn_k3_compiled.h5")])
    func copiesObjectsAndRootAttributesIntoANewFile(source: String) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("copy.h5").path
        let input = try HDF5File(path: source)
        let inputRoot = try input.root()
        do {
            let output = try HDF5File.create(path: path, like: input)
            let outputRoot = try output.root()
            for name in try inputRoot.childNamesInCreationOrder() where name != "optimizer_weights" {
                try inputRoot.copy(name, to: outputRoot)
            }
            try inputRoot.copyAttributes(to: outputRoot)
            try output.flush()
        }
        let copyRoot = try HDF5File(path: path).root()
        #expect(try copyRoot.childNames() == inputRoot.childNames().filter { $0 != "optimizer_weights" })
        #expect(try copyRoot.attributeNames() == inputRoot.attributeNames())
        for name in try inputRoot.attributeNames() {
            #expect(try copyRoot.attribute(name).readStrings() == inputRoot.attribute(name).readStrings())
        }
        let weights = try inputRoot.group("model_weights")
        #expect(try copyRoot.group("model_weights").attribute("layer_names").readStrings()
            == weights.attribute("layer_names").readStrings())
        let layer = try weights.childNames().first { try weights.group($0).attribute("weight_names").elementCount() > 0 }!
        for weightName in try weights.group(layer).attribute("weight_names").readStrings() {
            let original = try weights.group(layer).dataset(weightName)
            let copied = try copyRoot.group("model_weights/\(layer)").dataset(weightName)
            #expect(try copied.readFloats() == original.readFloats())
            #expect(try copied.elementType() == original.elementType())
            #expect(copied.storageSize() == original.storageSize())
        }
    }

    @Test func copyFailuresNameBothEnds() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try HDF5File.create(path: directory.appendingPathComponent("empty.h5").path)
        do {
            try HDF5File(path: Fixtures.realworld).root().copy("no_such_group", to: try output.root())
            Issue.record("copied a missing object")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Ocopy")
            #expect(error.path.contains("/no_such_group -> "))
        }
    }
}
