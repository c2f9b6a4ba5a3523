import GraphIR
import HDF5

/// Finds the stored weights of a layer, by its path in the (possibly nested) model.
protocol WeightStore {
    /// The stored weights of the layer at `path`, in stored order, with their variable names
    /// when the file records them.
    func weights(at path: LayerPath) throws -> [StoredWeight]
    /// Every group of stored weights with its name, in stored order, for files without a model
    /// config (nested models' layers as `model/layer`).
    func groups() throws -> [(name: String, weights: [StoredWeight])]
    /// Every weight stored for the layer at `path`, its sublayers' too (a recurrent layer's `cell`,
    /// a Bidirectional's `forward_layer/cell`): what a layer keraslite cannot lower is shown with.
    func allWeights(at path: LayerPath) throws -> [StoredWeight]
}



/// Where a layer sits in a (possibly nested) model: its name and, for Keras 3's native weights
/// file, the name the saver gave it.
struct LayerPath {
    /// Layer names, outermost model's layer first.
    var names: [String] = []
    /// Keras 3 saves each container's layers as snake_case(class name) with `_1`, `_2`, … for
    /// repeats, in the order of the container's `layers` (e.g. `layers/functional/layers/conv2d_3`).
    var savedNames: [String] = []

    var key: String { names.joined(separator: "/") }

    func appending(_ name: String, saved: String) -> LayerPath {
        LayerPath(names: names + [name], savedNames: savedNames + [saved])
    }

    /// The names Keras 3's saver gives a container's layers, from their class names.
    static func savedNames(classNames: [String]) -> [String] {
        var used: [String: Int] = [:]
        return classNames.map { className in
            let base = snakeCase(className)
            if let count = used[base] {
                used[base] = count + 1
                return "\(base)_\(count + 1)"
            }
            used[base] = 0
            return base
        }
    }

    /// Keras' `naming.to_snake_case`: drop non-word characters, split before capitalised words and
    /// between a lower-case letter and a capital, lower-case everything.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
        // (.)([A-Z][a-z]+) -> \1_\2, left to right without overlaps, as re.sub does.
        var first: [Character] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            first.append(character)
            let next = index + 1
            if next + 1 < characters.count, characters[next].isUppercase, characters[next + 1].isLowercase {
                first.append("_")
                var end = next + 1
                while end < characters.count, characters[end].isLowercase { end += 1 }
                first.append(contentsOf: characters[next..<end])
                index = end
                continue
            }
            index += 1
        }
        // ([a-z])([A-Z]) -> \1_\2
        var second = ""
        for (position, character) in first.enumerated() {
            if position > 0, character.isUppercase, first[position - 1].isLowercase { second.append("_") }
            second.append(character)
        }
        return second.lowercased()
    }
}

/// A weight as found in a container, before it is matched to the variable the layer expects.
struct StoredWeight {
    var name: String
    /// The variable name recorded in the file; nil in `.keras` archives, which store `vars/0`, `vars/1`….
    var variable: String?
    var dataset: HDF5Dataset

    /// The weight's last two path parts: its sublayer and variable (`query/kernel` from
    /// `mha/query/kernel:0`, `query_dense/0` from Keras 3's `layers/mha/query_dense/vars/0`).
    var sublayerQualifiedName: String {
        var parts = (variable == nil ? name : dataset.path).split(separator: "/").map(String.init)
        if variable != nil, let last = parts.popLast() { parts.append(String(last.split(separator: ":").first ?? Substring(last))) }
        return parts.suffix(2).joined(separator: "/")
    }

    func keras(variable expected: String) throws -> KerasWeight {
        let shape = try dataset.shape()
        let type = try dataset.elementType()
        let count = try dataset.elementCount()  // throws when the dimensions overflow
        let dataset = self.dataset
        return KerasWeight(name: name, variable: variable ?? expected, shape: shape, storedType: type.description,
                           data: ConstantData(count: count, storedBytes: count.multipliedReportingOverflow(by: type.byteWidth).partialValue) {
                               try dataset.readFloats()
                           },
                           storagePath: dataset.path)
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

    func weights(at path: LayerPath) throws -> [StoredWeight] { try weights(at: path, includingSublayers: false) }

    /// `weight_names` lists a layer's sublayers' weights too (`lstm/lstm_cell/kernel:0`); inside a
    /// nested model they belong to the layer whose name is the first path part.
    func allWeights(at path: LayerPath) throws -> [StoredWeight] { try weights(at: path, includingSublayers: true) }

    private func weights(at path: LayerPath, includingSublayers: Bool) throws -> [StoredWeight] {
        let layerPath = path.names
        guard let top = layerPath.first, layerNames.contains(top) else { return [] }
        let layerGroup = try group.group(top)
        let names = try layerGroup.chunkedStringsAttribute("weight_names") ?? []
        var result: [StoredWeight] = []
        for name in names {
            var parts = name.split(separator: "/").map(String.init)
            guard var variable = parts.popLast() else { continue }
            if let colon = variable.lastIndex(of: ":") { variable = String(variable[..<colon]) }
            // Sublayer weights name the layer first, after the enclosing models' names (Keras 3
            // writes `encoder/lstm/lstm_cell/kernel`, tf.keras `lstm/lstm_cell/kernel:0`).
            let owner = (includingSublayers ? parts.drop { layerPath.dropLast().contains($0) }.first : parts.last) ?? top
            if layerPath.count > 1 && owner != layerPath.last! { continue }
            let display = (layerPath.count > 1 ? layerPath.last! : owner) + "/" + variable
            result.append(StoredWeight(name: display, variable: variable, dataset: try layerGroup.dataset(name)))
        }
        return result
    }

    func groups() throws -> [(name: String, weights: [StoredWeight])] {
        try (group.chunkedStringsAttribute("layer_names") ?? []).compactMap { name in
            guard group.contains(name) else { return nil }
            let layerGroup = try group.group(name)
            let weights = try (layerGroup.chunkedStringsAttribute("weight_names") ?? []).map { path -> StoredWeight in
                var variable = String(path.split(separator: "/").last ?? Substring(path))
                if let colon = variable.lastIndex(of: ":") { variable = String(variable[..<colon]) }
                var display = path
                if let colon = display.lastIndex(of: ":") { display = String(display[..<colon]) }
                return StoredWeight(name: display, variable: variable, dataset: try layerGroup.dataset(path))
            }
            return (name, weights)
        }
    }
}

/// Weights in Keras 3's `model.weights.h5` (inside `.keras` archives, or `*.weights.h5`):
/// `layers/<name>/vars/<i>`, nested models as `layers/<model>/layers/<name>/vars/<i>`.
struct KerasV3WeightStore: WeightStore {
    /// Deepest group nesting the walks follow (nested models reach a handful of levels; a group
    /// linked into itself would otherwise recurse until the stack overflows).
    static let maximumDepth = 32

