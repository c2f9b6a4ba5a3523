import Files
import GraphIR
import JSON
import Keras
import Passes
import TFLite

extension Converter {
    /// What `pruneChannels` did: the pass's result and each layer's weights and MACs per sample
    /// before and after (graph order; layers the pass did not touch have equal rows).
    public struct ChannelOutcome: Sendable {
        public var pruning: ChannelPruning
        public var before: [LayerCost]
        public var after: [LayerCost]
        public var notes: [String]
    }

    /// `prune --channels`: removes output channels (see `PruneChannels`) and writes the smaller
    /// model to `output` — a `.tflite` (then the standard passes and lowering), or the same kind of
    /// Keras file as the input with the resized layers' `filters`/`units`, recorded shapes and
    /// weights rewritten, which Keras loads and fine-tunes as an ordinary model.
    public func pruneChannels(_ options: ChannelPruningOptions, writingTo output: String) throws -> ChannelOutcome {
        let lower = try checkPruning(output: output, layers: Array(options.exclude) + options.perLayer.keys)
        let config: JSON? = lower.hasSuffix(".tflite") ? nil : try KerasConfigEditor.storedConfig(of: model)
        let before = model.graph.layerCosts()
        let pruning = try FileError.naming(path) { try PruneChannels(options: options).prune(model.graph) }
        let after = model.graph.layerCosts()
        if lower.hasSuffix(".tflite") {
            let result = try convert().result
            try result.write(to: output)
            return ChannelOutcome(pruning: pruning, before: before, after: after, notes: [])
        }
        var byData: [ObjectIdentifier: KerasWeight] = [:]
        for weight in model.weights { byData[ObjectIdentifier(weight.data)] = weight }
        var resizing: [String: KerasWeightWriter.Resized] = [:]
        for weight in pruning.weights {
            guard let stored = byData[ObjectIdentifier(weight.original)] else {
                throw ConverterError.storedWeightNotFound(file: path, tensor: weight.tensor)
            }
            resizing[stored.storagePath] = .init(shape: weight.shape, values: weight.values)
        }
        var widths: [String: KerasConfigEditor.Width] = [:]
        for change in pruning.layers { widths[change.layer] = .init(key: change.key, value: change.after) }
        let (inputs, outputs) = Self.layerChannels(model.graph)
        let edited = KerasConfigEditor.edited(config!, widths: widths, inputChannels: inputs, outputChannels: outputs)
        let summary = try KerasWeightWriter.write(model, to: output, replacing: [:], resizing: resizing, config: edited)
        return ChannelOutcome(pruning: pruning, before: before, after: after, notes: summary.notes)
    }

    /// The last dimension of every Keras layer's input and output tensors, as the graph has them:
    /// inputs are the tensors a layer's ops read that another layer (or the model input) produced,
    /// outputs those its ops produce that another layer or the model output reads.
    static func layerChannels(_ graph: Graph) -> (inputs: [String: [Int?]], outputs: [String: [Int?]]) {
        var producer: [ObjectIdentifier: String] = [:]
        for op in graph.ops { for output in op.outputs { producer[ObjectIdentifier(output)] = op.origin?.layer ?? op.name } }
        var inputs: [String: [Int?]] = [:], outputs: [String: [Int?]] = [:]
        var seenInputs = Set<String>(), seenOutputs = Set<ObjectIdentifier>()
        func noteOutput(_ tensor: Tensor) {
            guard let layer = producer[ObjectIdentifier(tensor)], seenOutputs.insert(ObjectIdentifier(tensor)).inserted else { return }
            outputs[layer, default: []].append(tensor.shape.last ?? nil)
        }
        for op in graph.ops {
            let layer = op.origin?.layer ?? op.name
            for input in op.inputs where !input.isConstant && producer[ObjectIdentifier(input)] != layer {
                if seenInputs.insert("\(layer)\u{0}\(ObjectIdentifier(input).hashValue)").inserted {
                    inputs[layer, default: []].append(input.shape.last ?? nil)
                }
                noteOutput(input)
            }
        }
        for output in graph.outputs { noteOutput(output) }
        return (inputs, outputs)
    }
}
