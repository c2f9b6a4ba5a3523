import GraphIR

/// How `prune-magnitude` chooses the weights it zeroes.
public struct PruningOptions: Sendable {
    public enum Target: Sendable, Equatable {
        /// Zero this fraction of each selected kernel's weights (per-layer) or of all of them (global).
        case sparsity(Double)
        /// Zero every weight with |w| < T.
        case threshold(Float)
    }

    public enum Scope: String, Sendable, CaseIterable {
        /// Each kernel reaches the target sparsity exactly.
        case perLayer = "per-layer"
        /// One ranking over all selected kernels; each kernel's magnitudes are divided by its RMS
        /// first, so a layer with small weights is not emptied just because of its scale.
        case global
    }

    public enum Pattern: String, Sendable, CaseIterable {
        case unstructured
        /// In every group of 4 consecutive weights along the input-channel axis, the 2 smallest are
        /// zeroed (the pattern sparse tensor cores accelerate); exactly 50%.
        case twoFour = "2:4"
    }

    public var target: Target
    public var scope: Scope
    public var pattern: Pattern
    /// Keras layer names left alone.
    public var exclude: Set<String>
    /// Kernels with fewer weights are left alone.
    public var minParams: Int
    /// Leave the first convolution (in graph order) alone.
    public var skipFirstConv: Bool
    /// Leave the layers whose output is a model output alone.
    public var skipOutputLayers: Bool
    /// Per-layer sparsities (a sensitivity plan) that override `target` for the layers named.
    public var perLayer: [String: Double]

    public init(target: Target = .sparsity(0.5), scope: Scope = .perLayer, pattern: Pattern = .unstructured,
                exclude: Set<String> = [], minParams: Int = 1024, skipFirstConv: Bool = false, skipOutputLayers: Bool = false,
                perLayer: [String: Double] = [:]) {
        self.target = target
        self.scope = scope
        self.pattern = pattern
        self.exclude = exclude
        self.minParams = minParams
        self.skipFirstConv = skipFirstConv
        self.skipOutputLayers = skipOutputLayers
        self.perLayer = perLayer
    }
}

/// What pruning did to one kernel.
public struct PrunedWeight: Sendable {
    /// The Keras layer.
    public var layer: String
    public var tensor: String
    public var shape: [Int]
    /// The constant the graph held before (the Keras weight's own data, so callers can map it back).
    public var original: ConstantData
    /// The values after pruning (equal to the original's when nothing was zeroed, e.g. 2:4 on a depthwise kernel).
    public var values: [Float]
    public var zerosBefore: Int
    public var zerosAfter: Int
    public var params: Int { shape.reduce(1, *) }
}

/// `prune-magnitude`: zeroes the smallest-magnitude weights of the kernels of convolution,
/// depthwise, transpose-convolution and dense ops (a separable convolution is a depthwise and a
/// pointwise op, both pruned), of recurrent layers (kernel and recurrent_kernel) and of Embedding
/// tables. Biases, batch norms and kernels under `minParams` are left alone.
/// Without options it prunes every selected kernel to 50%.
///
/// The pass replaces each pruned kernel's constant by a new one, so the Keras weight the graph was
/// built from is not modified; `prune(_:)` returns what it did, with the original constant of each
/// kernel, for callers that write the weights back to a Keras file.
public struct PruneMagnitude: GraphPass {
    public static let id = "prune-magnitude"
    public var options: PruningOptions

    public static var defaultOptions: PruningOptions { PruningOptions() }
    public init(options: PruningOptions) { self.options = options }

