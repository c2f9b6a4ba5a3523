import Files
import Foundation
import HDF5
import JSON
import ZIPFoundation

/// Writes a Keras model file back with some weights' values replaced — how `keraslite prune` saves
/// a model that Keras 3 and Keras 2 (tf_keras) load and fine-tune as usual.
///
/// The output is the input's container and dialect with the same config, layer and weight names;
/// only the replaced datasets' values change (written through libhdf5 in their stored float type,
/// layout and filters). A compiled model's optimizer state is dropped, because its moments belong
/// to the weights before replacement: legacy HDF5 files lose `optimizer_weights`, Keras 3 weights
/// files (`model.weights.h5` inside `.keras`) their `optimizer` group, and Keras recompiles the
/// model from its saved training config with a fresh optimizer. `.h5` input is copied byte for
/// byte and modified in the copy (or, to drop an optimizer, rebuilt object by object, since HDF5
/// does not reclaim the space of deleted objects); `.keras` input gets a new zip with every other
/// entry copied unchanged, in order. The output is written atomically and the input is never
/// opened for writing.
public enum KerasWeightWriter {
    /// What `write` did.
    public struct Summary: Sendable, Equatable {
        /// How many weight datasets got new values.
        public var replaced: Int
        /// What else changed, one sentence each (the dropped optimizer state).
        public var notes: [String]

        public init(replaced: Int, notes: [String]) {
            self.replaced = replaced
            self.notes = notes
        }
    }

    /// Writes `model`'s file to `output` with the weights whose `storagePath` is a key of
    /// `replacements` holding the new values (same element count), everything else preserved.
    ///
    /// Throws `KerasError.replacement` for a key no weight is stored at, a wrong element count or
    /// a non-float weight, and `KerasError.unwritable` when `output` is the input file, has an
    /// extension Keras would not load this format from (`.keras` for a zip archive, `.h5`/`.hdf5`
    /// for HDF5), or cannot be written; nothing is left behind on failure.
    public static func write(_ model: KerasModel, to output: String, replacing replacements: [String: [Float]]) throws -> Summary {
        try write(model, to: output, replacing: replacements, resizing: [:], config: nil)
    }

    /// A weight's new shape and values (a channel-pruned kernel).
    public struct Resized: Sendable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `model`'s file to `output` with weights replaced (same shapes), weights `resizing`
    /// (new shapes) and, when given, a new model `config` (the `model_config` attribute of an `.h5`,
    /// `config.json` of a `.keras`). Resized weights and a new config rebuild the HDF5 file object by
    /// object, so the old datasets' space is not carried over, and drop the optimizer state.
    public static func write(_ model: KerasModel, to output: String, replacing replacements: [String: [Float]],
                             resizing: [String: Resized], config: JSON?) throws -> Summary {
        try check(replacements, against: model)
        try check(resizing, against: model)
        try check(output: output, for: model)
        let rebuild = Rebuild(resized: resizing, config: config.map { $0.serialized(pretty: false) })
        var dropped = 0
        do {
            try AtomicFile.write(to: output) { temporary, scratch in
                let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
                guard FileManager.default.isWritableFile(atPath: directory) else {
                    throw KerasError.unwritable(file: output, reason: "permission denied in \(directory)")
                }
                switch model.format {
                case .kerasH5:
                    dropped = try rewriteHDF5(source: model.path, destination: temporary, replacements: replacements,
                                              rebuild: rebuild, rootConfig: true, sourceName: model.path, output: output)
                case .kerasZip:
                    dropped = try rewriteZip(model, to: temporary, scratch: scratch, replacements: replacements, rebuild: rebuild, output: output)
                }
            }
        } catch FileError.cannotWrite(let file, let reason) {
            throw KerasError.unwritable(file: file, reason: reason)
        }
        var notes: [String] = []
        if dropped > 0 {
            notes.append("dropped the optimizer state (\(dropped) datasets), which belonged to the weights before; "
                + "Keras recompiles the model from its saved training config on loading and the optimizer starts afresh")
        }
        return Summary(replaced: replacements.count + resizing.count, notes: notes)
    }

