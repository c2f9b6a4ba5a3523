import GraphIR

/// The channel dependency analysis behind `prune-channels`: which output channels (filters,
/// units) can be removed together, and which weights must lose the matching slices.
///
/// Every tensor's last (channel) axis is described as a run of *segments*, each a whole channel
/// *space*. A convolution or dense op creates a new space for its output; ops that keep channels
/// (activations, batch norm, depthwise with multiplier 1, pooling, padding, resizing) pass their
/// input's segments on; Add/Subtract/Multiply/Maximum/Minimum/Average unite the spaces of their
/// inputs (a residual block's channels go together); Concatenate on the channel axis joins the
/// segments; Flatten keeps them, repeated per spatial position, for the Dense behind it. Spaces are
/// merged with union-find; a merged class is a *group*. A group is blocked (kept whole) when one of
/// its channels reaches a model output, an op this analysis does not understand, a tensor of
/// unknown width, a grouped convolution, an excluded layer or a producer whose Keras class has no
/// channel count to rewrite.
struct ChannelGroups {
    /// A run of channels along the last axis: one whole space.
    struct Segment { var space: Int; var count: Int }

    /// The last axis of a tensor: concatenated segments, or a Flatten of them (index = position × C + c).
    enum ChannelMap {
        case channels([Segment])
        case flattened([Segment], positions: Int)

        var segments: [Segment] {
            switch self {
            case .channels(let segments), .flattened(let segments, _): return segments
            }
        }
    }

    /// An op whose output channels are a group's channels: its weight's output axis and its bias.
    struct Producer { var op: Op; var space: Int; var weightInput: Int; var outputAxis: Int }
    /// A weight sliced along `axis` by the channels of `map` (a consumer's input rows, a batch
    /// norm's parameters, a depthwise filter).
    struct Slice { var op: Op; var input: Int; var axis: Int; var map: ChannelMap; var role: Role }
    enum Role { case producerOutput, follower, consumer }

    private(set) var parent: [Int] = []
    private(set) var sizes: [Int] = []
    private(set) var blockedReason: [Int: String] = [:]
    private(set) var producers: [Producer] = []
    private(set) var slices: [Slice] = []
    /// Flatten reshapes whose target shape must follow the kept channels.
    private(set) var flattens: [(op: Op, map: ChannelMap)] = []
    private var maps: [ObjectIdentifier: ChannelMap] = [:]
    private var weightSpaces: [WeightAxis: [Segment]] = [:]
    private struct WeightAxis: Hashable { var tensor: ObjectIdentifier; var axis: Int }

    /// Keras classes whose output channels keraslite can rewrite, with the config key holding the count.
    static let channelKeys: [String: String] = [
        "Dense": "units", "Conv1D": "filters", "Conv2D": "filters", "Conv3D": "filters",
        "SeparableConv1D": "filters", "SeparableConv2D": "filters", "Conv2DTranspose": "filters",
        "Conv3DTranspose": "filters", "Convolution1D": "filters", "Convolution2D": "filters", "Convolution3D": "filters",
        "SeparableConvolution2D": "filters", "Deconvolution2D": "filters", "Conv1DTranspose": "filters",
    ]

    /// Output-channel axis of each producer kind's weight (input 1, Keras layout) and input-channel axis.
    static let producerAxes: [OpKind: (output: Int, input: Int)] = [
        .conv1d: (2, 1), .conv2d: (3, 2), .conv3d: (4, 3), .transposeConv2d: (2, 3), .transposeConv3d: (3, 4), .fullyConnected: (1, 0),
    ]

    static let channelKeeping: Set<OpKind> = [
        .activation, .relu, .leakyRelu, .elu, .softmax, .identity,
        .maxPool1d, .maxPool2d, .avgPool1d, .avgPool2d, .maxPool3d, .avgPool3d,
        .globalAvgPool, .globalMaxPool, .resize, .upsample3d, .repeatVector, .pad,
    ]
    static let elementwise: Set<OpKind> = [.add, .subtract, .multiply, .average, .maximum, .minimum]

