import Foundation
import GraphIR
import HDF5
import JSON

/// Walks a Keras model config (any dialect) and builds the graph IR and the layer tree.
///
/// Functional models are evaluated symbolically: each layer call ("node") runs once its input
/// tensors exist, so shared layers (several nodes) and nested models (inlined, one copy of their
/// ops per call) fall out of the same loop. Sequential models are a chain of calls.
final class ModelBuilder {
    let file: String
    /// Where the config came from: the model file, or the JSON given with `--config`.
    let configFile: String
    let kerasMajor: Int
    let store: WeightStore
    let graph: Graph
    private var usedNames = Set<String>()
    private var records: [String: KerasLayer] = [:]
    private var weightTensors: [String: [String: Tensor]] = [:]
    /// Layers that could be read but not lowered, in call order.
    private var blockers: [ConversionBlocker] = []
    /// Tensors standing for the outputs of blocked layers and of layers after them: no known shape.
    private var unknownShapes = Set<ObjectIdentifier>()
    /// Keras masks travelling with tensors (Embedding `mask_zero`, Masking), by tensor.
    private var masks: [ObjectIdentifier: Tensor] = [:]

    static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]

    private init(file: String, configFile: String, kerasMajor: Int, store: WeightStore, graph: Graph) {
        self.file = file
        self.configFile = configFile
        self.kerasMajor = kerasMajor
        self.store = store
        self.graph = graph
    }

    static func build(path: String, configPath: String?, format: KerasFormat, size: Int, config: JSON, kerasVersion: String?,
                      backend: String?, store: WeightStore) throws -> KerasModel {
        let className = config["class_name"]?.string ?? ""
        guard modelClasses.contains(className) else {
            // A subclassed model (its own Python class): no layer graph is recorded, but its weights
            // are — read them per stored group, as for a weights-only file.
            let name = config["config"]?["name"]?.string ?? "(model)"
            let error = KerasError.customObject(file: path, layer: name, className: config["registered_name"]?.string ?? className)
            return try weightsOnly(path: path, format: format, size: size, kerasVersion: kerasVersion, backend: backend, store: store,
                                   className: className, blocker: error)
        }
        let major = majorVersion(kerasVersion) ?? (config["module"] != nil ? 3 : 2)
        let name = config["config"]?["name"]?.string ?? "model"
        let graph = Graph(name: name)
        graph.metadata["format"] = format.rawValue
        if let kerasVersion { graph.metadata["keras_version"] = kerasVersion }
        let builder = ModelBuilder(file: path, configFile: configPath ?? path, kerasMajor: major, store: store, graph: graph)
        let top = KerasLayer(name: name, className: className)
        let (inputs, outputs) = try builder.runModel(config, record: top, path: LayerPath(), callInputs: nil)
        graph.inputs = inputs
        graph.outputs = outputs
        if let references = config["config"]?["output_layers"] {
            let outputLayers = try builder.references(references, what: "output_layers").map(\.layer)
            if outputLayers.count == outputs.count, outputLayers != outputs.map(\.name) { graph.outputNames = outputLayers }
        }
        if builder.blockers.isEmpty, let first = graph.verify().first {
            throw KerasError.graph(file: path, layer: name, reason: "built graph is inconsistent: \(first)")
        }
        return KerasModel(path: path, format: format, kerasVersion: kerasVersion, backend: backend, className: className,
                          name: name, sizeBytes: size, layers: top.sublayers, graph: graph, blockers: builder.blockers,
                          unknownShapes: builder.unknownShapes)
    }

    /// A file of weights without a model config (`save_weights`): each stored group is a layer of
    /// unknown class with its weights, and the model cannot be lowered until `--config` gives the
    /// architecture.
    static func weightsOnly(path: String, format: KerasFormat = .kerasH5, size: Int, kerasVersion: String?, backend: String?,
                            store: WeightStore, className: String = "weights only", blocker: KerasError? = nil) throws -> KerasModel {
        let layers = try store.groups().map { group -> KerasLayer in
            let layer = KerasLayer(name: group.name, className: "?")
            layer.weights = try group.weights.enumerated().map { index, stored in
                var weight = try stored.keras(variable: stored.variable ?? String(index))
                weight.name = stored.variable == nil ? "\(group.name)/\(index)" : stored.name
                return weight
            }
            layer.blocker = "no model config: its class is not recorded"
            return layer
        }
        let error = blocker
            ?? KerasError.notAKerasFile(file: path, reason: "holds weights only (no model_config); give the architecture JSON with --config")
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return KerasModel(path: path, format: format, kerasVersion: kerasVersion, backend: backend, className: className,
                          name: name, sizeBytes: size, layers: layers, graph: Graph(name: name),
                          blockers: [ConversionBlocker(layer: ConversionBlocker.wholeModel, className: className, error: error)])
    }

    static func majorVersion(_ version: String?) -> Int? {
        guard let version, let first = version.split(separator: ".").first else { return nil }
        return Int(first)
    }

    // MARK: names

    private func uniqueName(_ base: String) -> String {
        var name = base
        var index = 1
        while usedNames.contains(name) {
            name = "\(base)@\(index)"
            index += 1
        }
        usedNames.insert(name)
        return name
    }

    private func layerName(_ json: JSON) -> String {
        json["name"]?.string ?? json["config"]?["name"]?.string ?? "layer"
    }

    // MARK: models

    /// Runs a Sequential or Functional model config. With `callInputs` nil the model's input layers
    /// become graph inputs; otherwise the model is a nested layer called on those tensors.
    private func runModel(_ json: JSON, record: KerasLayer, path: LayerPath, callInputs: [Tensor]?) throws -> (inputs: [Tensor], outputs: [Tensor]) {
        let className = json["class_name"]?.string ?? ""
        let firstCall = record.sublayers.isEmpty
        if className == "Sequential" {
            // Keras ≤ 2.2.2 stored a Sequential config as the bare list of layers.
            let layers = json["config"]?.array ?? json["config"]?["layers"]?.array ?? []
            return try runSequential(layers, modelConfig: json["config"], record: record, path: path, callInputs: callInputs, firstCall: firstCall)
        }
        guard let config = json["config"], let layers = config["layers"]?.array else {
            throw KerasError.malformedConfig(file: configFile, reason: "model '\(record.name)' has no layers list")
        }
        var available: [String: [Tensor]] = [:]
        var graphInputs: [Tensor] = []
        let inputRefs = try references(config["input_layers"], what: "input_layers")
        if let callInputs {
            guard callInputs.count == inputRefs.count else {
                throw KerasError.graph(file: file, layer: record.name, reason: "called with \(callInputs.count) inputs, defines \(inputRefs.count)")
            }
            for (reference, tensor) in zip(inputRefs, callInputs) { available["\(reference.layer)#0"] = [tensor] }
        }
        var pending: [(layer: JSON, path: LayerPath, node: Int, refs: [NodeOperand])] = []
        let savedNames = LayerPath.savedNames(classNames: layers.map { $0["class_name"]?.string ?? "" })
        for (layer, savedName) in zip(layers, savedNames) {
            let name = layerName(layer)
            let layerPath = path.appending(name, saved: savedName)
            if layer["class_name"]?.string == "InputLayer" {
                if callInputs == nil { available["\(name)#0"] = [try inputTensor(layer["config"], name: name)] }
                if firstCall { record.sublayers.append(inputRecord(name, shape: available["\(name)#0"]?.first?.shape ?? [])) }
                continue
            }
            if firstCall { record.sublayers.append(try layerRecord(layer, path: layerPath)) }
            for (index, node) in (layer["inbound_nodes"]?.array ?? []).enumerated() {
                pending.append((layer, layerPath, index, try nodeOperands(node, layer: name)))
            }
        }
        let offsets = nestedNodeOffsets(layers: layers, references: pending.flatMap { $0.refs.compactMap(\.reference) }
                                        + (try references(config["output_layers"], what: "output_layers")))
        pending = pending.map { item in
            (item.layer, item.path, item.node, item.refs.map { $0.shifted(by: offsets) })
        }
        if callInputs == nil {
            graphInputs = try inputRefs.map { reference in
                guard let tensor = available["\(reference.layer)#\(reference.node)"]?.first else {
                    throw KerasError.malformedConfig(file: configFile, reason: "model input '\(reference.layer)' is not an InputLayer")
                }
                return tensor
            }
        }
        // How many outputs each layer call has, as far as the model's references say (what a
        // blocked layer, whose outputs are not computed, must stand in for).
        var outputCounts: [String: Int] = [:]
        for reference in pending.flatMap({ $0.refs.compactMap(\.reference) }) + (try references(config["output_layers"], what: "output_layers")) {
            outputCounts[reference.layer] = max(outputCounts[reference.layer] ?? 1, reference.tensor + 1)
        }
        while !pending.isEmpty {
            var progressed = false
            var index = 0
            while index < pending.count {
                let item = pending[index]
                let name = layerName(item.layer)
                guard let inputs = resolve(item.refs, available, layer: name) else { index += 1; continue }
                available["\(name)#\(item.node)"] = try callLayer(item.layer, path: item.path, inputs: inputs,
                                                                   outputCount: outputCounts[name] ?? 1,
                                                                   node: item.layer["inbound_nodes"]?.array?[item.node])
                pending.remove(at: index)
                progressed = true
            }
            if !progressed {
                let stuck = layerName(pending[0].layer)
                throw KerasError.malformedConfig(file: configFile, reason: "the inputs of layer '\(stuck)' are never produced")
            }
        }
        let outputRefs = try references(config["output_layers"], what: "output_layers").map { $0.shifted(by: offsets[$0.layer] ?? 0) }
        guard let outputs = resolve(outputRefs.map(NodeOperand.tensor), available, layer: record.name) else {
            throw KerasError.malformedConfig(file: configFile, reason: "model '\(record.name)' outputs a layer it does not define")
        }
        return (graphInputs, outputs)
    }

    private func runSequential(_ layers: [JSON], modelConfig: JSON?, record: KerasLayer, path: LayerPath,
                               callInputs: [Tensor]?, firstCall: Bool) throws -> (inputs: [Tensor], outputs: [Tensor]) {
        guard let first = layers.first else {
            throw KerasError.malformedConfig(file: configFile, reason: "Sequential model '\(record.name)' has no layers")
        }
        var x: Tensor
        var body = layers
        if let callInputs {
            guard callInputs.count == 1 else {
                throw KerasError.graph(file: file, layer: record.name, reason: "a Sequential model takes one input")
            }
            x = callInputs[0]
            if first["class_name"]?.string == "InputLayer" {
                body.removeFirst()
                if firstCall { record.sublayers.append(inputRecord(layerName(first), shape: x.shape)) }
            }
        } else if first["class_name"]?.string == "InputLayer" {
            x = try inputTensor(first["config"], name: layerName(first))
            body.removeFirst()
            if firstCall { record.sublayers.append(inputRecord(layerName(first), shape: x.shape)) }
        } else {
            // No InputLayer: the first layer carries the input shape (Keras 2 `batch_input_shape`),
            // or the model its `build_input_shape`; Keras names the implicit input "<first layer>_input".
            var config = first["config"]
            if config?["batch_input_shape"] == nil, config?["batch_shape"] == nil, let built = modelConfig?["build_input_shape"],
               case .object(var members) = config ?? .object([:]) {
                members["batch_input_shape"] = built
                config = .object(members)
            }
            x = try inputTensor(config, name: layerName(first) + "_input")
        }
        let graphInputs = callInputs == nil ? [x] : []
        let savedNames = LayerPath.savedNames(classNames: body.map { $0["class_name"]?.string ?? "" })
        for (layer, savedName) in zip(body, savedNames) {
            let name = layerName(layer)
            let layerPath = path.appending(name, saved: savedName)
            if firstCall { record.sublayers.append(try layerRecord(layer, path: layerPath)) }
            let outputs = try callLayer(layer, path: layerPath, inputs: [x], outputCount: 1)
            guard outputs.count == 1 else {
                throw KerasError.graph(file: file, layer: name, reason: "a layer in a Sequential model must have one output")
            }
            x = outputs[0]
        }
        return (graphInputs, [x])
    }

    // MARK: layers

    private func inputRecord(_ name: String, shape: Shape) -> KerasLayer {
        let record = KerasLayer(name: name, className: "InputLayer")
        record.outputShapes = [shape]
        return record
    }

    /// The record for a layer (created once; nested models get their sublayers on first call).
    private func layerRecord(_ json: JSON, path: LayerPath) throws -> KerasLayer {
        let key = path.key
        if let existing = records[key] { return existing }
        let className = json["class_name"]?.string ?? ""
        let record = KerasLayer(name: path.names.last!, className: className)
        records[key] = record
        return record
    }

    /// Builds one layer call. A layer keraslite cannot lower (its class, an option, its weights or
    /// shapes) is recorded as a blocker with its stored weights, and its `outputCount` outputs become
    /// tensors of unknown shape; layers reading them are read (weights matched) but not built.
    private func callLayer(_ json: JSON, path: LayerPath, inputs: [Tensor], outputCount: Int, node: JSON? = nil) throws -> [Tensor] {
        let name = path.names.last!
        let className = json["class_name"]?.string ?? ""
        let record = try layerRecord(json, path: path)
        record.callCount += 1
        var outputs: [Tensor]
        if Self.modelClasses.contains(className) {
            outputs = try runModel(json, record: record, path: path, callInputs: inputs).outputs
        } else {
            let config = LayerConfig(values: json["config"]?.object ?? [:], layer: name, className: className, file: file)
            do {
                let spec = try self.spec(for: json, config: config)
                let weights = try weightTensors(path: path, spec: spec, config: config, record: record)
                if let argument = node.flatMap(Self.unloweredCallArgument) {
                    throw KerasError.unsupportedOption(file: file, layer: name, className: className, option: "the call argument '\(argument)'")
                }
                if inputs.contains(where: { unknownShapes.contains(ObjectIdentifier($0)) }) {
                    outputs = unknownOutputs(name, count: outputCount)
                } else {
                    let context = LayerContext(graph: graph, config: config, opName: uniqueName(name), inputs: inputs,
                                               weights: weights, kerasMajor: kerasMajor)
                    context.inputMasks = inputs.map { masks[ObjectIdentifier($0)] }
                    try LayerTable.checkMasks(context)
                    outputs = try spec.build(context)
                    context.finish(outputs)
                    let passed = LayerTable.maskPassing.contains(className) ? context.inputMasks.first ?? nil : nil
                    for (index, output) in outputs.enumerated() {
                        if let mask = context.outputMasks.map({ index < $0.count ? $0[index] : nil }) ?? passed {
                            masks[ObjectIdentifier(output)] = mask
                        }
                    }
                }
            } catch let error as KerasError where error.blocksOnlyConversion {
                if record.blocker == nil {
                    record.blocker = error.reason
                    blockers.append(ConversionBlocker(layer: path.key, className: blockerClass(json, error), error: error))
                    if record.weights.isEmpty { record.weights = try storedWeights(path: path, layer: name) }
                }
                outputs = unknownOutputs(name, count: outputCount)
            }
        }
        if record.callCount == 1 {
            record.outputShapes = outputs.allSatisfy({ !unknownShapes.contains(ObjectIdentifier($0)) }) ? outputs.map(\.shape) : []
        }
        return outputs
    }

    /// The class a blocker is listed under: a custom object's registered name, else the class.
    private func blockerClass(_ json: JSON, _ error: KerasError) -> String {
        if case .customObject(_, _, let className) = error { return className }
        return json["class_name"]?.string ?? "?"
    }

    /// Stand-ins for the outputs of a layer that is not built.
    private func unknownOutputs(_ name: String, count: Int) -> [Tensor] {
        (0..<max(count, 1)).map { index in
            let tensor = Tensor(name: uniqueName(index == 0 ? name : "\(name):\(index)"), shape: [])
            unknownShapes.insert(ObjectIdentifier(tensor))
            return tensor
        }
    }

    /// A blocked layer's weights as stored, named by their recorded variable names (or positions).
    private func storedWeights(path: LayerPath, layer: String) throws -> [KerasWeight] {
        do {
            return try store.allWeights(at: path).enumerated().map { index, stored in
                var weight = try stored.keras(variable: stored.variable ?? String(index))
                weight.name = stored.variable == nil ? stored.name : "\(layer)/\(weight.variable)"
                return weight
            }
        } catch let error as HDF5Error {
            throw KerasError.hdf5(file: file, underlying: error)
        }
    }

    private func spec(for json: JSON, config: LayerConfig) throws -> LayerSpec {
        let className = config.className
        if className == "Lambda" {
            throw KerasError.lambdaLayer(file: file, layer: config.layer, className: className)
        }
        // Keras 3 marks user-registered classes as "Package>Name"; other modules are user code too.
        let registered = json["registered_name"]?.string
        let module = json["module"]?.string
        let isCustom = (registered.map { $0.contains(">") } ?? false) || (module.map { !$0.hasPrefix("keras") } ?? false)
        if !isCustom, let spec = LayerTable.spec(for: className) { return spec }
        if isCustom || !LayerTable.knownUnsupported.contains(className) {
            throw KerasError.customObject(file: file, layer: config.layer, className: registered ?? className)
        }
        throw KerasError.unsupportedLayer(file: file, layer: config.layer, className: className)
    }

    /// Loads (once per layer) the layer's stored weights, matched to the variables its class expects.
    private func weightTensors(path: LayerPath, spec: LayerSpec, config: LayerConfig, record: KerasLayer) throws -> [String: Tensor] {
        let key = path.key
        if let cached = weightTensors[key] { return cached }
        let expected = try spec.variables(config)
        var stored: [StoredWeight]
        do {
            stored = spec.weightsFromSublayers ? LayerTable.sublayerOrder(try store.allWeights(at: path)) : try store.weights(at: path)
        } catch let error as HDF5Error {
            throw KerasError.hdf5(file: file, underlying: error)
        }
        guard stored.count == expected.count else {
            let names = expected.map(\.name).joined(separator: ", ")
            throw KerasError.weights(file: file, layer: config.layer,
                                     reason: "expects \(expected.count) weights (\(names.isEmpty ? "none" : names)), the file has \(stored.count)")
        }
        // Match by recorded variable name when every expected one is present, else by position.
        var ordered = stored
        let qualified = stored.map(\.sublayerQualifiedName)
        let byPath = expected.compactMap { spec in qualified.firstIndex { spec.name == $0 || spec.aliases.contains($0) } }
        if spec.weightsFromSublayers, byPath.count == expected.count, Set(byPath).count == byPath.count {
            ordered = byPath.map { stored[$0] }
        } else if stored.allSatisfy({ $0.variable != nil }) {
            let byName = expected.compactMap { spec in
                stored.first { $0.variable == spec.name || spec.aliases.contains($0.variable!) }
            }
            if byName.count == expected.count { ordered = byName }
        }
        var tensors: [String: Tensor] = [:]
        for (variable, storedWeight) in zip(expected, ordered) {
            var weight: KerasWeight
            do {
                weight = try storedWeight.keras(variable: variable.name)
            } catch let error as HDF5Error {
                throw KerasError.hdf5(file: file, underlying: error)
            }
            weight.variable = variable.name
            weight.name = "\(config.layer)/\(variable.name)"
            record.weights.append(weight)
            let dtype: DType = weight.storedType == "float16" ? .float16 : .float32
            tensors[variable.name] = Tensor(name: uniqueName(weight.name), shape: weight.shape.map { $0 }, dtype: dtype, constant: weight.data)
        }
        weightTensors[key] = tensors
        return tensors
    }

    // MARK: inputs and references

    private func inputTensor(_ config: JSON?, name: String) throws -> Tensor {
        let shapeJSON = config?["batch_shape"] ?? config?["batch_input_shape"]
        var shape: Shape
        if let array = shapeJSON?.array {
            shape = array.map(\.int)
        } else if let array = config?["shape"]?.array ?? config?["input_shape"]?.array {
            shape = [nil] + array.map(\.int)
        } else {
            throw KerasError.malformedConfig(file: configFile, reason: "input '\(name)' has no shape (batch_shape / batch_input_shape)")
        }
        if shape.count > 1, shape.dropFirst().contains(where: { $0 == nil }) {
            // Dynamic inner dimensions are kept as unknown; shape inference carries them through.
            shape = shape.map { $0 }
        }
        // A hostile or corrupt config: negative sizes, or more elements per sample than any
        // tensor can hold (2^40), would only fail later, or allocate without bound.
        let known = shape.dropFirst().compactMap { $0 }
        var elements = 1, overflow = false
        for size in known where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: max(size, 0)) }
        if known.contains(where: { $0 < 0 }) || overflow || elements > Graph.maximumElements {
            throw KerasError.malformedConfig(file: configFile, reason: "input '\(name)' has an impossible shape \(shape.text)")
        }
        let tensor = Tensor(name: uniqueName(name), shape: shape, dtype: dtype(config?["dtype"]))
        return tensor
    }

    private func dtype(_ json: JSON?) -> DType {
        let name = json?.string ?? json?["config"]?["name"]?.string ?? "float32"
        switch name {
        case "float16", "mixed_float16": return .float32
        case "int32": return .int32
        case "int64": return .int64
        case "uint8": return .uint8
        case "int8": return .int8
        case "bool": return .bool
        default: return .float32
        }
    }

    struct NodeReference {
        var layer: String
        var node: Int
        var tensor: Int

        func shifted(by offset: Int) -> NodeReference { NodeReference(layer: layer, node: node - offset, tensor: tensor) }
    }

    /// tf.keras numbers the calls of a nested model that has its own Input from 1, because its
    /// node 0 is the model's internal one and is skipped when saving (`_should_skip_first_node`);
    /// Keras 2.0–2.3 and Keras 3 number them from 0. Returns the offset per nested model: 1 when a
    /// reference reaches past the saved calls, 0 when one uses call 0, else tf.keras' rule.
    private func nestedNodeOffsets(layers: [JSON], references: [NodeReference]) -> [String: Int] {
        var offsets: [String: Int] = [:]
        for layer in layers where Self.modelClasses.contains(layer["class_name"]?.string ?? "") {
            let name = layerName(layer)
            let calls = layer["inbound_nodes"]?.array?.count ?? 0
            let used = references.filter { $0.layer == name }.map(\.node)
            if used.contains(where: { $0 >= calls }) {
                offsets[name] = 1
            } else if used.contains(0) {
                offsets[name] = 0
            } else {
                let inner = layer["config"]?["layers"]?.array ?? layer["config"]?.array ?? []
                let hasInput = inner.first?["class_name"]?.string == "InputLayer"
                    || inner.first?["config"]?["batch_input_shape"] != nil
                offsets[name] = kerasMajor == 2 && hasInput ? 1 : 0
            }
        }
        return offsets
    }

    /// A layer call's input: a tensor another layer produced, or a number written into the call
    /// (Keras 3 `x + 3.0`, tf.keras TFOpLambda's `y`).
    enum NodeOperand {
        case tensor(NodeReference)
        case constant(Float)

        var reference: NodeReference? { if case .tensor(let reference) = self { return reference }; return nil }

        func shifted(by offsets: [String: Int]) -> NodeOperand {
            guard case .tensor(let reference) = self else { return self }
            return .tensor(reference.shifted(by: offsets[reference.layer] ?? 0))
        }
    }

    /// The input tensors of a call once all exist (nil before); numbers become scalar constants.
    private func resolve(_ operands: [NodeOperand], _ available: [String: [Tensor]], layer: String) -> [Tensor]? {
        var tensors: [Tensor] = []
        for operand in operands {
            switch operand {
            case .tensor(let reference):
                guard let outputs = available["\(reference.layer)#\(reference.node)"], reference.tensor < outputs.count else { return nil }
                tensors.append(outputs[reference.tensor])
            case .constant(let value):
                tensors.append(Tensor(name: uniqueName("\(layer)/constant"), shape: [], constant: ConstantData(values: [value])))
            }
        }
        return tensors
    }

    /// `input_layers` / `output_layers`: a list of [layer, node, tensor] triples, a single triple,
    /// or (Keras 3, dict-structured inputs) an object of triples.
    func references(_ json: JSON?, what: String) throws -> [NodeReference] {
        guard let json else { throw KerasError.malformedConfig(file: configFile, reason: "model has no \(what)") }
        if let triple = triple(json) { return [triple] }
        let items = json.array ?? json.object?.keys.sorted().compactMap { json[$0] } ?? []
        return try items.map { item in
            guard let reference = triple(item) else { throw KerasError.malformedConfig(file: configFile, reason: "bad entry in \(what)") }
            return reference
        }
    }

    private func triple(_ json: JSON) -> NodeReference? {
        guard let array = json.array, array.count >= 3, let layer = array[0].string,
              let node = array[1].int, let tensor = array[2].int else { return nil }
        return NodeReference(layer: layer, node: node, tensor: tensor)
    }

    /// One inbound node: Keras 2 writes `[[layer, node, tensor, kwargs], …]` (TFOpLambda a single
    /// flat `[layer, node, tensor, {"y": …}]`); Keras 3 writes `{"args": [...], "kwargs": {...}}`
    /// with `__keras_tensor__` objects carrying `keras_history`, and plain numbers for constants.
    private func nodeOperands(_ node: JSON, layer: String) throws -> [NodeOperand] {
        if let args = node["args"] {
            var found: [NodeOperand] = []
            collectOperands(args, into: &found)
            for name in Self.tensorKeywords {
                guard let y = node["kwargs"]?[name], name == "y" || y["class_name"]?.string == "__keras_tensor__" else { continue }
                collectOperands(y, into: &found)
            }
            return found
        }
        guard var entries = node.array else {
            throw KerasError.malformedConfig(file: configFile, reason: "layer '\(layer)' has an unreadable inbound node")
        }
        if entries.first?.string != nil { entries = [node] }
        var operands: [NodeOperand] = []
        for entry in entries {
            guard let reference = triple(entry) else {
                throw KerasError.malformedConfig(file: configFile, reason: "layer '\(layer)' has an unreadable inbound node")
            }
            operands.append(.tensor(reference))
            for name in Self.tensorKeywords {
                guard let y = entry.array?.dropFirst(3).first?[name] else { continue }
                if name == "y", let value = y.double { operands.append(.constant(Float(value))) }
                else if let other = triple(y) { operands.append(.tensor(other)) }
            }
        }
        return operands
    }

    /// Call keywords that change what a layer computes and that keraslite does not lower: explicit
    /// masks, initial states, causal masking, returned attention scores. A call that sets one is a
    /// blocker rather than a silently different result.
    static let unloweredCallKeywords = ["mask", "attention_mask", "query_mask", "value_mask", "key_mask", "initial_state",
                                        "constants", "use_causal_mask", "return_attention_scores"]

    /// The first `unloweredCallKeywords` entry a call sets (to a tensor, a list or `true`), in
    /// Keras 3's `{"kwargs": …}` or Keras 2's `[layer, node, tensor, kwargs]` form.
    static func unloweredCallArgument(_ node: JSON) -> String? {
        var keywordSets: [JSON] = []
        if let kwargs = node["kwargs"] { keywordSets.append(kwargs) }
        for entry in node.array ?? [] {
            if let kwargs = entry.array?.dropFirst(3).first { keywordSets.append(kwargs) }
        }
        if node.array?.first?.string != nil, let kwargs = node.array?.dropFirst(3).first { keywordSets.append(kwargs) }
        for kwargs in keywordSets {
            for keyword in unloweredCallKeywords {
                guard let value = kwargs[keyword] else { continue }
                if case .null = value { continue }
                if case .bool(false) = value { continue }
                return keyword
            }
        }
        return nil
    }

    /// Call keywords whose tensors are inputs, after the positional ones: TFOpLambda's `y`,
    /// attention's `value` and `key` (tf.keras passes `value` by keyword).
    private static let tensorKeywords = ["y", "value", "key"]

    private func collectOperands(_ json: JSON, into found: inout [NodeOperand]) {
        if json["class_name"]?.string == "__keras_tensor__" {
            if let history = json["config"]?["keras_history"], let reference = triple(history) { found.append(.tensor(reference)) }
            return
        }
        if let value = json.double {
            found.append(.constant(Float(value)))
            return
        }
        for item in json.array ?? [] { collectOperands(item, into: &found) }
    }
}
