import Foundation
import GraphIR
import HDF5
import TestSupport
import Testing
@testable import Keras

/// Samples written back with half of every kernel zeroed, read back with `KerasFile.load`: the
/// replaced weights hold the new values, every other weight is bit-identical, the graph is equal.
/// Each test writes into its own temporary directory.
@Suite struct KerasWeightWriterTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func output(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Zeros in the first half of every kernel: what a pruner might write.
    static func halfZeroedKernels(of model: KerasModel) throws -> [String: [Float]] {
        var replacements: [String: [Float]] = [:]
        for weight in model.weights where weight.variable.hasSuffix("kernel") && weight.shape.count >= 2 {
            var values = try weight.data.values()
            for index in 0..<(values.count / 2) { values[index] = 0 }
            replacements[weight.storagePath] = values
        }
        return replacements
    }

    /// Loads `written` and checks it against `original`: same graph, replaced weights as given,
    /// every other weight bit for bit.
    func expectRewritten(_ written: String, from original: KerasModel, configPath: String? = nil,
                         replacements: [String: [Float]]) throws {
        let model = try KerasFile.load(path: written, configPath: configPath)
        #expect(model.format == original.format)
        #expect(model.kerasVersion == original.kerasVersion)
        #expect(model.graph.printed() == original.graph.printed())
        #expect(model.weights.map(\.storagePath) == original.weights.map(\.storagePath))
        for (before, after) in zip(original.weights, model.weights) {
            #expect(after.name == before.name)
            #expect(after.shape == before.shape)
            #expect(after.storedType == before.storedType)
            let values = try after.data.values()
            if let expected = replacements[before.storagePath] {
                #expect(values == expected, "\(before.storagePath) does not hold the replacement")
            } else {
                #expect(values.map(\.bitPattern) == (try before.data.values()).map(\.bitPattern), "\(before.storagePath) changed")
            }
        }
    }

    func rootAttributes(_ path: String) throws -> [String: [String]] {
        let root = try HDF5File(path: path).root()
        return try Dictionary(uniqueKeysWithValues: root.attributeNames().map { ($0, try root.attribute($0).readStrings()) })
    }

    @Test(arguments: ["digits_cnn_k2.h5", "multi_io_k2.h5", "multi_io_k3.h5", "small_vgg_k3.h5"])
    func rewritesAnH5Model(sample: String) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try KerasFile.load(path: Fixtures.sample(sample))
        let replacements = try Self.halfZeroedKernels(of: original)
        #expect(!replacements.isEmpty)
        let written = output("pruned.h5")
        let summary = try KerasWeightWriter.write(original, to: written, replacing: replacements)
        #expect(summary == KerasWeightWriter.Summary(replaced: replacements.count, notes: []))
        try expectRewritten(written, from: original, replacements: replacements)
        #expect(try rootAttributes(written) == rootAttributes(Fixtures.sample(sample)))
        // Written in place in a byte copy: the file keeps its size.
        let size = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue }
        #expect(try size(written) == size(Fixtures.sample(sample)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["pruned.h5"])
    }

    @Test func rewritesAWeightsOnlyFile() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = Fixtures.sample("digits_mlp_k2.json")
        let original = try KerasFile.load(path: Fixtures.sample("digits_mlp_k2.weights.h5"), configPath: config)
        #expect(original.weights.first?.storagePath == "/dense/dense/kernel:0")
        let replacements = try Self.halfZeroedKernels(of: original)
        let written = output("pruned.weights.h5")
        #expect(try KerasWeightWriter.write(original, to: written, replacing: replacements).replaced == 2)
        try expectRewritten(written, from: original, configPath: config, replacements: replacements)
    }

    @Test func compiledModelLosesOnlyItsOptimizerState() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = Fixtures.sample("digits_cnn_k3_compiled.h5")
        let original = try KerasFile.load(path: input)
        let replacements = try Self.halfZeroedKernels(of: original)
        let written = output("pruned.h5")
        let summary = try KerasWeightWriter.write(original, to: written, replacing: replacements)
        #expect(summary.replaced == 4)
        #expect(summary.notes.count == 1)
        #expect(summary.notes.first?.hasPrefix("dropped the optimizer state (22 datasets)") == true)
        try expectRewritten(written, from: original, replacements: replacements)

        let root = try HDF5File(path: written).root()
        #expect(try root.childNames() == ["model_weights"])
        let attributes = try rootAttributes(written)
        #expect(attributes == (try rootAttributes(input)))
        #expect(attributes.keys.sorted() == ["backend", "keras_version", "model_config", "training_config"])
        let weights = try root.group("model_weights")
        let originalWeights = try HDF5File(path: input).root().group("model_weights")
        #expect(try weights.childNames() == originalWeights.childNames())
        for name in try originalWeights.attributeNames() {
            #expect(try weights.attribute(name).readStrings() == originalWeights.attribute(name).readStrings())
        }
        // The space of the optimizer state is not carried over.
        let size = (try FileManager.default.attributesOfItem(atPath: written)[.size] as? NSNumber)?.intValue ?? .max
        #expect(size < 200_000)
    }

    @Test(arguments: ["multi_io_k3.keras", "digits_cnn_k3.keras"])
    func rewritesAKerasArchive(sample: String) throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = Fixtures.sample(sample)
        let original = try KerasFile.load(path: input)
        #expect(original.weights.allSatisfy { $0.storagePath.hasPrefix("/layers/") && $0.storagePath.contains("/vars/") })
        let replacements = try Self.halfZeroedKernels(of: original)
        let written = output("pruned.keras")
        let summary = try KerasWeightWriter.write(original, to: written, replacing: replacements)
        #expect(summary == KerasWeightWriter.Summary(replaced: replacements.count, notes: []))
        try expectRewritten(written, from: original, replacements: replacements)

        let before = try StoredZip(path: input)
        let after = try StoredZip(path: written)
        #expect(after.entries.map(\.name) == before.entries.map(\.name))
        #expect(after.entries.map(\.method) == before.entries.map(\.method))
        for (old, new) in zip(before.entries, after.entries) where old.name != "model.weights.h5" {
            #expect(new.data == old.data, "\(old.name) changed")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["pruned.keras"])
    }

    // MARK: errors

    func expectUnwritable(_ model: KerasModel, to path: String, reason: String) {
        do {
            _ = try KerasWeightWriter.write(model, to: path, replacing: [:])
            Issue.record("wrote \(path)")
        } catch let error as KerasError {
            guard case .unwritable(let file, let message) = error else { Issue.record("\(error)"); return }
            #expect(file == path)
            #expect(message.contains(reason), "\(message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func replacementsMustFitTheModel() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try KerasFile.load(path: Fixtures.sample("digits_cnn_k2.h5"))
        let kernel = "/model_weights/conv2d/conv2d/kernel:0"
        let cases: [([String: [Float]], String, String)] = [
            (["/model_weights/conv2d/conv2d/nope:0": [0]], "/model_weights/conv2d/conv2d/nope:0", "no weight of the model is stored there"),
            ([kernel: [0, 0, 0]], "conv2d/kernel", "3 values given for 144"),
        ]
        for (replacements, weight, reason) in cases {
            do {
                _ = try KerasWeightWriter.write(model, to: output("pruned.h5"), replacing: replacements)
                Issue.record("accepted \(replacements.keys)")
            } catch let error as KerasError {
                guard case .replacement(let file, let name, let message) = error else { Issue.record("\(error)"); continue }
                #expect(file == model.path)
                #expect(name == weight)
                #expect(message.contains(reason), "\(message)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func outputMustBeANewFileKerasCanLoad() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = output("model.h5")
        try FileManager.default.copyItem(atPath: Fixtures.sample("digits_mlp_k2.h5"), toPath: input)
        let inputBytes = try Data(contentsOf: URL(fileURLWithPath: input))
        let model = try KerasFile.load(path: input)
        expectUnwritable(model, to: input, reason: "is the input file")
        try FileManager.default.createSymbolicLink(atPath: output("link.h5"), withDestinationPath: input)
        expectUnwritable(model, to: output("link.h5"), reason: "is the input file")
        expectUnwritable(model, to: output("missing/pruned.h5"), reason: "does not exist")
        try FileManager.default.createDirectory(atPath: output("folder.h5"), withIntermediateDirectories: false)
        expectUnwritable(model, to: output("folder.h5"), reason: "is a directory")
        expectUnwritable(model, to: output("pruned.keras"), reason: "ending in .h5 or .hdf5")
        let archive = try KerasFile.load(path: Fixtures.sample("multi_io_k3.keras"))
        expectUnwritable(archive, to: output("pruned.h5"), reason: "ending in .keras")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == inputBytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["folder.h5", "link.h5", "model.h5"])
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = output("model.h5")
        try FileManager.default.copyItem(atPath: Fixtures.sample("digits_mlp_k2.h5"), toPath: input)
        let model = try KerasFile.load(path: input)
        let replacements = try Self.halfZeroedKernels(of: model)
        // The input is damaged after loading: the copy it is rewritten from is no longer HDF5.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(repeating: 0x2A, count: 4096))
        try handle.close()
        let existing = output("pruned.h5")
        try Data("previous output".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(throws: KerasError.self) { try KerasWeightWriter.write(model, to: existing, replacing: replacements) }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "previous output")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["model.h5", "pruned.h5"])
    }
}

/// The entries of a zip archive from its central directory, with the data of stored (uncompressed)
/// entries — enough to compare `.keras` archives, whose entries Keras stores uncompressed.
struct StoredZip {
    struct Entry { var name: String; var method: Int; var data: Data? }
    var entries: [Entry] = []

    init(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard let end = stride(from: bytes.count - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4B50 }) else {
            throw KerasError.notAKerasFile(file: path, reason: "no end of central directory")
        }
        var offset = u32(end + 16)
        for _ in 0..<u16(end + 10) {
            guard u32(offset) == 0x0201_4B50 else { throw KerasError.notAKerasFile(file: path, reason: "bad central directory") }
            let method = u16(offset + 10)
            let size = u32(offset + 20)
            let nameLength = u16(offset + 28)
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            let local = u32(offset + 42)
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            entries.append(Entry(name: name, method: method, data: method == 0 ? Data(bytes[start..<(start + size)]) : nil))
            offset += 46 + nameLength + u16(offset + 30) + u16(offset + 32)
        }
    }
}
