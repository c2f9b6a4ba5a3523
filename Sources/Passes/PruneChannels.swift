import GraphIR

/// How `prune-channels` chooses the channels it removes.
public struct ChannelPruningOptions: Sendable {
    public enum Criterion: String, Sendable, CaseIterable {
        /// Sum of |w| of each output channel's weights, over every producer of the group.
        case l1
        /// Euclidean norm of each output channel's weights, over every producer of the group.
        case l2
        /// |γ| of the BatchNormalization layers that scale the group's channels (l1 where none does).
        case bnGamma = "bn-gamma"
    }

    /// Fraction of each group's channels to remove (per-layer), or of all prunable channels (global), in [0, 1).
    public var fraction: Double
    public var criterion: Criterion
    /// per-layer: every group loses `fraction`; global: one ranking of all channels, each scored
    /// relative to its group's mean, so a group of small weights is not emptied for its scale.
    public var scope: PruningOptions.Scope
    /// Kept channel counts are rounded up to a multiple of this (SIMD-friendly widths).
    public var roundTo: Int
    /// Keras layers whose output channels are kept (their inputs still follow pruned producers).
    public var exclude: Set<String>
    /// Per-layer fractions (a sensitivity plan) keyed by a producing Keras layer; they override `fraction`.
    public var perLayer: [String: Double]

    public init(fraction: Double = 0.5, criterion: Criterion = .l1, scope: PruningOptions.Scope = .perLayer, roundTo: Int = 1,
                exclude: Set<String> = [], perLayer: [String: Double] = [:]) {
        self.fraction = fraction
        self.criterion = criterion
        self.scope = scope
        self.roundTo = roundTo
        self.exclude = exclude
        self.perLayer = perLayer
    }
}

/// What `prune-channels` did.
public struct ChannelPruning: Sendable {
    /// Channels that are removed together (one producer, or the producers a residual Add joins).
    public struct Group: Sendable, Equatable {
        /// The Keras layers that produce the channels, in graph order.
        public var layers: [String]
        public var before: Int
        public var after: Int
        /// Why the group was kept whole, or nil.
        public var keptBecause: String?
        /// The criterion the ranking used (`bn-gamma` falls back to `l1` without a batch norm).
        public var criterion: ChannelPruningOptions.Criterion
    }

    /// A weight that lost slices: the Keras weight (`original`, its own data) and its new values.
    public struct ResizedWeight: Sendable {
        public var layer: String
        public var tensor: String
        public var original: ConstantData
        public var shapeBefore: [Int]
        public var shape: [Int]
        public var values: [Float]
    }

    /// A Keras layer whose channel count (`filters` / `units`) changed.
    public struct LayerChange: Sendable, Equatable {
        public var layer: String
        public var className: String
        public var key: String
        public var before: Int
        public var after: Int
    }

    public var groups: [Group]
    public var weights: [ResizedWeight]
    public var layers: [LayerChange]

    /// One line: channels removed, in how many groups, how many kept whole.
    public var summary: String {
        let before = groups.reduce(0) { $0 + $1.before }, after = groups.reduce(0) { $0 + $1.after }
        let pruned = groups.filter { $0.after < $0.before }.count, whole = groups.filter { $0.keptBecause != nil }.count
        return "channels: \(before) → \(after) (\(before - after) removed) in \(pruned) of \(groups.count) groups; \(whole) kept whole"
    }
}

/// `prune-channels`: removes whole output channels (filters, units) of convolution, separable,
/// transposed-convolution and dense layers, ranked by a criterion, together with everything that
/// depends on them (`ChannelGroups`): the batch norms and depthwise filters that follow them, the
/// input rows of the next layers (a Dense behind Flatten loses one row per spatial position), the
/// other producers a residual Add joins. Model outputs keep their width. The graph's constants are
/// replaced (the Keras weights are not modified) and its shapes re-inferred; the result lists the
/// resized weights with their original data, so callers can write a smaller Keras file.
public struct PruneChannels: GraphPass {
    public static let id = "prune-channels"
    public var options: ChannelPruningOptions