    init(graph: Graph, exclude: Set<String>) {
        for input in graph.inputs { maps[ObjectIdentifier(input)] = .channels([fresh(input, blocked: "a model input")]) }
        for op in graph.ops { visit(op, exclude: exclude) }
        for output in graph.outputs { block(map(output), "a model output keeps its width") }
    }

    // MARK: union-find

    func root(_ space: Int) -> Int {
        var space = space
        while parent[space] != space { space = parent[space] }
        return space
    }

    private mutating func unite(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        guard ra != rb else { return }
        parent[rb] = ra
        if let reason = blockedReason[rb], blockedReason[ra] == nil { blockedReason[ra] = reason }
        if sizes[ra] != sizes[rb] { blockedReason[ra] = blockedReason[ra] ?? "channel counts disagree" }
    }

    func reason(_ space: Int) -> String? { blockedReason[root(space)] }

    private mutating func newSpace(_ count: Int, blocked: String? = nil) -> Int {
        parent.append(parent.count)
        sizes.append(count)
        if let blocked { blockedReason[parent.count - 1] = blocked }
        return parent.count - 1
    }

    private mutating func fresh(_ tensor: Tensor, blocked: String) -> Segment {
        let count = tensor.shape.last.flatMap { $0 } ?? 0
        return Segment(space: newSpace(count, blocked: tensor.shape.last.flatMap { $0 } == nil ? "unknown channel count" : blocked), count: count)
    }

    private mutating func block(_ map: ChannelMap?, _ reason: String) {
        for segment in map?.segments ?? [] where blockedReason[root(segment.space)] == nil { blockedReason[root(segment.space)] = reason }
    }

    private mutating func map(_ tensor: Tensor) -> ChannelMap? {
        if tensor.isConstant { return nil }
        if let known = maps[ObjectIdentifier(tensor)] { return known }
        let made = ChannelMap.channels([fresh(tensor, blocked: "produced by an op keraslite does not trace")])
        maps[ObjectIdentifier(tensor)] = made
        return made
    }

    /// Makes two maps one: segment by segment when they line up, else blocks both.
    private mutating func unify(_ a: ChannelMap, _ b: ChannelMap) {
        guard case .channels(let x) = a, case .channels(let y) = b, x.count == y.count,
              zip(x, y).allSatisfy({ $0.count == $1.count }) else {
            block(a, "joined with channels of another layout")
            block(b, "joined with channels of another layout")
            return
        }
        for (s, t) in zip(x, y) { unite(s.space, t.space) }
    }

    /// A weight sliced in two places (a shared layer) must be sliced the same way in both.
    private mutating func noteWeight(_ tensor: Tensor, axis: Int, _ segments: [Segment]) {
        let key = WeightAxis(tensor: ObjectIdentifier(tensor), axis: axis)
        if let earlier = weightSpaces[key] {
            unify(.channels(earlier), .channels(segments))
        } else {
            weightSpaces[key] = segments
        }
    }

    // MARK: ops

