import Files
import Keras
import TFLite

/// A model file opened through keraslite's one front door: a `.tflite` or a Keras file.
///
/// Detection is cheap and happens once, here: the `TFL3` FlatBuffers identifier at bytes 4..<8
/// makes a `.tflite`; anything else goes to the Keras reader, which tells HDF5 (`\x89HDF\r\n\x1a\n`)
/// from a `.keras` zip (`PK\x03\x04`) and names anything else "not a Keras model file". Errors
/// name the file.
public enum ModelFile {
    case keras(KerasModel)
    case tflite(TFLiteFile)

    /// The two families of model files keraslite reads.
    public enum Kind: Sendable {
        case keras
        case tflite
    }

    /// The family of the file at `path`, from its first 8 bytes (an unreadable file counts as
    /// Keras, whose reader reports why it cannot be read).
    public static func kind(path: String) -> Kind {
        TFLiteFile.hasIdentifier(path: path) ? .tflite : .keras
    }

    /// Opens `path`: a memory-mapped, verified `.tflite`, or a Keras model (`config` is the
    /// architecture JSON of a weights-only `.h5`).
    public static func open(path: String, config: String? = nil) throws -> ModelFile {
        switch kind(path: path) {
        case .tflite: return .tflite(try FileError.naming(path) { try TFLiteFile(path: path) })
        case .keras: return .keras(try KerasFile.load(path: path, configPath: config))
        }
    }

    /// Opens `path` as a Keras model to lower or run it (`graph`, `convert`, `prune`, `run`,
    /// `verify`, `sparsity --sensitivity`): a `.tflite` is refused by name, anything else goes to the
    /// Keras reader, whose errors name the file, and a model with layers keraslite cannot lower is
    /// refused naming every one of them (`KerasModel.requireConvertible`).
    public static func openKeras(path: String, config: String? = nil) throws -> KerasModel {
        guard kind(path: path) == .keras else { throw ModelFileError.needsKeras(file: path) }
        let model = try KerasFile.load(path: path, configPath: config)
        try model.requireConvertible()
        return model
    }
}
