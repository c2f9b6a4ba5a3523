import Calibration
import GraphIR
import HTML
import Interpreter
import Kernels
import Keras
import Passes
import TFLiteReports

/// What `keraslite sparsity --sensitivity` measures: how much each prunable Keras layer, pruned
/// alone by magnitude at each level, moves the model's outputs on the user's samples — and a
/// per-layer sparsity plan for a target global sparsity that `keraslite prune --plan` consumes.
///
/// The graph is the Keras model's own (before the standard passes, so a layer is a Keras layer) and
/// runs on the float reference interpreter: once unpruned, then once per (layer, level) with that
/// layer's kernels pruned as `prune-magnitude` prunes them and every other weight untouched. The
/// original constants are put back after each run, so the graph ends as it started. Cost: layers ×
/// levels interpreter runs over the samples (in batches); memory: the weights once (they are
/// loaded into the graph's constants up front), one interpreter and two copies of the outputs.
public struct SensitivityReport: Sendable {
    /// What to measure and what to aim for.
    public struct Options: Sendable {
        /// Sparsities each layer is pruned to, ascending, each in [0, 1).
        public var levels: [Double]
        /// The plan's goal: this fraction of the selected kernels' weights zero.
        public var target: Double
        /// Which kernels to consider (`exclude`, `minParams`, `skipFirstConv`, `skipOutputLayers`);
        /// the target, scope, pattern and per-layer fields are ignored.
        public var selection: PruningOptions
        /// Samples per interpreter run.
        public var batchSize: Int
        /// Measure channel pruning (`prune --channels`) instead: each prunable channel group alone
        /// at each level (the fraction of its channels removed), ranked by these options'
        /// criterion and round-to; the plan's target is then the fraction of channels removed.
        public var channels: ChannelPruningOptions?

        public init(levels: [Double] = [0.25, 0.5, 0.75, 0.9], target: Double = 0.5,
                    selection: PruningOptions = PruningOptions(), batchSize: Int = 32) {
            self.levels = levels
            self.target = target
            self.selection = selection
            self.batchSize = batchSize
        }
    }

    /// A Keras layer with kernels `prune-magnitude` selects (a separable convolution has two).
    public struct Layer: Sendable {
        public var name: String
        public var kernels: [String]
        public var params: Int
        /// Zeros in its kernels before pruning.
        public var zeros: Int
    }

    /// How far one model output moved.
    public struct OutputError: Sendable {
        public var name: String
        /// max |y − y₀| over every element.
        public var maxAbsError: Double
        /// ‖y − y₀‖ / ‖y₀‖ over every element (infinite when y₀ is all zeros and y is not).
        public var relativeL2: Double
        /// Fraction of rows whose arg-max over the last axis is unchanged; nil when that axis has one element.
        public var top1Agreement: Double?
    }

    /// One layer pruned alone at one level.
    public struct Row: Sendable {
        public var layer: String
        public var level: Double
        /// Zeros in the layer's kernels once pruned.
        public var zeros: Int
        public var outputs: [OutputError]
        /// The worst output's relative L2 error: the number the plan adds up.
        public var relativeL2: Double { outputs.map(\.relativeL2).max() ?? 0 }
        public var maxAbsError: Double { outputs.map(\.maxAbsError).max() ?? 0 }
        /// The lowest top-1 agreement over the outputs that have one.
        public var top1Agreement: Double? { outputs.compactMap(\.top1Agreement).min() }
    }

    /// The recommended per-layer sparsities.
    public struct Plan: Sendable {
        public struct Choice: Sendable {
            public var layer: String
            /// 0 (left alone) or one of the levels.
            public var level: Double
            public var zeros: Int
            public var params: Int
            /// The measured relative L2 error of this layer alone at `level` (0 at level 0).
            public var relativeL2: Double
        }

        public var target: Double
        /// One per selected layer, in graph order.
        public var choices: [Choice]
        public var zeros: Int { choices.reduce(0) { $0 + $1.zeros } }
        public var params: Int { choices.reduce(0) { $0 + $1.params } }
        /// The sparsity of the selected kernels the plan reaches.
        public var sparsity: Double { params > 0 ? Double(zeros) / Double(params) : 0 }
        /// Whether it reaches the target (false when even every layer at the highest level falls short).
        public var reached: Bool { zeros >= Self.required(target: target, params: params) }
        /// The sum of the chosen layers' errors: an estimate that assumes the errors add up.
        public var estimatedRelativeL2: Double { choices.reduce(0) { $0 + $1.relativeL2 } }