    /// What a rebuild changes beyond values: resized datasets by storage path, the config text.
    struct Rebuild {
        var resized: [String: Resized]
        var config: String?
        var isNeeded: Bool { !resized.isEmpty || config != nil }
    }

    private static func check(_ resizing: [String: Resized], against model: KerasModel) throws {
        var weights: [String: KerasWeight] = [:]
        for weight in model.weights where weights[weight.storagePath] == nil { weights[weight.storagePath] = weight }
        for (path, resized) in resizing.sorted(by: { $0.key < $1.key }) {
            guard let weight = weights[path] else {
                throw KerasError.replacement(file: model.path, weight: path, reason: "no weight of the model is stored there")
            }
            guard resized.shape.count == weight.shape.count, resized.values.count == resized.shape.reduce(1, *) else {
                throw KerasError.replacement(file: model.path, weight: weight.name,
                                             reason: "\(resized.values.count) values of shape \(resized.shape) for a weight of shape \(weight.shape)")
            }
            guard weight.storedType.hasPrefix("float") else {
                throw KerasError.replacement(file: model.path, weight: weight.name,
                                             reason: "stored as \(weight.storedType); only float weights can be replaced")
            }
        }
    }

    // MARK: checks

    private static func check(_ replacements: [String: [Float]], against model: KerasModel) throws {
        var weights: [String: KerasWeight] = [:]
        for weight in model.weights where weights[weight.storagePath] == nil { weights[weight.storagePath] = weight }
        for (path, values) in replacements.sorted(by: { $0.key < $1.key }) {
            guard let weight = weights[path] else {
                throw KerasError.replacement(file: model.path, weight: path, reason: "no weight of the model is stored there")
            }
            guard values.count == weight.elementCount else {
                throw KerasError.replacement(
                    file: model.path, weight: weight.name,
                    reason: "\(values.count) values given for \(weight.elementCount) (shape \(weight.shape), stored at \(path))")
            }
            guard weight.storedType.hasPrefix("float") else {
                throw KerasError.replacement(file: model.path, weight: weight.name,
                                             reason: "stored as \(weight.storedType); only float weights can be replaced")
            }
        }
    }

    private static func check(output: String, for model: KerasModel) throws {
        if isSameFile(output, model.path) {
            throw KerasError.unwritable(file: output, reason: "is the input file; write to a new file")
        }
        // Keras picks the reader by extension: a zip archive must end in .keras, HDF5 in .h5/.hdf5.
        let name = URL(fileURLWithPath: output).lastPathComponent
        switch model.format {
        case .kerasZip where !name.hasSuffix(".keras"):
            throw KerasError.unwritable(file: output, reason: "a .keras model must be written to a file ending in .keras")
        case .kerasH5 where !name.hasSuffix(".h5") && !name.hasSuffix(".hdf5"):
            throw KerasError.unwritable(file: output, reason: "an HDF5 model must be written to a file ending in .h5 or .hdf5")
        default: break
        }
    }

