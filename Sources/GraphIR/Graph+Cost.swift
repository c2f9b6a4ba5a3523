/// One Keras layer's weight elements and multiply-accumulates per sample.
public struct LayerCost: Sendable, Equatable {
    public var layer: String
    public var className: String
    public var params: Int
    public var macs: Int
}

extension Graph {
    /// Multiply-accumulates one sample costs in `op` (convolutions, depthwise, transposed
    /// convolutions and dense layers), nil for ops without weights to multiply or unknown shapes.
    public func macs(_ op: Op) -> Int? {
        guard op.inputs.count > 1, let weight = op.inputs[1].constant.map({ _ in op.inputs[1] }),
              let weightCount = weight.shape.elementCount, let output = op.outputs.first,
              let outputs = Array(output.shape.dropFirst()).elementCount else { return nil }
        switch op.kind {
        case .conv1d, .conv2d, .conv3d, .fullyConnected:
            guard let channels = weight.shape.last ?? nil, channels > 0 else { return nil }
            return outputs * (op.kind == .fullyConnected ? weight.shape[0] ?? 0 : weightCount / channels)
        case .depthwiseConv2d:
            guard weight.shape.count == 4, let c = weight.shape[2], let m = weight.shape[3], c * m > 0 else { return nil }
            return outputs * (weightCount / (c * m))
        case .transposeConv2d, .transposeConv3d:
            guard let input = Array(op.inputs[0].shape.dropFirst()).elementCount, let channels = weight.shape.last ?? nil, channels > 0 else { return nil }
            return input * (weightCount / channels)
        default:
            return nil
        }
    }

    /// Weight elements and MACs per sample of every Keras layer the graph's ops come from (ops
    /// without an origin count under their own name), in graph order; a constant used by several
    /// ops of one layer counts once.
    public func layerCosts() -> [LayerCost] {
        var order: [String] = []
        var costs: [String: (className: String, params: Int, macs: Int)] = [:]
        var counted = Set<ObjectIdentifier>()
        for op in ops {
            let layer = op.origin?.layer ?? op.name
            if costs[layer] == nil { order.append(layer); costs[layer] = (op.origin?.className ?? op.kind.rawValue, 0, 0) }
            for input in op.inputs where input.isConstant && counted.insert(ObjectIdentifier(input)).inserted {
                costs[layer]!.params += input.shape.compactMap { $0 }.reduce(1, *)
            }
            costs[layer]!.macs += macs(op) ?? 0
        }
        return order.map { LayerCost(layer: $0, className: costs[$0]!.className, params: costs[$0]!.params, macs: costs[$0]!.macs) }
    }
}
