import GraphIR
import Kernels

// Convolutions and dense layers. conv1d/conv2d run as im2col + GEMM (a 1×1 stride-1 convolution
// is a GEMM on the input itself); depthwise convolutions run directly, vectorized over channels;
// transposed convolutions run as GEMM + col2im. Weights stay in the IR's Keras layouts, which are
// already the GEMM operands: conv HWIO = [KH·KW·I, O], dense I×O, transpose conv H×W×O×I read as
// [KH·KW·O, I] transposed.

private func positive(_ values: [Int], _ name: String, _ context: KernelContext) throws {
    guard values.allSatisfy({ $0 >= 1 }) else { throw context.invalid("\(name) \(values) must be ≥ 1") }
}

// MARK: - conv1d / conv2d

func convolutionKernel(_ context: KernelContext, spatialRank: Int) throws -> Kernel {
    let strides = try context.attribute(.strides, count: spatialRank)
    let dilations = try context.attribute(.dilations, count: spatialRank)
    try positive(strides, "strides", context)
    try positive(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: spatialRank == 1)
    let groups = try context.attribute(.groups)
    let kernel = try context.constant(1)
    guard kernel.rank == spatialRank + 2, kernel.shape.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not a \(spatialRank)-D convolution kernel")
    }
    let groupChannels = kernel.shape[spatialRank], outputChannels = kernel.shape[spatialRank + 1]
    guard groups >= 1, outputChannels % groups == 0 else {
        throw context.invalid("\(outputChannels) output channels do not split into \(groups) groups")
    }
    let bias = try context.bias(channels: outputChannels)
    let activation = try context.fusedActivation()
    // 1-D: height 1; the K×I×O kernel has the memory of 1×K×I×O.
    let rows = spatialRank == 2
        ? AxisWindow(window: kernel.shape[0], stride: strides[0], dilation: dilations[0], padding: padding)
        : AxisWindow(window: 1, stride: 1, padding: .valid)
    let columns = AxisWindow(window: kernel.shape[spatialRank - 1], stride: strides[spatialRank - 1],
                             dilation: dilations[spatialRank - 1], padding: padding)
    let weights = kernel.values
    // One group per input channel is a depthwise convolution (ConvNeXt): kernel H×W×1×(C·M) has
    // the memory of the depthwise H×W×C×M.
    let depthwise = groups > 1 && groupChannels == 1
    let prepared = PreparedFilter()

    return Kernel(run: { inputs, workspace in
        let x = inputs[0]
        guard x.rank == spatialRank + 2 else {
            throw context.invalid("input shape \(shapeText(x.shape)) needs rank \(spatialRank + 2)")
        }
        let channels = x.shape[spatialRank + 1]
        guard channels == groupChannels * groups else {
            throw context.invalid("input has \(channels) channels, the kernel expects \(groupChannels) × \(groups) groups")
        }
        let geometry = ConvGeometry(batch: x.shape[0], height: spatialRank == 2 ? x.shape[1] : 1, width: x.shape[spatialRank],
                                    channels: channels, rows: rows, columns: columns)
        let outputShape = spatialRank == 2
            ? [geometry.batch, geometry.outputHeight, geometry.outputWidth, outputChannels]
            : [geometry.batch, geometry.outputWidth, outputChannels]
        let count = geometry.outputPixels * outputChannels
        let output = try x.values.withUnsafeBufferPointer { input in
            try weights.withUnsafeBufferPointer { weights in
                try makeValues(count) { output in
                    if depthwise {
                        // relu / relu6 as each row is stored; any other activation afterwards.
                        let clip = activation.flatMap(ActivationClip.init)
                        depthwiseConvolve(input.baseAddress!, geometry, weights: weights.baseAddress!,
                                          multiplier: outputChannels / groups, bias: bias, clip: clip, output: output)
                        if clip == nil { finishChannels(output, count: count, channels: outputChannels, bias: nil, activation: activation) }
                    } else {
                        // Bias and relu/relu6 per multiplied tile; any other activation afterwards.
                        let clip = activation.flatMap(ActivationClip.init)
                        try bias.withOptionalPointer { bias in
                            try convolve(input.baseAddress!, geometry, weights: weights.baseAddress!, groups: groups,
                                         outputChannels: outputChannels, output: output, workspace: workspace, bias: bias, clip: clip,
                                         prepared: prepared)
                        }
                        if clip == nil { finishChannels(output, count: count, channels: outputChannels, bias: nil, activation: activation) }
                    }
                }
            }
        }
        return TensorValue(unchecked: outputShape, output)
    }, appliesFusedActivation: true)
}