    /// True when both paths name the same existing file (same device and inode: symlinks and hard
    /// links included).
    private static func isSameFile(_ first: String, _ second: String) -> Bool {
        var a = stat()
        var b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    // MARK: HDF5

    /// Writes the HDF5 file `source` with the replacements to the new file `destination`; returns
    /// how many optimizer datasets were left out. `sourceName` and `output` name the files in errors.
    private static func rewriteHDF5(source: String, destination: String, replacements: [String: [Float]], rebuild: Rebuild,
                                    rootConfig: Bool, sourceName: String, output: String) throws -> Int {
        do {
            return try rewriteHDF5(source: source, destination: destination, replacements: replacements, rebuild: rebuild,
                                   rootConfig: rootConfig, output: output)
        } catch let error as HDF5Error {
            if error.path.hasPrefix(destination) {
                let object = error.path.dropFirst(destination.count + 1)
                throw KerasError.unwritable(file: output, reason: "HDF5 \(error.call) failed at \(object)"
                    + (error.detail.isEmpty ? "" : " (\(error.detail))"))
            }
            throw KerasError.hdf5(file: sourceName, underlying: error)
        }
    }

    private static func rewriteHDF5(source: String, destination: String, replacements: [String: [Float]], rebuild: Rebuild,
                                    rootConfig: Bool, output: String) throws -> Int {
        // Handles are locals, so every file is closed when this function returns.
        let input = try HDF5File(path: source)
        let inputRoot = try input.root()
        if rebuild.isNeeded {
            let optimizer = optimizerLink(in: inputRoot)
            let dropped = try optimizer.map { try datasetCount(in: try inputRoot.group($0)) } ?? 0
            let file = try HDF5File.create(path: destination, like: input)
            let root = try file.root()
            try copy(inputRoot, to: root, path: "", skipping: optimizer, resized: rebuild.resized)
            if rootConfig, let config = rebuild.config { try root.writeStringAttribute("model_config", config) }
            try write(replacements, into: root)
            try file.flush()
            return dropped
        }
        guard let optimizer = optimizerLink(in: inputRoot) else {
            try copyBytes(from: source, to: destination, output: output)
            let file = try HDF5File(path: destination, access: .readWrite)
            try write(replacements, into: try file.root())
            try file.flush()
            return 0
        }
        let dropped = try datasetCount(in: try inputRoot.group(optimizer))
        let file = try HDF5File.create(path: destination, like: input)
        let root = try file.root()
        for name in try inputRoot.childNamesInCreationOrder() where name != optimizer {
            try inputRoot.copy(name, to: root)
        }
        try inputRoot.copyAttributes(to: root)
        try write(replacements, into: root)
        try file.flush()
        return dropped
    }

    /// Recreates `source` below `destination` object by object: datasets at a `resized` path are
    /// created anew with their new shape and values, groups above them recreated, everything else
    /// copied whole (`H5Ocopy`); attributes copied; the root's `skipping` child left out.
    private static func copy(_ source: HDF5Group, to destination: HDF5Group, path: String, skipping: String?,
                             resized: [String: Resized]) throws {
        try source.copyAttributes(to: destination)
        for name in try source.childNamesInCreationOrder() where !(path.isEmpty && name == skipping) {
            let child = path + "/" + name
            if let replacement = resized[child] {
                try destination.createDataset(name, like: try source.dataset(name), shape: replacement.shape, values: replacement.values)
            } else if resized.keys.contains(where: { $0.hasPrefix(child + "/") }), try source.objectKind(name) == .group {
                let group = try source.group(name)
                try copy(group, to: try destination.createGroup(name, like: group), path: child, skipping: nil, resized: resized)
            } else {
                try source.copy(name, to: destination)
            }
        }
    }

    /// The root link holding a compiled model's optimizer state: `optimizer_weights` beside
    /// `model_weights` (legacy HDF5 from Keras 2 and 3), `optimizer` beside `layers` (Keras 3
    /// weights files).
    private static func optimizerLink(in root: HDF5Group) -> String? {
        if root.contains("model_weights") && root.contains("optimizer_weights") { return "optimizer_weights" }
        if root.contains("layers") && !root.hasAttribute("layer_names") && root.contains("optimizer") { return "optimizer" }
        return nil
    }

    /// Datasets below `group`; each group is looked at once (at most 100,000 of them, `maximumDepth`
    /// levels deep), so a group linked into itself cannot make the count endless.
    private static func datasetCount(in group: HDF5Group) throws -> Int {
        var count = 0
        var seen = Set<UInt64>()
        var pending: [(group: HDF5Group, depth: Int)] = [(group, 0)]
        while let (current, depth) = pending.popLast(), seen.count < 100_000 {
            guard seen.insert(current.address).inserted else { continue }
            for name in try current.childNames() {
                switch try current.objectKind(name) {
                case .dataset: count += 1
                case .group where depth < KerasV3WeightStore.maximumDepth: pending.append((try current.group(name), depth + 1))
                default: break
                }
            }
        }
        return count
    }

    private static func write(_ replacements: [String: [Float]], into root: HDF5Group) throws {
        for (path, values) in replacements.sorted(by: { $0.key < $1.key }) {
            try root.dataset(String(path.drop { $0 == "/" })).write(values)
        }
    }

    private static func copyBytes(from source: String, to destination: String, output: String) throws {
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw KerasError.unreadable(file: source, reason: "cannot open")
        }
        defer { try? input.close() }
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard descriptor >= 0 else {
            throw KerasError.unwritable(file: output, reason: "cannot create a file beside it: \(String(cString: strerror(errno)))")
        }
        let copy = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try copy.write(contentsOf: chunk)
            }
        } catch {
            throw KerasError.unwritable(file: output, reason: "\(error.localizedDescription)")
        }
    }

    // MARK: .keras zip

    private static let weightsEntry = "model.weights.h5"
    private static let configEntry = "config.json"

    private static func rewriteZip(_ model: KerasModel, to temporary: String, scratch: (String) -> String,
                                   replacements: [String: [Float]], rebuild: Rebuild, output: String) throws -> Int {
        let source: Archive
        do {
            source = try Archive(url: URL(fileURLWithPath: model.path), accessMode: .read)
        } catch {
            throw KerasError.notAKerasFile(file: model.path, reason: "damaged zip archive")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: temporary), accessMode: .create)
        } catch {
            throw KerasError.unwritable(file: output, reason: "cannot create a zip archive beside it (\(error))")
        }
        var dropped = 0
        for entry in source {
            let attributes = entry.fileAttributes
            let permissions = (attributes[.posixPermissions] as? UInt16) ?? (attributes[.posixPermissions] as? NSNumber)?.uint16Value
            let compression: CompressionMethod = entry.isCompressed ? .deflate : .none
            if entry.path == weightsEntry && entry.type == .file {
                let extracted = scratch(".source.weights.h5")
                let rewritten = scratch(".weights.h5")
                do {
                    _ = try source.extract(entry, to: URL(fileURLWithPath: extracted), skipCRC32: false)
                } catch {
                    throw KerasError.notAKerasFile(file: model.path, reason: "cannot extract \(weightsEntry) (\(error))")
                }
                dropped = try rewriteHDF5(source: extracted, destination: rewritten, replacements: replacements, rebuild: rebuild,
                                          rootConfig: false, sourceName: model.path + "!" + weightsEntry, output: output)
                try add(file: rewritten, as: entry.path, permissions: permissions, compression: compression, to: archive, output: output)
            } else {
                var data = Data()
                do {
                    _ = try source.extract(entry, skipCRC32: false) { data.append($0) }
                } catch {
                    throw KerasError.notAKerasFile(file: model.path, reason: "cannot extract \(entry.path) (\(error))")
                }
                if entry.path == configEntry, let config = rebuild.config { data = Data(config.utf8) }
                let contents = data
                do {
                    try archive.addEntry(with: entry.path, type: entry.type, uncompressedSize: Int64(contents.count),
                                         modificationDate: attributes[.modificationDate] as? Date ?? Date(),
                                         permissions: permissions, compressionMethod: compression) { position, size in
                        contents.subdata(in: Int(position)..<Int(position) + size)
                    }
                } catch {
                    throw KerasError.unwritable(file: output, reason: "cannot add \(entry.path) to the archive (\(error))")
                }
            }
        }
        return dropped
    }

    private static func add(file: String, as name: String, permissions: UInt16?, compression: CompressionMethod,
                            to archive: Archive, output: String) throws {
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            defer { try? handle.close() }
            try archive.addEntry(with: name, type: .file, uncompressedSize: size, modificationDate: Date(),
                                 permissions: permissions, compressionMethod: compression) { position, chunk in
                try handle.seek(toOffset: UInt64(position))
                return try handle.read(upToCount: chunk) ?? Data()
            }
        } catch {
            throw KerasError.unwritable(file: output, reason: "cannot add \(name) to the archive (\(error))")
        }
    }
}
