import Foundation
import HDF5
import JSON
import ZIPFoundation

/// The architecture a Keras file stores, edited for a model whose layers changed width (channel
/// pruning): each resized layer's channel count (`filters` / `units`), and every shape the config
/// records for the tensors between layers — Keras 3's `build_config.input_shape` (Keras builds a
/// layer from it before loading its weights) and the `__keras_tensor__` shapes in Functional
/// nodes. Everything else is kept; only the last (channel) dimension of a shape is rewritten.
public enum KerasConfigEditor {
    /// A layer's new width and the config key holding it.
    public struct Width: Sendable {
        public var key: String
        public var value: Int
        public init(key: String, value: Int) {
            self.key = key
            self.value = value
        }
    }

    /// The model config stored in `model`'s file (`model_config` of an `.h5`, `config.json` of a
    /// `.keras`); throws for a weights-only file.
    public static func storedConfig(of model: KerasModel) throws -> JSON {
        switch model.format {
        case .kerasH5:
            do {
                let root = try HDF5File(path: model.path).root()
                guard root.hasAttribute("model_config") else {
                    throw KerasError.notAKerasFile(file: model.path, reason: "no model_config to rewrite (a weights-only file)")
                }
                return try KerasFile.parseConfig(try root.attribute("model_config").readString(), file: model.path)
            } catch let error as HDF5Error {
                throw KerasError.hdf5(file: model.path, underlying: error)
            }
        case .kerasZip:
            guard let archive = try? Archive(url: URL(fileURLWithPath: model.path), accessMode: .read),
                  let entry = archive["config.json"], entry.uncompressedSize <= KerasFile.maximumConfigBytes else {
                throw KerasError.notAKerasFile(file: model.path, reason: "no readable config.json to rewrite")
            }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            } catch {
                throw KerasError.notAKerasFile(file: model.path, reason: "cannot extract config.json (\(error))")
            }
            return try KerasFile.parseConfig(String(decoding: data, as: UTF8.self), file: model.path)
        }
    }

    /// `config` with `widths` applied by layer name and recorded shapes ending in the new channel
    /// counts: `inputChannels[layer]` (per input, nil = unknown) for `build_config.input_shape`,
    /// `outputChannels[layer]` (per output) for the Functional tensors that layer produces.
    public static func edited(_ config: JSON, widths: [String: Width], inputChannels: [String: [Int?]],
                              outputChannels: [String: [Int?]]) -> JSON {
        func edit(_ value: JSON) -> JSON {
            switch value {
            case .array(let items):
                return .array(items.map(edit))
            case .object(let original):
                var members = original.mapValues(edit)
                if members["class_name"]?.string == "__keras_tensor__", case .object(var tensor)? = members["config"],
                   let history = tensor["keras_history"]?.array, history.count == 3, let layer = history[0].string,
                   let index = history[2].int, let channels = outputChannels[layer], index < channels.count, let width = channels[index],
                   let shape = tensor["shape"] {
                    tensor["shape"] = withLastDimension(shape, [width])
                    members["config"] = .object(tensor)
                }
                if members["class_name"]?.string != nil, case .object(var layer)? = members["config"], let name = layer["name"]?.string {
                    if let width = widths[name] {
                        layer[width.key] = .number(Double(width.value))
                        members["config"] = .object(layer)
                    }
                    if let channels = inputChannels[name], case .object(var build)? = members["build_config"], let shape = build["input_shape"] {
                        build["input_shape"] = withLastDimension(shape, channels)
                        members["build_config"] = .object(build)
                    }
                }
                return .object(members)
            default:
                return value
            }
        }
        return edit(config)
    }

    /// A shape ([null, 8, 8, 16]) or a list of shapes with each last dimension replaced by the
    /// corresponding known channel count.
    static func withLastDimension(_ shape: JSON, _ channels: [Int?]) -> JSON {
        guard case .array(let items) = shape, !items.isEmpty else { return shape }
        if items.allSatisfy({ $0.array != nil }) {
            return .array(items.enumerated().map { index, item in index < channels.count ? withLastDimension(item, [channels[index]]) : item })
        }
        guard let width = channels.first ?? nil else { return shape }
        var edited = items
        edited[edited.count - 1] = .number(Double(width))
        return .array(edited)
    }
}
