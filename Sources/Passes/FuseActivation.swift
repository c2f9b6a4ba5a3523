import GraphIR

/// `fuse-activation`: merges a ReLU or ReLU6 into the op that produces its input, as the
/// `fused_activation` attribute TFLite kernels apply for free.
///
///     %conv/conv2d = conv2d(x, k, b) : f32[?,8,8,4]
///     %conv = activation(conv/conv2d) {function=relu} : f32[?,8,8,4]
///   →
///     %conv = conv2d(x, k, b) {fused_activation=relu} : f32[?,8,8,4]
///
/// Only where the producer's output has no other reader and is not a graph output; only into the
/// ops whose TFLite kernels honour a fused activation (conv, depthwise conv, fully connected,
/// add, sub, mul, pooling).
public struct FuseActivation: GraphPass {
    public static let id = "fuse-activation"
    public init(options: Void) {}

    static let fusable: Set<OpKind> = [.conv2d, .depthwiseConv2d, .fullyConnected, .add, .subtract, .multiply,
                                       .maxPool2d, .avgPool2d]
    static let functions: Set<ActivationFunction> = [.relu, .relu6]

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        var changed = false
        for activation in graph.ops where activation.kind == .activation {
            guard let function = activation.attributes[.function], Self.functions.contains(function) else { continue }
            let x = activation.inputs[0]
            guard let producer = graph.producer(of: x), Self.fusable.contains(producer.kind),
                  producer.attributes[.fusedActivation] == nil,
                  graph.consumers(of: x).count == 1, !graph.isGraphOutput(x) else { continue }
            producer.attributes[.fusedActivation] = function
            producer.outputs = [activation.outputs[0]]
            producer.name = activation.name
            producer.absorb(activation)
            graph.ops.removeAll { $0 === activation }
            changed = true
        }
        return changed
    }
}