        static func required(target: Double, params: Int) -> Int {
            Int((target * Double(params) - 1e-9).rounded(.up))
        }
    }

    public var path: String
    public var input: String
    public var samples: Int
    /// What `params` and `zeros` count: weights (magnitude pruning) or channels (channel pruning).
    public var unit = "weights"
    public var levels: [Double]
    /// The kernel selection the layers come from (`prune --plan` should be given the same).
    public var selection: PruningOptions
    public var outputNames: [String]
    public var layers: [Layer]
    /// Layer-major (graph order), levels ascending.
    public var rows: [Row]
    public var plan: Plan

    /// Measures `graph` on `samples` (keyed by the graph's input names) and plans for `options.target`.
    /// `progress` gets (runs done, runs in total) after the unpruned run and after each (layer, level).
    /// Throws when no kernel is selected, or when a constant cannot be read or the interpreter fails.
    public init(graph: Graph, path: String, input: String, samples: CalibrationSamples, options: Options,
                progress: ((Int, Int) -> Void)? = nil) throws {
        self.path = path
        self.input = input
        self.samples = samples.count
        let levels = Array(Set(options.levels)).sorted()
        if let bad = levels.first(where: { !($0 >= 0 && $0 < 1) }) { throw SensitivityError("the level \(bad) is not in [0, 1)") }
        guard !levels.isEmpty else { throw SensitivityError("no levels to measure") }
        guard options.target >= 0, options.target < 1 else { throw SensitivityError("the target \(options.target) is not in [0, 1)") }
        guard options.batchSize >= 1 else { throw SensitivityError("the batch size must be ≥ 1") }
        self.levels = levels
        self.selection = options.selection

        // Every weight in memory once: each interpreter below shares these arrays instead of reading the file again.
        for tensor in graph.constants { _ = try tensor.constant?.values() }
        if let channels = options.channels {
            unit = "channels"
            (layers, outputNames, rows) = try Self.measureChannels(graph: graph, samples: samples, levels: levels, channels: channels,
                                                                   batchSize: options.batchSize, progress: progress)
            plan = Self.plan(layers: layers, rows: rows, target: options.target)
            return
        }

        // The kernels prune-magnitude selects: a dry run at sparsity 0 changes nothing and lists them.
        var probe = options.selection
        probe.target = .sparsity(0)
        probe.scope = .perLayer
        probe.pattern = .unstructured
        probe.perLayer = [:]
        var layers: [Layer] = []
        for kernel in try PruneMagnitude(options: probe).prune(graph) {
            if let index = layers.firstIndex(where: { $0.name == kernel.layer }) {
                layers[index].kernels.append(kernel.tensor)
                layers[index].params += kernel.params
                layers[index].zeros += kernel.zerosBefore
            } else {
                layers.append(Layer(name: kernel.layer, kernels: [kernel.tensor], params: kernel.params, zeros: kernel.zerosBefore))
            }
        }
        guard !layers.isEmpty else {
            throw SensitivityError("no kernel to prune: no conv, depthwise, transpose-conv or dense kernel of ≥ "
                                   + "\(options.selection.minParams) weights is left by the selection options")
        }
        self.layers = layers

        var tensorsByConstant: [ObjectIdentifier: Tensor] = [:]
        for tensor in graph.constants { if let data = tensor.constant { tensorsByConstant[ObjectIdentifier(data)] = tensor } }

        let total = 1 + layers.count * levels.count
        let baseline = try Interpreter(graph: graph)
        let outputNames = baseline.outputNames
        self.outputNames = outputNames
        let reference = try baseline.run(samples.inputs, batchSize: options.batchSize)
        progress?(1, total)

        var rows: [Row] = []
        let allNames = Set(layers.map(\.name))
        for layer in layers {
            for level in levels {
                var alone = options.selection
                alone.target = .sparsity(0)
                alone.scope = .perLayer
                alone.pattern = .unstructured
                alone.exclude = options.selection.exclude.union(allNames.subtracting([layer.name]))
                alone.perLayer = [layer.name: level]
                let pruned = try PruneMagnitude(options: alone).prune(graph)
                defer {
                    for weight in pruned {
                        if let tensor = tensorsByConstant[ObjectIdentifier(weight.original)], tensor.constant !== weight.original {
                            tensor.constant = weight.original
                        }
                    }
                }
                let outputs = try Interpreter(graph: graph).run(samples.inputs, batchSize: options.batchSize)
                rows.append(Row(layer: layer.name, level: level, zeros: pruned.reduce(0) { $0 + $1.zerosAfter },
                                outputs: try outputNames.map { name in
                                    guard let y0 = reference[name], let y = outputs[name] else {
                                        throw SensitivityError("the interpreter returned no output '\(name)'")
                                    }
                                    return Self.compare(name: name, y, y0)
                                }))
                progress?(rows.count + 1, total)
            }
        }
        self.rows = rows
        plan = Self.plan(layers: layers, rows: rows, target: options.target)
    }