    let root: HDF5Group

    func weights(at path: LayerPath) throws -> [StoredWeight] {
        guard let vars = try varsGroup(for: path) else { return [] }
        let indices = try vars.childNames().compactMap(Int.init).sorted()
        return try indices.map { index in
            StoredWeight(name: "\(path.names.last!)/\(index)", variable: nil, dataset: try vars.dataset(String(index)))
        }
    }

    /// Every group holding `vars/<i>` datasets, anywhere in the file (`layers/dense`, nested
    /// `layers/functional/layers/conv2d`, or a subclassed model's own names), named by its path
    /// without the `layers/` steps; Windows-written files' `\` separators read as `/`.
    func groups() throws -> [(name: String, weights: [StoredWeight])] {
        var result: [(name: String, weights: [StoredWeight])] = []
        var seen = Set<UInt64>()
        func walk(_ group: HDF5Group, _ path: String, depth: Int) throws {
            // A hostile file cannot make the walk endless (a group linked into itself) or deep.
            guard seen.insert(group.address).inserted, seen.count <= 100_000, depth <= Self.maximumDepth else { return }
            for child in try group.childNames().sorted() {
                let childPath = path.isEmpty ? child : "\(path)/\(child)"
                // Optimizer state is not the model's; datasets and damaged groups are passed over.
                guard path.isEmpty ? child != "optimizer" : true, let opened = try? root.group(childPath) else { continue }
                if child == "vars" {
                    let vars = opened
                    let indices = try vars.childNames().compactMap(Int.init).sorted()
                    guard !indices.isEmpty else { continue }
                    // The saved name (`dense_1`) gives way to the layer's own name when Keras recorded it.
                    var parts = path.split(separator: "/").filter { $0 != "layers" }.map(String.init)
                    if let recorded = try? vars.attribute("name").readString(), !recorded.isEmpty, !parts.isEmpty {
                        parts[parts.count - 1] = recorded
                    }
                    let name = parts.joined(separator: "/").replacingOccurrences(of: "\\", with: "/")
                    result.append((name, try indices.map { StoredWeight(name: "\(name)/\($0)", variable: nil, dataset: try vars.dataset(String($0))) }))
                } else {
                    try walk(opened, childPath, depth: depth + 1)
                }
            }
        }
        try walk(root, "", depth: 0)
        return result
    }

    func allWeights(at path: LayerPath) throws -> [StoredWeight] {
        guard let vars = try varsGroup(for: path) else { return [] }
        let layerPath = String(vars.path.dropLast("/vars".count))
        var result: [StoredWeight] = []
        var seen = Set<UInt64>()
        func walk(_ groupPath: String, prefix: String, depth: Int) throws {
            // The layer's own group must open; a damaged group below it is passed over.
            guard let group = depth == 0 ? try root.group(groupPath) : try? root.group(groupPath) else { return }
            // Each group once (a group linked into itself), at most 32 levels deep.
            guard seen.insert(group.address).inserted, seen.count <= 100_000, depth <= Self.maximumDepth else { return }
            if group.contains("vars") {
                let inner = try group.group("vars")
                for index in try inner.childNames().compactMap(Int.init).sorted() {
                    result.append(StoredWeight(name: "\(prefix)/\(index)", variable: nil, dataset: try inner.dataset(String(index))))
                }
            }
            for child in try group.childNames().sorted() where child != "vars" && (try? group.objectKind(child)) == .group {
                try walk("\(groupPath)/\(child)", prefix: "\(prefix)/\(child)", depth: depth + 1)
            }
        }
        try walk(layerPath.hasPrefix("/") ? String(layerPath.dropFirst()) : layerPath, prefix: path.names.last!, depth: 0)
        return result
    }

    /// The `vars` group of the layer: at its saved path when that group's `name` attribute (which
    /// Keras 3 writes) agrees with the layer name, else the sibling group whose `name` does.
    private func varsGroup(for path: LayerPath) throws -> HDF5Group? {
        let parent = path.savedNames.dropLast().map { "layers/\($0)/" }.joined() + "layers"
        let expected = parent + "/" + path.savedNames.last! + "/vars"
        if root.contains(expected) {
            let group = try root.group(expected)
            if !group.hasAttribute("name") || (try? group.attribute("name").readString()) == path.names.last! { return group }
        }
        guard root.contains(parent) else { return nil }
        for child in try root.group(parent).childNames() where root.contains("\(parent)/\(child)/vars") {
            let group = try root.group("\(parent)/\(child)/vars")
            if (try? group.attribute("name").readString()) == path.names.last! { return group }
        }
        return root.contains(expected) ? try root.group(expected) : nil
    }
}
