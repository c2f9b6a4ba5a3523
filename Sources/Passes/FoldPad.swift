import GraphIR

/// `fold-pad`: removes a zero PAD in front of a VALID convolution or depthwise convolution when
/// the padding equals what SAME padding adds at that size and stride — then the conv is SAME.
///
///     %pad = pad(x) {paddings=[0,0,0,1,0,1,0,0]} : f32[1,17,17,8]
///     %dw = depthwise_conv2d(pad, k) {padding=valid, strides=[2,2]} : f32[1,8,8,8]
///   →
///     %dw = depthwise_conv2d(x, k) {padding=same, strides=[2,2]} : f32[1,8,8,8]
///
/// SAME pads total = max((⌈n/s⌉ − 1)·s + (k − 1)·d + 1 − n, 0), ⌊total/2⌋ before and the rest after
/// (TensorFlow's rule, which TFLite kernels share). Keras' MobileNet `correct_pad` is exactly this on
/// even sizes; ResNet's ZeroPadding2D(3) before a 7×7/2 conv is not, and stays a PAD.
public struct FoldPad: GraphPass {
    public static let id = "fold-pad"
    public init(options: Void) {}

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        var changed = false
        for pad in graph.ops where pad.kind == .pad {
            guard let paddings = pad.attributes[.paddings], paddings.count == 8,
                  paddings[0] == 0, paddings[1] == 0, paddings[6] == 0, paddings[7] == 0 else { continue }
            let padded = pad.outputs[0], x = pad.inputs[0]
            let consumers = graph.consumers(of: padded)
            guard consumers.count == 1, let conv = consumers.first, !graph.isGraphOutput(padded),
                  conv.kind == .conv2d || conv.kind == .depthwiseConv2d, conv.inputs[0] === padded,
                  conv.attributes[.padding] == "valid",
                  let strides = conv.attributes[.strides], let dilations = conv.attributes[.dilations]
            else { continue }
            var equivalent = true
            for axis in 0..<2 {
                guard let size = x.shape[axis + 1], let window = conv.inputs[1].shape[axis] else { equivalent = false; break }
                let effective = (window - 1) * dilations[axis] + 1
                let outputSize = (size + strides[axis] - 1) / strides[axis]
                let total = max((outputSize - 1) * strides[axis] + effective - size, 0)
                if paddings[2 + 2 * axis] != total / 2 || paddings[3 + 2 * axis] != total - total / 2 { equivalent = false }
            }
            guard equivalent else { continue }
            conv.inputs[0] = x
            conv.absorb(pad)
            conv.attributes[.padding] = "same"
            graph.ops.removeAll { $0 === pad }
            changed = true
        }
        return changed
    }
}