    /// How far `y` is from the reference `y0` (same shape).
    static func compare(name: String, _ y: TensorValue, _ y0: TensorValue) -> OutputError {
        var largest = 0.0, difference = 0.0, norm = 0.0
        for (p, q) in zip(y.values, y0.values) {
            let error = Double(p) - Double(q)
            largest = max(largest, error.isNaN ? .infinity : abs(error))
            difference += error * error
            norm += Double(q) * Double(q)
        }
        if difference.isNaN { difference = .infinity }
        let relative = difference == 0 ? 0 : (norm > 0 ? (difference / norm).squareRoot() : .infinity)
        var top1: Double?
        if let classes = y0.shape.last, classes > 1, y.count == y0.count {
            let (agree, rows) = top1Agreement(y0.values, y.values, classes: classes)
            top1 = rows > 0 ? Double(agree) / Double(rows) : 1
        }
        return OutputError(name: name, maxAbsError: largest, relativeL2: relative, top1Agreement: top1)
    }

    /// The greedy plan: every layer starts at 0; while the zeros fall short of `target` × the
    /// selected weights, the layer whose next level adds the least error per extra zeroed weight
    /// goes up one level. Then any layer that can go back down a level while the target is still
    /// met does (the last raise may have overshot). Errors are the single-layer measurements,
    /// assumed to add up.
    static func plan(layers: [Layer], rows: [Row], target: Double) -> Plan {
        // state[i][k]: (level, zeros, error) of layer i at step k; step 0 is the unpruned layer.
        var state: [[(level: Double, zeros: Int, error: Double)]] = []
        for layer in layers {
            var steps = [(level: 0.0, zeros: layer.zeros, error: 0.0)]
            for row in rows where row.layer == layer.name && row.level > 0 {
                steps.append((row.level, row.zeros, row.relativeL2.isNaN ? .infinity : row.relativeL2))
            }
            state.append(steps)
        }
        let params = layers.reduce(0) { $0 + $1.params }
        let required = Plan.required(target: target, params: params)
        var step = Array(repeating: 0, count: layers.count)
        var zeros = layers.reduce(0) { $0 + $1.zeros }
        while zeros < required {
            var best: (ratio: Double, added: Double, layer: Int)?
            for index in layers.indices where step[index] + 1 < state[index].count {
                let now = state[index][step[index]], next = state[index][step[index] + 1]
                let gained = next.zeros - now.zeros, added = next.error - now.error
                let ratio = gained > 0 ? added / Double(gained) : (added <= 0 ? -Double.infinity : .infinity)
                if best.map({ (ratio, added) < ($0.ratio, $0.added) }) ?? true { best = (ratio, added, index) }
            }
            guard let best else { break }
            zeros += state[best.layer][step[best.layer] + 1].zeros - state[best.layer][step[best.layer]].zeros
            step[best.layer] += 1
        }
        // Undo overshoot: lower the layer that saves the most error while the target still holds.
        while true {
            var best: (saved: Double, layer: Int)?
            for index in layers.indices where step[index] > 0 {
                let now = state[index][step[index]], lower = state[index][step[index] - 1]
                let saved = now.error - lower.error
                guard saved > 0, zeros - (now.zeros - lower.zeros) >= required else { continue }
                if best.map({ saved > $0.saved }) ?? true { best = (saved, index) }
            }
            guard let best else { break }
            zeros -= state[best.layer][step[best.layer]].zeros - state[best.layer][step[best.layer] - 1].zeros
            step[best.layer] -= 1
        }
        let choices = layers.indices.map { index in
            let chosen = state[index][step[index]]
            return Plan.Choice(layer: layers[index].name, level: chosen.level, zeros: chosen.zeros,
                               params: layers[index].params, relativeL2: chosen.error)
        }
        return Plan(target: target, choices: choices)
    }
}

/// Why a sensitivity analysis cannot run.
public struct SensitivityError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
