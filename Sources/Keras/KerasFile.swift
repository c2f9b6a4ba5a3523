import Foundation
import GraphIR
import HDF5
import JSON

/// Reads Keras model files of any Keras version into a `KerasModel`.
public enum KerasFile {
    /// Reads the model at `path`. `configPath` names an architecture JSON (`model.to_json()`) for
    /// weights-only `.h5` files. Only configs, attributes and dataset headers are read; weight
    /// values load lazily through `KerasWeight.data`.
    public static func load(path: String, configPath: String? = nil) throws -> KerasModel {
        let size = try regularFileSize(path)
        let head = try firstBytes(path, count: 8)
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return try loadZip(path: path, size: size, configPath: configPath)
        }
        if Array(head) == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] {
            return try loadH5(path: path, size: size, configPath: configPath)
        }
        throw KerasError.notAKerasFile(file: path, reason: "neither HDF5 nor a .keras zip archive")
    }

    static func regularFileSize(_ path: String) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KerasError.unreadable(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw KerasError.unreadable(file: path, reason: "is a directory, not a model file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw KerasError.unreadable(file: path, reason: "permission denied") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    static func firstBytes(_ path: String, count: Int) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KerasError.unreadable(file: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: count)) ?? Data()
    }

    // MARK: HDF5

    static func loadH5(path: String, size: Int, configPath: String?) throws -> KerasModel {
        do {
            let file = try HDF5File(path: path)
            let root = try file.root()
            let attributes = try root.attributeNames()
            var kerasVersion = attributes.contains("keras_version") ? try? root.attribute("keras_version").readString() : nil
            var backend = attributes.contains("backend") ? try? root.attribute("backend").readString() : nil

            let configText: String
            let configSource: String
            if let configPath {
                configText = try readText(configPath)
                configSource = configPath
            } else if attributes.contains("model_config") {
                configText = try root.attribute("model_config").readString()
                configSource = path
            } else if root.hasAttribute("layer_names") || root.contains("layers") {
                let store: WeightStore = root.hasAttribute("layer_names") ? try LegacyH5WeightStore(group: root) : KerasV3WeightStore(root: root)
                return try ModelBuilder.weightsOnly(path: path, size: size, kerasVersion: kerasVersion, backend: backend, store: store)
            } else {
                throw KerasError.notAKerasFile(file: path, reason: "HDF5 file without a Keras model_config attribute")
            }
            let config = try parseConfig(configText, file: configSource)
            kerasVersion = kerasVersion ?? config["keras_version"]?.string
            backend = backend ?? config["backend"]?.string

            let store: WeightStore
            if root.contains("model_weights") {
                store = try LegacyH5WeightStore(group: try root.group("model_weights"))
            } else if root.hasAttribute("layer_names") {
                store = try LegacyH5WeightStore(group: root)
            } else if root.contains("layers") {
                store = KerasV3WeightStore(root: root)
            } else {
                store = EmptyWeightStore()
            }
            return try ModelBuilder.build(path: path, configPath: configPath, format: .kerasH5, size: size, config: config,
                                          kerasVersion: kerasVersion, backend: backend, store: store)
        } catch let error as HDF5Error {
            throw KerasError.hdf5(file: path, underlying: error)
        }
    }

    // MARK: .keras zip

    static func loadZip(path: String, size: Int, configPath: String?) throws -> KerasModel {
        var archive: [String: ZipMember.Entry] = [:]
        do {
            for entry in try ZipMember.entries(path) {
                // Two members with one name are read differently by different readers: refuse them.
                guard archive.updateValue(entry, forKey: entry.name) == nil else {
                    throw KerasError.notAKerasFile(file: path, reason: "the archive holds '\(entry.name)' twice")
                }
            }
        } catch let problem as ZipMember.Problem {
            throw KerasError.notAKerasFile(file: path, reason: "damaged zip archive (\(problem.detail))")
        }
        func checkSize(_ entry: ZipMember.Entry, limit: UInt64) throws {
            let expanded = entry.uncompressedSize, stored = entry.compressedSize
            // Saturating: a damaged directory may declare sizes near 2^64.
            let (product, overflow) = stored.multipliedReportingOverflow(by: Self.maximumZipExpansion)
            let (allowed, past) = product.addingReportingOverflow(4096)
            guard expanded <= limit, overflow || past || expanded <= allowed else {
                throw KerasError.notAKerasFile(file: path, reason: "'\(entry.name)' expands from \(stored) to \(expanded) bytes (a zip bomb?)")
            }
        }
        func entryData(_ name: String) throws -> Data? {
            guard let entry = archive[name] else { return nil }
            try checkSize(entry, limit: Self.maximumConfigBytes)
            var data = Data()
            do {
                try ZipMember.read(path, entry: entry) { data.append(contentsOf: $0) }
            } catch let problem as ZipMember.Problem {
                throw KerasError.notAKerasFile(file: path, reason: problem.detail)
            }
            return data
        }
        let configText: String
        if let configPath {
            configText = try readText(configPath)
        } else {
            guard let data = try entryData("config.json") else {
                throw KerasError.notAKerasFile(file: path, reason: "zip archive without config.json")
            }
            configText = String(decoding: data, as: UTF8.self)
        }
        let config = try parseConfig(configText, file: configPath ?? path)
        var kerasVersion: String?
        if let metadata = try entryData("metadata.json"), let json = try? JSON.parse(String(decoding: metadata, as: UTF8.self)) {
            kerasVersion = json["keras_version"]?.string
        }

        // libhdf5 opens files by path, so the weights are extracted once to a private temporary file,
        // which is unlinked before this function returns (the open handle keeps it readable).
        let store: WeightStore
        var scratch: String?
        if let entry = archive["model.weights.h5"] {
            try checkSize(entry, limit: UInt64.max)
            let temporary = FileManager.default.temporaryDirectory
                .appendingPathComponent("keraslite-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).weights.h5")
            scratch = temporary.path
            defer { try? FileManager.default.removeItem(at: temporary) }
            do {
                guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let output = FileHandle(forWritingAtPath: temporary.path) else {
                    throw KerasError.notAKerasFile(file: path, reason: "cannot extract model.weights.h5 (no scratch file)")
                }
                defer { try? output.close() }
                try ZipMember.read(path, entry: entry) { try output.write(contentsOf: Data($0)) }
            } catch let problem as ZipMember.Problem {
                throw KerasError.notAKerasFile(file: path, reason: "cannot extract model.weights.h5 (\(problem.detail))")
            } catch let error as KerasError {
                throw error
            } catch {
                throw KerasError.notAKerasFile(file: path, reason: "cannot extract model.weights.h5 (\(error))")
            }
            do {
                let file = try HDF5File(path: temporary.path)
                // Weights read later (lazily) fail naming the archive, not the private scratch file.
                file.displayName = path + "!model.weights.h5"
                store = KerasV3WeightStore(root: try file.root())
            } catch var error as HDF5Error {
                error.path = error.path.replacingOccurrences(of: temporary.path, with: "/")  // not the private scratch name
                throw KerasError.hdf5(file: path + "!model.weights.h5", underlying: error)
            }
        } else {
            store = EmptyWeightStore()
        }
        do {
            return try ModelBuilder.build(path: path, configPath: configPath, format: .kerasZip, size: size, config: config,
                                          kerasVersion: kerasVersion ?? config["keras_version"]?.string,
                                          backend: config["backend"]?.string, store: store)
        } catch KerasError.hdf5(let file, var underlying) where scratch != nil {
            // Name the archive member, not the private scratch file it was extracted to.
            underlying.path = underlying.path.replacingOccurrences(of: scratch! + ":", with: "model.weights.h5:")
                .replacingOccurrences(of: path + "!model.weights.h5:", with: "model.weights.h5:")
            throw KerasError.hdf5(file: file, underlying: underlying)
        }
    }

    /// The largest `config.json` / `metadata.json` read from a `.keras` archive (Keras writes a
    /// few megabytes at most); more is refused before anything is inflated.
    public static let maximumConfigBytes: UInt64 = 64 << 20
    /// The most a zip member may expand per stored byte (deflate's limit is about 1032:1).
    public static let maximumZipExpansion: UInt64 = 1100

    // MARK: helpers

    static func readText(_ path: String) throws -> String {
        _ = try regularFileSize(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KerasError.unreadable(file: path, reason: "cannot read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func parseConfig(_ text: String, file: String) throws -> JSON {
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch let error as JSONError {
            throw KerasError.malformedConfig(file: file, reason: "invalid JSON (\(error))")
        }
        guard json["class_name"]?.string != nil, json["config"] != nil else {
            throw KerasError.malformedConfig(file: file, reason: "no top-level class_name/config")
        }
        return json
    }
}

/// A store for models saved without weights.
struct EmptyWeightStore: WeightStore {
    func weights(at path: LayerPath) throws -> [StoredWeight] { [] }
    func groups() throws -> [(name: String, weights: [StoredWeight])] { [] }
    func allWeights(at path: LayerPath) throws -> [StoredWeight] { [] }
}
