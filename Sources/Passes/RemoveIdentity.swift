import GraphIR

/// `remove-identity`: drops `identity` ops (Dropout, SpatialDropout, GaussianNoise, … at inference).
///
///     %conv = conv2d(x, k) : f32[?,8,8,4]          %dropout = conv2d(x, k) : f32[?,8,8,4]
///     %dropout = identity(conv) : f32[?,8,8,4]  →  output dropout
///     output dropout
///
/// When the identity's output is a graph output, its producer takes over the output's name so the
/// model keeps the Keras output name; an identity straight from a graph input stays.
public struct RemoveIdentity: GraphPass {
    public static let id = "remove-identity"
    public init(options: Void) {}

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        var changed = false
        for op in graph.ops where op.kind == .identity {
            let input = op.inputs[0], output = op.outputs[0]
            if graph.isGraphOutput(output) {
                // Keep the output's name on the surviving tensor, unless that tensor is itself a
                // graph input or output (then the identity has to stay to give both names).
                guard !graph.isGraphInput(input), !graph.isGraphOutput(input), !input.isConstant,
                      let producer = graph.producer(of: input) else { continue }
                producer.outputs = producer.outputs.map { $0 === input ? output : $0 }
                graph.replaceUses(of: input, with: output)
            } else {
                graph.replaceUses(of: output, with: input)
            }
            graph.ops.removeAll { $0 === op }
            changed = true
        }
        return changed
    }
}
