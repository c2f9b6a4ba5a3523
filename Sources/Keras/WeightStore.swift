import GraphIR
import HDF5

/// Finds the stored weights of a layer, by its path in the (possibly nested) model.
protocol WeightStore {
    /// The stored weights of the layer at `layerPath` (top-level layer first), in stored order,
    /// with their variable names when the file records them.
    func weights(layerPath: [String]) throws -> [StoredWeight]
}

/// A weight as found in a container, before it is matched to the variable the layer expects.
struct StoredWeight {
    var name: String
    /// The variable name recorded in the file; nil in `.keras` archives, which store `vars/0`, `vars/1`….
    var variable: String?
    var dataset: HDF5Dataset

    func keras(variable expected: String) throws -> KerasWeight {
        let shape = try dataset.shape()
        let type = try dataset.elementType()
        let count = shape.reduce(1, *)
        let dataset = self.dataset
        return KerasWeight(name: name, variable: variable ?? expected, shape: shape, storedType: type.description,
                           data: ConstantData(count: count, storedBytes: count * type.byteWidth) {
                               try dataset.readFloats()
                           })
    }
}

/// Weights in the layout `model.save("m.h5")` and `save_weights("w.h5")` use in Keras 2, tf.keras
/// and Keras 3's legacy writer: a `layer_names` attribute listing top-level layers, and for each a
/// group whose `weight_names` attribute lists dataset paths like `conv2d/kernel:0`. Sublayers of a
/// nested model are stored in the nested model's group and told apart by the second-last path part.
struct LegacyH5WeightStore: WeightStore {
    let group: HDF5Group
    private let layerNames: Set<String>

    init(group: HDF5Group) throws {
        self.group = group
        layerNames = Set(try group.chunkedStringsAttribute("layer_names") ?? [])
    }

    func weights(layerPath: [String]) throws -> [StoredWeight] {
        guard let top = layerPath.first, layerNames.contains(top) else { return [] }
        let layerGroup = try group.group(top)
        let names = try layerGroup.chunkedStringsAttribute("weight_names") ?? []
        var result: [StoredWeight] = []
        for name in names {
            var parts = name.split(separator: "/").map(String.init)
            guard var variable = parts.popLast() else { continue }
            if let colon = variable.lastIndex(of: ":") { variable = String(variable[..<colon]) }
            let owner = parts.last ?? top
            if layerPath.count > 1 && owner != layerPath.last! { continue }
            let display = (layerPath.count > 1 ? layerPath.last! : owner) + "/" + variable
            result.append(StoredWeight(name: display, variable: variable, dataset: try layerGroup.dataset(name)))
        }
        return result
    }
}

/// Weights in Keras 3's `model.weights.h5` (inside `.keras` archives, or `*.weights.h5`):
/// `layers/<name>/vars/<i>`, nested models as `layers/<model>/layers/<name>/vars/<i>`.
struct KerasV3WeightStore: WeightStore {
    let root: HDF5Group

    func weights(layerPath: [String]) throws -> [StoredWeight] {
        let path = layerPath.map { "layers/\($0)" }.joined(separator: "/") + "/vars"
        guard root.contains(path) else { return [] }
        let vars = try root.group(path)
        let indices = try vars.childNames().compactMap(Int.init).sorted()
        return try indices.map { index in
            StoredWeight(name: "\(layerPath.last!)/\(index)", variable: nil, dataset: try vars.dataset(String(index)))
        }
    }
}