// MARK: - depthwise_conv2d

func depthwiseKernel(_ context: KernelContext) throws -> Kernel {
    let strides = try context.attribute(.strides, count: 2), dilations = try context.attribute(.dilations, count: 2)
    try positive(strides, "strides", context)
    try positive(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: false)
    let kernel = try context.constant(1)
    guard kernel.rank == 4, kernel.shape.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not H×W×C×M")
    }
    let kernelChannels = kernel.shape[2], multiplier = kernel.shape[3]
    let bias = try context.bias(channels: kernelChannels * multiplier)
    let activation = try context.fusedActivation()
    let rows = AxisWindow(window: kernel.shape[0], stride: strides[0], dilation: dilations[0], padding: padding)
    let columns = AxisWindow(window: kernel.shape[1], stride: strides[1], dilation: dilations[1], padding: padding)
    let weights = kernel.values
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank == 4, x.shape[3] == kernelChannels else {
            throw context.invalid("input shape \(shapeText(x.shape)) does not fit the H×W×\(kernelChannels)×\(multiplier) kernel")
        }
        let geometry = ConvGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: kernelChannels,
                                    rows: rows, columns: columns)
        let outputChannels = kernelChannels * multiplier
        let count = geometry.outputPixels * outputChannels
        let output = x.values.withUnsafeBufferPointer { input in
            weights.withUnsafeBufferPointer { weights in
                makeValues(count) { output in
                    // relu / relu6 as each row is stored; any other activation afterwards.
                    let clip = activation.flatMap(ActivationClip.init)
                    depthwiseConvolve(input.baseAddress!, geometry, weights: weights.baseAddress!, multiplier: multiplier,
                                      bias: bias, clip: clip, output: output)
                    if clip == nil { finishChannels(output, count: count, channels: outputChannels, bias: nil, activation: activation) }
                }
            }
        }
        return TensorValue(unchecked: [geometry.batch, geometry.outputHeight, geometry.outputWidth, outputChannels], output)
    }, appliesFusedActivation: true)
}

// MARK: - transpose_conv2d

/// Keras' deconv_output_length.
func transposedLength(_ length: Int, window: AxisWindow, outputPadding: Int?) -> Int {
    let effective = window.effective
    guard let outputPadding else {
        return window.padding == .valid ? length * window.stride + max(effective - window.stride, 0) : length * window.stride
    }
    let pad = window.padding == .same ? effective / 2 : 0
    return (length - 1) * window.stride + effective - 2 * pad + outputPadding
}

func transposeConvolutionKernel(_ context: KernelContext) throws -> Kernel {
    let strides = try context.attribute(.strides, count: 2), dilations = try context.attribute(.dilations, count: 2)
    try positive(strides, "strides", context)
    try positive(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: false)
    let outputPadding = try context.optionalAttribute(.outputPadding, count: 2)
    let kernel = try context.constant(1)
    guard kernel.rank == 4, kernel.shape.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not H×W×O×I")
    }
    let kernelHeight = kernel.shape[0], kernelWidth = kernel.shape[1]
    let outputChannels = kernel.shape[2], inputChannels = kernel.shape[3]
    let bias = try context.bias(channels: outputChannels)
    let activation = try context.fusedActivation()
    let rows = AxisWindow(window: kernelHeight, stride: strides[0], dilation: dilations[0], padding: padding)
    let columns = AxisWindow(window: kernelWidth, stride: strides[1], dilation: dilations[1], padding: padding)
    let weights = kernel.values
    return Kernel(run: { inputs, workspace in
        let x = inputs[0]
        guard x.rank == 4, x.shape[3] == inputChannels else {
            throw context.invalid("input shape \(shapeText(x.shape)) does not fit the H×W×\(outputChannels)×\(inputChannels) kernel")
        }
        let batch = x.shape[0], height = x.shape[1], width = x.shape[2]
        let outputHeight = transposedLength(height, window: rows, outputPadding: outputPadding?[0])
        let outputWidth = transposedLength(width, window: columns, outputPadding: outputPadding?[1])
        guard outputHeight >= 0, outputWidth >= 0 else { throw context.invalid("negative output size") }
        _ = try context.elementCount([batch, outputHeight, outputWidth, outputChannels])
        // TensorFlow's conv2d_transpose: the padding of the forward convolution it is the gradient of.
        let padTop = padding == .same ? max((height - 1) * rows.stride + rows.effective - outputHeight, 0) / 2 : 0
        let padLeft = padding == .same ? max((width - 1) * columns.stride + columns.effective - outputWidth, 0) / 2 : 0
        let count = batch * outputHeight * outputWidth * outputChannels
        var output = [Float](repeating: 0, count: count)
        let geometry = TransposeConvGeometry(
            batch: batch, height: height, width: width, inputChannels: inputChannels,
            outputHeight: outputHeight, outputWidth: outputWidth, outputChannels: outputChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: rows.stride, strideWidth: columns.stride,
            dilationHeight: rows.dilation, dilationWidth: columns.dilation, padTop: padTop, padLeft: padLeft)
        try x.values.withUnsafeBufferPointer { input in
            try weights.withUnsafeBufferPointer { weights in
                try output.withUnsafeMutableBufferPointer { output in
                    guard let input = input.baseAddress, let weights = weights.baseAddress, let output = output.baseAddress else { return }
                    try transposeConvolve(input, geometry, weights: weights, layout: .hwoi, output: output, workspace: workspace)
                }
            }
        }
        output.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            finishChannels(base, count: count, channels: outputChannels, bias: bias, activation: activation)
        }
        return TensorValue(unchecked: [batch, outputHeight, outputWidth, outputChannels], output)
    }, appliesFusedActivation: true)
}

