import GraphIR

/// The container a Keras model came in.
public enum KerasFormat: String, Sendable {
    /// HDF5 written by `model.save("m.h5")` (Keras 2, tf.keras, Keras 3 legacy) or `save_weights`.
    case kerasH5 = "keras-h5"
    /// Keras 3 `.keras` zip archive (`config.json`, `metadata.json`, `model.weights.h5`).
    case kerasZip = "keras-zip"
}

/// One stored weight variable of a layer.
public struct KerasWeight: Sendable {
    /// The name as Keras gives it, without the `:0` suffix (`conv2d/kernel`).
    public var name: String
    /// The variable's own name (`kernel`, `moving_mean`).
    public var variable: String
    public var shape: [Int]
    /// The element type as stored in the file (`float32`, `float16`, …).
    public var storedType: String
    /// The values, read from the file on first use.
    public var data: ConstantData
    /// The dataset's absolute path in its HDF5 container (`/model_weights/dense/dense/kernel:0`,
    /// `/layers/dense/vars/0`); for `.keras` archives, the path inside `model.weights.h5`. The key
    /// `KerasWeightWriter` takes replacements by.
    public var storagePath: String

    public var elementCount: Int { shape.reduce(1, saturatingMultiply) }
}

/// A layer as the model lists it; a nested model is one layer with `sublayers`.
public final class KerasLayer: @unchecked Sendable {
    public let name: String
    public let className: String
    public var weights: [KerasWeight] = []
    public var sublayers: [KerasLayer] = []
    /// Output shapes of the layer's first call (several for multi-output nested models).
    public var outputShapes: [Shape] = []
    /// How many times the model calls this layer (more than one for shared layers).
    public var callCount = 0
    /// Why keraslite cannot lower this layer (its class, an option, its weights), nil when it can;
    /// such a layer is still read: class, stored weights, parameters.
    public internal(set) var blocker: String?

    /// Whether this layer, and every layer inside it, lowers to the graph IR.
    public var isConvertible: Bool { blocker == nil && sublayers.allSatisfy(\.isConvertible) }

    init(name: String, className: String) {
        self.name = name
        self.className = className
    }

    /// Weight elements of this layer and its sublayers.
    public var params: Int {
        saturatingAdd(weights.reduce(0) { saturatingAdd($0, $1.elementCount) }, sublayers.reduce(0) { saturatingAdd($0, $1.params) })
    }

    /// Bytes the weights take as stored.
    public var weightBytes: Int {
        saturatingAdd(weights.reduce(0) { saturatingAdd($0, $1.data.storedBytes) }, sublayers.reduce(0) { saturatingAdd($0, $1.weightBytes) })
    }

    /// This layer's weights and those of its sublayers, depth first.
    public var allWeights: [KerasWeight] { weights + sublayers.flatMap(\.allWeights) }
}

/// A Keras model read from a file: its facts, its layer tree, and the graph IR built from it.
public final class KerasModel: @unchecked Sendable {
    public let path: String
    public let format: KerasFormat
    /// The Keras version that wrote the file, as it recorded it (nil when it did not).
    public let kerasVersion: String?
    /// The backend recorded in the file (`tensorflow`, `jax`, …).
    public let backend: String?
    /// `Sequential`, `Functional` or `Model` (Keras 2's spelling of Functional).
    public let className: String
    public let name: String
    public let sizeBytes: Int
    /// Top-level layers in the order Keras lists them (`model.layers`); input layers included.
    public let layers: [KerasLayer]
    /// The model as a graph: inputs and outputs carry the Keras names. Complete only when
    /// `blockers` is empty; otherwise it holds what was built and must not be converted or run
    /// (`requireConvertible()` says why, naming every blocker).
    public let graph: Graph
    /// Layers keraslite reads but cannot lower, in model order (empty when the whole model converts).
    public let blockers: [ConversionBlocker]
    /// Tensors whose shape is unknown because a blocked layer produced them (or a layer after one).
    let unknownShapes: Set<ObjectIdentifier>

    init(path: String, format: KerasFormat, kerasVersion: String?, backend: String?, className: String,
         name: String, sizeBytes: Int, layers: [KerasLayer], graph: Graph, blockers: [ConversionBlocker] = [],
         unknownShapes: Set<ObjectIdentifier> = []) {
        self.blockers = blockers
        self.unknownShapes = unknownShapes
        self.path = path
        self.format = format
        self.kerasVersion = kerasVersion
        self.backend = backend
        self.className = className
        self.name = name
        self.sizeBytes = sizeBytes
        self.layers = layers
        self.graph = graph
    }

    public var isConvertible: Bool { blockers.isEmpty }

    /// Throws `KerasError.notConvertible` listing every layer keraslite cannot lower.
    public func requireConvertible() throws {
        guard blockers.isEmpty else { throw KerasError.notConvertible(file: path, blockers: blockers) }
    }

    /// Whether `tensor`'s shape is known (false after a layer keraslite cannot lower).
    public func hasKnownShape(_ tensor: Tensor) -> Bool { !unknownShapes.contains(ObjectIdentifier(tensor)) }

    /// Total weight elements, trainable and not: Keras' `count_params()`.
    public var params: Int { layers.reduce(0) { saturatingAdd($0, $1.params) } }

    /// Bytes every weight takes as stored (saturating, like `params`).
    public var weightBytes: Int { layers.reduce(0) { saturatingAdd($0, $1.weightBytes) } }

    /// Every weight of the model, each once, in layer order.
    public var weights: [KerasWeight] { layers.flatMap(\.allWeights) }
}

/// Sums and products of counts a hostile file declares (a dataset of 2^62 elements in each of
/// several layers) stop at Int.max instead of trapping; reports show them as they are.
func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}
