import Calibration
import GraphIR
import Interpreter
import Passes

extension SensitivityReport {
    /// `sparsity --sensitivity --channels`: each prunable channel group (named by its first
    /// producing layer, the key `prune --channels --plan` takes) has `level` of its channels
    /// removed alone — shapes and all, as `prune-channels` removes them — and the model runs on
    /// the samples; the graph is put back after each run. Layers count channels, rows the channels removed.
    static func measureChannels(graph: Graph, samples: CalibrationSamples, levels: [Double], channels: ChannelPruningOptions,
                                batchSize: Int, progress: ((Int, Int) -> Void)?) throws -> ([Layer], [String], [Row]) {
        var probe = channels
        probe.fraction = 0
        probe.perLayer = [:]
        probe.scope = .perLayer
        let snapshot = GraphSnapshot(graph)
        let dry = try snapshot.measure { try PruneChannels(options: probe).prune(graph) }
        let groups = dry.groups.filter { $0.keptBecause == nil && $0.before > 1 }
        guard !groups.isEmpty else {
            throw SensitivityError("no channel group to prune: every conv/dense layer's channels reach a model output, an excluded "
                                   + "layer or an op channel pruning does not trace")
        }
        let layers = groups.map { Layer(name: $0.layers[0], kernels: $0.layers, params: $0.before, zeros: 0) }
        let total = 1 + layers.count * levels.count
        let baseline = try Interpreter(graph: graph)
        let outputNames = baseline.outputNames
        let reference = try baseline.run(samples.inputs, batchSize: batchSize)
        progress?(1, total)
        var rows: [Row] = []
        for layer in layers {
            for level in levels {
                var alone = probe
                alone.perLayer = [layer.name: level]
                let row = try snapshot.measure {
                    let result = try PruneChannels(options: alone).prune(graph)
                    let removed = result.groups.first { $0.layers.first == layer.name }.map { $0.before - $0.after } ?? 0
                    let outputs = try Interpreter(graph: graph).run(samples.inputs, batchSize: batchSize)
                    return Row(layer: layer.name, level: level, zeros: removed, outputs: try outputNames.map { name in
                        guard let y0 = reference[name], let y = outputs[name] else {
                            throw SensitivityError("the interpreter returned no output '\(name)'")
                        }
                        return Self.compare(name: name, y, y0)
                    })
                }
                rows.append(row)
                progress?(rows.count + 1, total)
            }
        }
        return (layers, outputNames, rows)
    }
}

/// A graph's op inputs, attributes and outputs, to put back after a pass that resizes it.
struct GraphSnapshot {
    let graph: Graph
    let inputs: [[Tensor]]
    let attributes: [Attributes]
    let outputs: [Tensor]

    init(_ graph: Graph) {
        self.graph = graph
        inputs = graph.ops.map(\.inputs)
        attributes = graph.ops.map(\.attributes)
        outputs = graph.outputs
    }

    /// Runs `body`, then restores the graph (shapes re-inferred), whether `body` throws or not.
    func measure<T>(_ body: () throws -> T) throws -> T {
        let result: T
        do {
            result = try body()
        } catch {
            try? restore()
            throw error
        }
        try restore()
        return result
    }

    func restore() throws {
        for (op, (inputs, attributes)) in zip(graph.ops, zip(inputs, attributes)) {
            op.inputs = inputs
            op.attributes = attributes
        }
        graph.outputs = outputs
        try graph.reinferShapes()
    }
}
