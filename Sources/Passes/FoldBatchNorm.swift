import GraphIR

/// `fold-batchnorm`: folds an inference BatchNormalization into the convolution or dense layer
/// that feeds it, when nothing else reads that layer's output.
///
///     %conv = conv2d(x, k, b) : f32[?,8,8,4]
///     %bn = batch_norm(conv, gamma, beta, mean, var) {epsilon=0.001} : f32[?,8,8,4]
///   →
///     %bn = conv2d(x, k', b') : f32[?,8,8,4]
///
/// with s = gamma / sqrt(var + epsilon) per output channel, k' = k·s along the output-channel
/// axis and b' = (b − mean)·s + beta (b = 0 when the layer had no bias). s and b' are computed in
/// Double; the kernel is scaled in Float when the backend writes it. A BatchNormalization that cannot be folded stays for the backend,
/// which lowers it to a multiply and an add.
public struct FoldBatchNorm: GraphPass {
    public static let id = "fold-batchnorm"
    public init(options: Void) {}

    static let foldable: Set<OpKind> = [.conv1d, .conv2d, .conv3d, .depthwiseConv2d, .transposeConv2d, .fullyConnected]

    public func run(on graph: Graph, log: PassLog) throws -> Bool {
        var changed = false
        for bn in graph.ops where bn.kind == .batchNorm {
            let x = bn.inputs[0]
            guard let producer = graph.producer(of: x), Self.foldable.contains(producer.kind),
                  producer.attributes[.fusedActivation] == nil,
                  graph.consumers(of: x).count == 1, !graph.isGraphOutput(x),
                  producer.inputs[1].isConstant, producer.inputs.count < 3 || producer.inputs[2].isConstant
            else { continue }
            let (scale, shift) = try Self.scaleAndShift(bn)
            let kernel = producer.inputs[1]
            let channels = scale.count
            guard let kernelData = kernel.constant, kernelData.count % channels == 0 else { continue }
            // Elements between consecutive output channels: 1 for channels-last layouts (HWIO, DHWIO, I×O,
            // depthwise H×W×(C·M)), I for transpose_conv2d's H×W×O×I.
            let innerCount = producer.kind == .transposeConv2d ? (kernel.shape[3] ?? 1) : 1
            let factors = scale.map { Float($0) }
            // The folded kernel is computed when it is written, so big models are not held twice.
            let foldedKernel = ConstantData(count: kernelData.count, storedBytes: kernelData.count * 4) {
                var weights = try kernelData.valuesWithoutCaching()
                weights.withUnsafeMutableBufferPointer { buffer in
                    factors.withUnsafeBufferPointer { factors in
                        // Rows of channels × innerCount values; the channel loop of a channels-last
                        // kernel (innerCount 1) is contiguous and vectorizes.
                        let row = channels * innerCount
                        guard row > 0, let base = buffer.baseAddress else { return }
                        for start in stride(from: 0, to: buffer.count - buffer.count % row, by: row) {
                            let values = base + start
                            if innerCount == 1 {
                                for channel in 0..<channels { values[channel] *= factors[channel] }
                            } else {
                                for channel in 0..<channels {
                                    let factor = factors[channel], run = values + channel * innerCount
                                    for inner in 0..<innerCount { run[inner] *= factor }
                                }
                            }
                        }
                    }
                }
                return weights
            }
            let bias = producer.inputs.count > 2 ? try producer.inputs[2].constant!.valuesWithoutCaching() : Array(repeating: 0, count: channels)
            let folded = (0..<channels).map { Float(Double(bias[$0]) * scale[$0] + shift[$0]) }

            let newKernel = Tensor(name: kernel.name, shape: kernel.shape, dtype: .float32, constant: foldedKernel)
            let biasName = producer.inputs.count > 2 ? producer.inputs[2].name : producer.name + "/bias"
            let newBias = Tensor(name: biasName, shape: [channels], dtype: .float32, constant: ConstantData(values: folded))
            producer.inputs = [producer.inputs[0], newKernel, newBias]
            producer.outputs = [bn.outputs[0]]
            producer.name = bn.name
            producer.absorb(bn)
            graph.ops.removeAll { $0 === bn }
            changed = true
        }
        return changed
    }

    /// Per-channel (s, beta − mean·s) of an inference batch norm, in Double.
    static func scaleAndShift(_ bn: Op) throws -> (scale: [Double], shift: [Double]) {
        let hasScale = try bn.attribute(.scaled), hasCenter = try bn.attribute(.centered)
        let epsilon = try bn.attribute(.epsilon)
        var next = 1
        func take() throws -> [Float] {
            defer { next += 1 }
            return try bn.inputs[next].constant?.values() ?? []
        }
        let gamma = hasScale ? try take() : nil
        let beta = hasCenter ? try take() : nil
        let mean = try take(), variance = try take()
        let channels = mean.count
        var scale = [Double](repeating: 0, count: channels), shift = [Double](repeating: 0, count: channels)
        for channel in 0..<channels {
            let s = Double(gamma?[channel] ?? 1) / (Double(variance[channel]) + Double(epsilon)).squareRoot()
            scale[channel] = s
            shift[channel] = Double(beta?[channel] ?? 0) - Double(mean[channel]) * s
        }
        return (scale, shift)
    }
}