    /// Op kind → its weight inputs that are pruned: (input, input-channel axis of that weight in
    /// the IR's Keras layout — the axis 2:4 groups run along).
    static let kernels: [OpKind: [(input: Int, inputAxis: Int)]] = [
        .conv1d: [(1, 1)],            // W × I × O
        .conv2d: [(1, 2)],            // H × W × I × O
        .depthwiseConv2d: [(1, 2)],   // H × W × C × M
        .transposeConv2d: [(1, 3)],   // H × W × O × I
        .fullyConnected: [(1, 0)],    // I × O
        .conv3d: [(1, 3)],            // D × H × W × I × O
        .transposeConv3d: [(1, 4)],   // D × H × W × O × I
        // Recurrent layers: kernel F × G·U and recurrent_kernel U × G·U.
        .simpleRnn: [(1, 0), (2, 0)], .gru: [(1, 0), (2, 0)], .lstm: [(1, 0), (2, 0)],
        .convLstm2d: [(1, 2), (2, 2)],  // H × W × I × 4F and H × W × F × 4F
        .gather: [(0, 1)],            // Embedding: vocabulary × features
    ]

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        let pruned = try prune(graph)
        log.pruned += pruned
        return pruned.contains { $0.zerosAfter != $0.zerosBefore }
    }

    /// Prunes `graph` in place and returns one entry per selected kernel, in graph order.
    public func prune(_ graph: Graph) throws -> [PrunedWeight] {
        struct Selected { var op: Op; var tensor: Tensor; var inputAxis: Int; var layer: String; var values: [Float] }
        var selected: [Selected] = []
        var seen = Set<ObjectIdentifier>()
        let outputs = Set(graph.outputs.map(ObjectIdentifier.init))
        let firstConv = graph.ops.first { [.conv1d, .conv2d, .conv3d, .depthwiseConv2d].contains($0.kind) }
        for op in graph.ops {
            for spec in Self.kernels[op.kind] ?? [] where op.inputs.count > spec.input {
            let kernel = op.inputs[spec.input]
            guard let data = kernel.constant, !seen.contains(ObjectIdentifier(kernel)) else { continue }
            let layer = op.origin?.layer ?? op.name
            if options.exclude.contains(layer) || data.count < options.minParams { continue }
            if options.skipFirstConv, op === firstConv { continue }
            if options.skipOutputLayers, isOutputLayer(op, graph: graph, outputs: outputs) { continue }
            guard kernel.shape.allSatisfy({ $0 != nil }) else { continue }
            seen.insert(ObjectIdentifier(kernel))
            selected.append(Selected(op: op, tensor: kernel, inputAxis: spec.inputAxis, layer: layer,
                                     values: try data.valuesWithoutCaching()))
            }
        }

        // Global scope: one threshold over RMS-normalised magnitudes.
        var globalCutoff: Float?
        if options.scope == .global, options.pattern == .unstructured, case .sparsity(let sparsity) = options.target {
            var scores: [Float] = []
            for item in selected where options.perLayer[item.layer] == nil {
                let rms = Self.rms(item.values)
                scores.append(contentsOf: item.values.map { rms > 0 ? abs($0) / rms : 0 })
            }
            let count = Int((sparsity * Double(scores.count)).rounded())
            if count > 0, !scores.isEmpty {
                scores.sort()
                globalCutoff = scores[min(count, scores.count) - 1]
            }
        }

        var results: [PrunedWeight] = []
        for item in selected {
            let shape = item.tensor.shape.map { $0! }
            let before = item.values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            var values = item.values
            if let sparsity = options.perLayer[item.layer] {
                Self.pruneToSparsity(&values, sparsity)
            } else {
                switch (options.pattern, options.target) {
                case (.twoFour, _):
                    if item.op.kind != .depthwiseConv2d { Self.pruneTwoFour(&values, shape: shape, axis: item.inputAxis) }
                case (.unstructured, .threshold(let threshold)):
                    for index in values.indices where abs(values[index]) < threshold { values[index] = 0 }
                case (.unstructured, .sparsity(let sparsity)):
                    if let cutoff = globalCutoff {
                        let rms = Self.rms(values)
                        for index in values.indices where rms == 0 || abs(values[index]) / rms <= cutoff { values[index] = 0 }
                    } else {
                        Self.pruneToSparsity(&values, sparsity)
                    }
                }
            }
            let after = values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            let original = item.tensor.constant!
            if after != before { item.tensor.constant = ConstantData(values: values) }
            results.append(PrunedWeight(layer: item.layer, tensor: item.tensor.name, shape: shape, original: original,
                                        values: values, zerosBefore: before, zerosAfter: after))
        }
        return results
    }

    private func isOutputLayer(_ op: Op, graph: Graph, outputs: Set<ObjectIdentifier>) -> Bool {
        // The op, or the chain of single-reader ops after it within the same Keras layer (bias,
        // activation), writes a model output.
        var current = op
        while true {
            if current.outputs.contains(where: { outputs.contains(ObjectIdentifier($0)) }) { return true }
            let readers = graph.consumers(of: current.outputs[0])
            guard readers.count == 1, let next = readers.first, next.origin?.layer == op.origin?.layer else { return false }
            current = next
        }
    }

    static func rms(_ values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        var sum = 0.0
        for value in values { sum += Double(value) * Double(value) }
        return Float((sum / Double(values.count)).squareRoot())
    }

    /// Zeroes the round(sparsity · n) smallest magnitudes (ties: lower index first), exactly.
    static func pruneToSparsity(_ values: inout [Float], _ sparsity: Double) {
        let count = min(values.count, Int((sparsity * Double(values.count)).rounded()))
        guard count > 0 else { return }
        var order = Array(values.indices)
        order.sort { a, b in
            let (x, y) = (abs(values[a]), abs(values[b]))
            return x < y || (x == y && a < b)
        }
        for index in order.prefix(count) { values[index] = 0 }
    }

    /// In each group of 4 consecutive weights along `axis`, zeroes the 2 smallest magnitudes (a
    /// trailing group of r < 4 weights loses r / 2).
    static func pruneTwoFour(_ values: inout [Float], shape: [Int], axis: Int) {
        let length = shape[axis]
        let inner = shape.suffix(from: axis + 1).reduce(1, *)
        let outer = shape.prefix(axis).reduce(1, *)
        for o in 0..<outer {
            for r in 0..<inner {
                var start = 0
                while start < length {
                    let size = min(4, length - start)
                    let indices = (start..<(start + size)).map { (o * length + $0) * inner + r }
                    let smallest = indices.sorted { a, b in
                        let (x, y) = (abs(values[a]), abs(values[b]))
                        return x < y || (x == y && a < b)
                    }
                    for index in smallest.prefix(size / 2) { values[index] = 0 }
                    start += 4
                }
            }
        }
    }
}