// MARK: - fully_connected

func fullyConnectedKernel(_ context: KernelContext) throws -> Kernel {
    let kernel = try context.constant(1)
    guard kernel.rank == 2, kernel.count > 0 else { throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not I×O") }
    let inputs = kernel.shape[0], outputs = kernel.shape[1]
    let bias = try context.bias(channels: outputs)
    let activation = try context.fusedActivation()
    let weights = kernel.values
    let prepared = PreparedFilter()
    return Kernel(run: { values, _ in
        let x = values[0]
        guard x.rank >= 2, x.shape.last == inputs else {
            throw context.invalid("input shape \(shapeText(x.shape)) does not fit the \(inputs)×\(outputs) kernel")
        }
        let rows = x.count / inputs
        let count = rows * outputs
        let output = try x.values.withUnsafeBufferPointer { input in
            try weights.withUnsafeBufferPointer { weights in
                try makeValues(count) { output in
                    try dense(input.baseAddress!, rows: rows, inputs: inputs, outputs: outputs, weights: weights.baseAddress!,
                              layout: .io, output: output, prepared: prepared)
                    finishChannels(output, count: count, channels: outputs, bias: bias, activation: activation)
                }
            }
        }
        return TensorValue(unchecked: Array(x.shape.dropLast()) + [outputs], output)
    }, appliesFusedActivation: true)
}

// MARK: - epilogue

/// Adds a per-channel bias (channels last) and applies a fused activation, in one pass over the
/// output; relu and relu6 (what fuse-activation produces) inline, other functions afterwards.
func finishChannels(_ output: UnsafeMutablePointer<Float>, count: Int, channels: Int, bias: [Float]?, activation: ActivationFunction?) {
    guard count > 0, channels > 0 else { return }
    let clip = activation.flatMap(ActivationClip.init)
    bias.withOptionalPointer { bias in addBiasAndClip(output, count: count, channels: channels, bias: bias, clip: clip) }
    if let activation, clip == nil {
        applyActivation(activation, to: UnsafeMutableBufferPointer(start: output, count: count), lastAxis: channels)
    }
}

extension ActivationClip {
    /// The clip a fused relu or relu6 amounts to; nil for every other activation.
    init?(_ activation: ActivationFunction) {
        switch activation {
        case .relu: self = .relu
        case .relu6: self = .relu6
        default: return nil
        }
    }
}

extension PaddingMode {
    /// The op's `padding` attribute; `causal` only where the op allows it (conv1d).
    init(_ context: KernelContext, allowCausal: Bool) throws {
        let name = try context.attribute(.padding)
        guard let mode = PaddingMode(rawValue: name), mode != .causal || allowCausal else {
            throw context.unsupported("padding '\(name)'")
        }
        self = mode
    }
}
