import Foundation
import HDF5
import TestSupport
import Testing

/// The HDF5 wrapper on a file written by h5py 2.x / Keras 2.0.5 in 2017. Expected values are what
/// h5py 3.14 reports for the same objects.
@Suite struct HDF5Tests {
    let file: HDF5File

    init() throws { file = try HDF5File(path: Fixtures.realworld) }

    @Test func readsVariableAndFixedLengthStringAttributes() throws {
        let root = try file.root()
        #expect(try root.attribute("keras_version").readString() == "2.0.5")
        #expect(try root.attribute("backend").readString() == "tensorflow")
        #expect(try root.attribute("model_config").readString().hasPrefix(#"{"class_name": "Model""#))
        let names = try root.group("model_weights").attribute("layer_names").readStrings()
        #expect(names.count == 46)
        #expect(Array(names.prefix(3)) == ["input_1", "conv2d_1", "batch_normalization_1"])
        // 26 bytes wide, and this name is exactly 26 characters: no byte may be lost to a terminator.
        #expect(names.suffix(3) == ["conv2d_7", "global_average_pooling2d_1", "predictions"])
    }

    @Test func emptyNumericArrayAttributeIsAnEmptyStringList() throws {
        let group = try file.root().group("model_weights/activation_1")
        #expect(try group.attribute("weight_names").readStrings().isEmpty)
    }

    @Test func chunkedAttributeLookup() throws {
        let group = try file.root().group("model_weights/batch_normalization_1")
        #expect(try group.chunkedStringsAttribute("weight_names") == [
            "batch_normalization_1_1/gamma:0", "batch_normalization_1_1/beta:0",
            "batch_normalization_1_1/moving_mean:0", "batch_normalization_1_1/moving_variance:0",
        ])
        #expect(try group.chunkedStringsAttribute("no_such_attribute") == nil)
    }

    @Test func readsDatasetHeaderAndValues() throws {
        let dataset = try file.root().dataset("model_weights/conv2d_1/conv2d_1_1/kernel:0")
        #expect(try dataset.shape() == [3, 3, 1, 8])
        #expect(try dataset.elementType() == .float(bits: 32))
        #expect(dataset.storageSize() == 72 * 4)
        let values = try dataset.readFloats()
        #expect(values.count == 72)
        #expect(abs(values[1] - 3.5101954e-02) < 1e-9)
        #expect(abs(values.reduce(0.0) { $0 + Double($1) } - 0.032014948315918446) < 1e-6)
    }

    @Test func groupsListChildrenAndTellKinds() throws {
        let root = try file.root()
        #expect(try root.childNames().contains("model_weights"))
        #expect(root.contains("model_weights/conv2d_1/conv2d_1_1/kernel:0"))
        #expect(!root.contains("model_weights/nope/kernel:0"))
        #expect(try root.objectKind("model_weights") == .group)
        #expect(try root.objectKind("model_weights/conv2d_1/conv2d_1_1/kernel:0") == .dataset)
    }

    @Test func failuresNameTheCallAndThePath() throws {
        let root = try file.root()
        do {
            _ = try root.dataset("model_weights/conv2d_1/missing:0")
            Issue.record("opened a missing dataset")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Dopen2")
            #expect(error.path.hasSuffix("/model_weights/conv2d_1/missing:0"))
            #expect(error.path.hasPrefix(Fixtures.realworld))
        }
        do {
            _ = try root.attribute("missing")
            Issue.record("opened a missing attribute")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Aopen")
        }
        // A group is not a dataset.
        #expect(throws: HDF5Error.self) { try root.group("model_weights").dataset("conv2d_1").readFloats() }
    }

    @Test func openingSomethingElseFails() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-\(UUID().uuidString).h5")
        try Data("plain text".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(!HDF5File.hasSignature(path: url.path))
        #expect(HDF5File.hasSignature(path: Fixtures.realworld))
        do {
            _ = try HDF5File(path: url.path)
            Issue.record("opened a text file as HDF5")
        } catch let error as HDF5Error {
            #expect(error.call == "H5Fopen")
            #expect(error.path == url.path)
        }
    }
}