    public static var defaultOptions: ChannelPruningOptions { ChannelPruningOptions() }
    public init(options: ChannelPruningOptions) { self.options = options }

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        let result = try prune(graph)
        log.channelPruning = result
        return result.groups.contains { $0.after < $0.before }
    }

    /// Prunes `graph` in place.
    public func prune(_ graph: Graph) throws -> ChannelPruning {
        let analysis = ChannelGroups(graph: graph, exclude: options.exclude)
        // Groups in graph order of their first producer.
        var order: [Int] = []
        var producers: [Int: [ChannelGroups.Producer]] = [:]
        for producer in analysis.producers {
            let root = analysis.root(producer.space)
            if producers[root] == nil { order.append(root) }
            producers[root, default: []].append(producer)
        }

        // Importance of every channel of every group.
        var importance: [Int: [Double]] = [:]
        var criterion: [Int: ChannelPruningOptions.Criterion] = [:]
        let gammas = try options.criterion == .bnGamma ? batchNormGammas(analysis) : [:]
        for root in order {
            let count = analysis.sizes[root]
            if options.criterion == .bnGamma, let gamma = gammas[root] {
                importance[root] = gamma
                criterion[root] = .bnGamma
                continue
            }
            var sums = [Double](repeating: 0, count: count)
            for producer in producers[root]! {
                let weight = producer.op.inputs[producer.weightInput]
                let norms = Self.channelSums(try weight.constant!.values(), shape: weight.shape.map { $0 ?? 1 }, axis: producer.outputAxis,
                                             squared: options.criterion == .l2)
                for (index, value) in norms.enumerated() where index < count { sums[index] += value }
            }
            importance[root] = options.criterion == .l2 ? sums.map { $0.squareRoot() } : sums
            criterion[root] = options.criterion == .l2 ? .l2 : .l1
        }

        // How many channels each group keeps.
        var keptCount: [Int: Int] = [:]
        var globalRoots: [Int] = []
        for root in order {
            let count = analysis.sizes[root]
            guard analysis.reason(root) == nil, count > 1 else { continue }
            if let fraction = producers[root]!.lazy.compactMap({ $0.op.origin.flatMap { options.perLayer[$0.layer] } }).first {
                keptCount[root] = keep(count, removing: Int((fraction * Double(count)).rounded()))
            } else if options.scope == .global {
                globalRoots.append(root)
            } else {
                keptCount[root] = keep(count, removing: Int((options.fraction * Double(count)).rounded()))
            }
        }
        if !globalRoots.isEmpty {
            var scores: [(score: Double, root: Int)] = []
            for root in globalRoots {
                let values = importance[root]!
                let mean = values.reduce(0, +) / Double(values.count)
                scores += values.map { (mean > 0 ? $0 / mean : 0, root) }
            }
            scores.sort { $0.score < $1.score }
            var removed: [Int: Int] = [:]
            for entry in scores.prefix(Int((options.fraction * Double(scores.count)).rounded())) { removed[entry.root, default: 0] += 1 }
            for root in globalRoots { keptCount[root] = keep(analysis.sizes[root], removing: removed[root] ?? 0) }
        }
        var kept: [Int: [Int]] = [:]
        for (root, count) in keptCount where count < analysis.sizes[root] {
            let values = importance[root]!
            let ranked = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
            kept[root] = Array(ranked.prefix(count)).sorted()
        }

        // Slice every weight the kept channels touch: all axes of one weight at once.
        struct Cut { var tensor: Tensor; var op: Op; var axes: [Int: [Int]] }
        var cuts: [ObjectIdentifier: Cut] = [:]
        var cutOrder: [ObjectIdentifier] = []
        for slice in analysis.slices {
            let indices = analysis.keptIndices(slice.map, kept: kept)
            guard indices.count < analysis.width(slice.map) else { continue }
            let tensor = slice.op.inputs[slice.input]
            let key = ObjectIdentifier(tensor)
            if cuts[key] == nil { cuts[key] = Cut(tensor: tensor, op: slice.op, axes: [:]); cutOrder.append(key) }
            if cuts[key]!.axes[slice.axis] == nil { cuts[key]!.axes[slice.axis] = indices }
        }
        var resized: [ChannelPruning.ResizedWeight] = []
        for key in cutOrder {
            let cut = cuts[key]!
            guard let data = cut.tensor.constant else { continue }
            var shape = cut.tensor.shape.map { $0 ?? 1 }
            var values = try data.values()
            for (axis, indices) in cut.axes.sorted(by: { $0.key < $1.key }) {
                values = Self.select(values, shape: shape, axis: axis, indices: indices)
                shape[axis] = indices.count
            }
            let replacement = Tensor(name: cut.tensor.name, shape: shape.map(Optional.some), dtype: cut.tensor.dtype,
                                     constant: ConstantData(values: values))
            graph.replaceUses(of: cut.tensor, with: replacement)
            resized.append(.init(layer: cut.op.origin?.layer ?? cut.op.name, tensor: cut.tensor.name, original: data,
                                 shapeBefore: cut.tensor.shape.map { $0 ?? 1 }, shape: shape, values: values))
        }
        for (op, map) in analysis.flattens {
            let width = analysis.keptIndices(map, kept: kept).count
            if width < analysis.width(map) { op.attributes[.shape] = [width] }
        }
        try graph.reinferShapes()

        var groups: [ChannelPruning.Group] = []
        var layers: [ChannelPruning.LayerChange] = []
        var seenLayers = Set<String>()
        for root in order {
            let before = analysis.sizes[root], after = kept[root]?.count ?? before
            let names = producers[root]!.map { $0.op.origin?.layer ?? $0.op.name }
            var reason = analysis.reason(root)
            if reason == nil, before <= 1 { reason = "a single channel" }
            groups.append(.init(layers: names.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }, before: before, after: after,
                                keptBecause: reason, criterion: criterion[root] ?? options.criterion))
            guard after < before else { continue }
            for producer in producers[root]! {
                guard let origin = producer.op.origin, let key = ChannelGroups.channelKeys[origin.className],
                      seenLayers.insert(origin.layer).inserted else { continue }
                layers.append(.init(layer: origin.layer, className: origin.className, key: key, before: before, after: after))
            }
        }
        return ChannelPruning(groups: groups, weights: resized, layers: layers)
    }

    /// The kept count after removing `removing` of `count`: at least one, rounded up to `roundTo`.
    private func keep(_ count: Int, removing: Int) -> Int {
        var kept = max(1, count - max(0, removing))
        let step = max(1, options.roundTo)
        kept = ((kept + step - 1) / step) * step
        return min(count, kept)
    }

    /// |γ| per channel of each group, from the batch norms that scale exactly its channels.
    private func batchNormGammas(_ analysis: ChannelGroups) throws -> [Int: [Double]] {
        var result: [Int: [Double]] = [:]
        for slice in analysis.slices where slice.role == .follower && slice.op.kind == .batchNorm && slice.input == 1
            && slice.op.attributes[.scaled] != false {
            guard case .channels(let segments) = slice.map, let gamma = slice.op.inputs[1].constant else { continue }
            let values = try gamma.values()
            var offset = 0
            for segment in segments {
                let root = analysis.root(segment.space)
                var sums = result[root] ?? [Double](repeating: 0, count: segment.count)
                for index in 0..<segment.count where offset + index < values.count { sums[index] += Double(abs(values[offset + index])) }
                result[root] = sums
                offset += segment.count
            }
        }
        return result
    }

    /// Σ|v| (or Σv²) over everything but `axis`, per index along `axis`.
    static func channelSums(_ values: [Float], shape: [Int], axis: Int, squared: Bool) -> [Double] {
        let count = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var sums = [Double](repeating: 0, count: count)
        for (index, value) in values.enumerated() {
            let channel = (index / inner) % count
            sums[channel] += squared ? Double(value) * Double(value) : Double(abs(value))
        }
        return sums
    }

    /// The entries of `values` (row-major `shape`) whose index along `axis` is in `indices`, in that order.
    static func select(_ values: [Float], shape: [Int], axis: Int, indices: [Int]) -> [Float] {
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), count = shape[axis]
        var result: [Float] = []
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let start = (o * count + index) * inner
                result.append(contentsOf: values[start..<(start + inner)])
            }
        }
        return result
    }
}