    private mutating func visit(_ op: Op, exclude: Set<String>) {
        let x = op.inputs.first.flatMap { $0.isConstant ? nil : $0 }
        let inputMap = x.flatMap { map($0) }
        func pass(_ m: ChannelMap?) { if let m, let output = op.outputs.first { maps[ObjectIdentifier(output)] = m } }
        func opaque(_ reason: String) {
            for input in op.inputs where !input.isConstant { block(map(input), reason) }
            for output in op.outputs { maps[ObjectIdentifier(output)] = .channels([fresh(output, blocked: reason)]) }
        }
        let name = "\(op.kind.rawValue) '\(op.origin?.layer ?? op.name)'"
        let lastDim = x?.shape.last.flatMap { $0 }

        if let axes = Self.producerAxes[op.kind] {
            let weight = op.inputs[1]
            guard weight.isConstant, let x, let inputMap, let outputTensor = op.outputs.first,
                  let outputs = weight.shape[axes.output], (op.attributes[.groups] ?? 1) == 1 else {
                opaque("\(name) has non-constant weights or groups")
                return
            }
            // Its input rows follow the input's channels.
            if case .flattened = inputMap, op.kind != .fullyConnected {
                block(inputMap, "a Flatten feeds \(name)")
            } else if x.shape.count >= 2 {
                slices.append(Slice(op: op, input: 1, axis: axes.input, map: inputMap, role: .consumer))
                noteWeight(weight, axis: axes.input, inputMap.segments)
            }
            var blocked: String? = nil
            if let layer = op.origin?.layer, exclude.contains(layer) { blocked = "excluded" }
            if let className = op.origin?.className, Self.channelKeys[className] == nil { blocked = blocked ?? "\(className) has no channel count to rewrite" }
            let space = newSpace(outputs, blocked: blocked)
            producers.append(Producer(op: op, space: space, weightInput: 1, outputAxis: axes.output))
            let segment = Segment(space: space, count: outputs)
            slices.append(Slice(op: op, input: 1, axis: axes.output, map: .channels([segment]), role: .producerOutput))
            noteWeight(weight, axis: axes.output, [segment])
            if op.inputs.count > 2, op.inputs[2].isConstant {
                slices.append(Slice(op: op, input: 2, axis: 0, map: .channels([segment]), role: .producerOutput))
            }
            maps[ObjectIdentifier(outputTensor)] = .channels([segment])
            return
        }

        switch op.kind {
        case .depthwiseConv2d:
            let filter = op.inputs[1]
            guard filter.isConstant, filter.shape.count == 4, filter.shape[3] == 1, let inputMap, case .channels = inputMap else {
                opaque("\(name) has a depth multiplier above 1")
                return
            }
            slices.append(Slice(op: op, input: 1, axis: 2, map: inputMap, role: .follower))
            noteWeight(filter, axis: 2, inputMap.segments)
            if op.inputs.count > 2, op.inputs[2].isConstant { slices.append(Slice(op: op, input: 2, axis: 0, map: inputMap, role: .follower)) }
            pass(inputMap)
        case .batchNorm, .layerNorm:
            guard let inputMap, case .channels = inputMap, let lastDim else { opaque("\(name) on an unknown layout"); return }
            if op.kind == .layerNorm, let axes = op.attributes[.axes], axes != [-1], axes != [(x?.shape.count ?? 0) - 1] {
                opaque("\(name) normalizes more than the channel axis")
                return
            }
            for index in op.inputs.indices.dropFirst() where op.inputs[index].isConstant && op.inputs[index].shape == [lastDim] {
                slices.append(Slice(op: op, input: index, axis: 0, map: inputMap, role: .follower))
                noteWeight(op.inputs[index], axis: 0, inputMap.segments)
            }
            pass(inputMap)
        case .prelu:
            guard let inputMap, case .channels = inputMap, op.inputs[1].isConstant, let lastDim else { opaque("\(name) on an unknown layout"); return }
            let alpha = op.inputs[1]
            if alpha.shape.last == lastDim, lastDim > 1 {
                slices.append(Slice(op: op, input: 1, axis: alpha.shape.count - 1, map: inputMap, role: .follower))
                noteWeight(alpha, axis: alpha.shape.count - 1, inputMap.segments)
            } else if alpha.shape.last != 1 {
                opaque("\(name) has per-position slopes")
                return
            }
            pass(inputMap)
        case .rescale:
            let scale = op.attributes[.rescaleScale] ?? [], offset = op.attributes[.rescaleOffset] ?? []
            guard scale.count <= 1, offset.count <= 1 else { opaque("\(name) scales per channel"); return }
            pass(inputMap)
        case _ where Self.channelKeeping.contains(op.kind):
            guard let inputMap, let output = op.outputs.first, output.shape.last == x?.shape.last, case .channels = inputMap else {
                opaque("\(name) changes the channel axis")
                return
            }
            pass(inputMap)
        case _ where Self.elementwise.contains(op.kind):
            guard let output = op.outputs.first, let width = output.shape.last.flatMap({ $0 }) else { opaque("\(name) of unknown width"); return }
            var joined: ChannelMap? = nil
            for input in op.inputs {
                if input.isConstant {
                    if input.shape.last.flatMap({ $0 }) ?? 1 > 1 { opaque("\(name) adds a per-channel constant"); return }
                    continue
                }
                guard let m = map(input) else { continue }
                if input.shape.last.flatMap({ $0 }) != width {
                    block(m, "broadcast along the channel axis by \(name)")
                    continue
                }
                if let earlier = joined { unify(earlier, m) } else { joined = m }
            }
            if let joined { pass(joined) } else { opaque("\(name) has no traced input") }
        case .concatenate:
            guard let output = op.outputs.first, let rank = x?.shape.count else { opaque("\(name)"); return }
            var axis = op.attributes[.axis] ?? -1
            if axis < 0 { axis += rank }
            let inputs = op.inputs.map { $0.isConstant ? nil : map($0) }
            if inputs.contains(where: { $0 == nil }) { opaque("\(name) of a constant"); return }
            if inputs.contains(where: { if case .flattened? = $0 { return true }; return false }) { opaque("a Flatten feeds \(name)"); return }
            if axis == rank - 1 {
                maps[ObjectIdentifier(output)] = .channels(inputs.flatMap { $0!.segments })
            } else {
                for m in inputs.dropFirst() { unify(inputs[0]!, m!) }
                pass(inputs[0])
            }
        case .reshape:
            guard let x, let inputMap, let output = op.outputs.first else { opaque("\(name)"); return }
            let inner = Array(x.shape.dropFirst())
            let target = op.attributes[.shape] ?? []
            if case .channels(let segments) = inputMap, inner.count >= 2, inner.allSatisfy({ $0 != nil }),
               output.shape.count == 2, target.count == 1 {
                let positions = inner.dropLast().reduce(1) { $0 * $1! }
                let flattened = ChannelMap.flattened(segments, positions: positions)
                flattens.append((op, flattened))
                maps[ObjectIdentifier(output)] = flattened
            } else if output.shape.last == x.shape.last, output.shape.count >= 2, case .channels = inputMap, target.last != nil, target.last != -1 {
                pass(inputMap)  // a reshape that keeps the channel axis
            } else {
                opaque("\(name) mixes the channel axis with others")
            }
        case .identity:
            pass(inputMap)
        default:
            opaque("\(name) is not traced by channel pruning")
        }
        // A Flatten's output reaching anything but a Dense (handled above) is blocked.
        for input in op.inputs where !input.isConstant {
            if case .flattened? = maps[ObjectIdentifier(input)] { block(maps[ObjectIdentifier(input)], "a Flatten feeds \(name)") }
        }
    }

    /// The channel indices of `map` that remain when each group keeps `kept[root]` (nil: all of it).
    func keptIndices(_ map: ChannelMap, kept: [Int: [Int]]) -> [Int] {
        var channels: [Int] = []
        var offset = 0
        for segment in map.segments {
            channels += (kept[root(segment.space)] ?? Array(0..<segment.count)).map { $0 + offset }
            offset += segment.count
        }
        guard case .flattened(_, let positions) = map else { return channels }
        return (0..<positions).flatMap { position in channels.map { position * offset + $0 } }
    }

    /// Total width of a map's last axis (before pruning).
    func width(_ map: ChannelMap) -> Int {
        let channels = map.segments.reduce(0) { $0 + $1.count }
        if case .flattened(_, let positions) = map { return channels * positions }
        return channels
    }
}
