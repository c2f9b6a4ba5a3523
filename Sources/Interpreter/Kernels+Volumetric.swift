import GraphIR
import Kernels

// conv3d and transpose_conv3d (im2col + GEMM, GEMM + col2im), max/avg_pool3d and upsample3d over
// NDHWC tensors. Kernels keep the IR's Keras layouts, which are the volumetric cores' own.

private func positiveValues(_ values: [Int], _ name: String, _ context: KernelContext) throws {
    guard values.allSatisfy({ $0 >= 1 }) else { throw context.invalid("\(name) \(values) must be ≥ 1") }
}

private func requireVolume(_ x: TensorValue, _ context: KernelContext) throws {
    guard x.rank == 5 else { throw context.invalid("input shape \(shapeText(x.shape)) needs rank 5 (N×D×H×W×C)") }
}

/// The 5-D filter of a 3-D (transposed) convolution, checked (`layout` names its axes in errors),
/// and its three spatial windows from the op's strides, dilations and padding.
private func volumeFilter(_ context: KernelContext, layout: String) throws -> (kernel: TensorValue, windows: [AxisWindow]) {
    let strides = try context.attribute(.strides, count: 3), dilations = try context.attribute(.dilations, count: 3)
    try positiveValues(strides, "strides", context)
    try positiveValues(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: false)
    let kernel = try context.constant(1)
    guard kernel.rank == 5, kernel.shape.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not \(layout)")
    }
    let windows = (0..<3).map { AxisWindow(window: kernel.shape[$0], stride: strides[$0], dilation: dilations[$0], padding: padding) }
    return (kernel, windows)
}

func convolution3DKernel(_ context: KernelContext) throws -> Kernel {
    let (kernel, windows) = try volumeFilter(context, layout: "D×H×W×I×O")
    let inputChannels = kernel.shape[3], outputChannels = kernel.shape[4]
    let bias = try context.bias(channels: outputChannels)
    let weights = kernel.values
    return Kernel(run: { inputs, workspace in
        let x = inputs[0]
        try requireVolume(x, context)
        guard x.shape[4] == inputChannels else {
            throw context.invalid("input has \(x.shape[4]) channels, the kernel expects \(inputChannels)")
        }
        let geometry = VolumeGeometry(batch: x.shape[0], sizes: Array(x.shape[1...3]), channels: inputChannels, windows: windows)
        let shape = [geometry.batch] + geometry.outputSizes + [outputChannels]
        let count = try context.elementCount(shape)
        let output = try x.values.withUnsafeBufferPointer { input in
            try weights.withUnsafeBufferPointer { weights in
                try makeValues(count) { output in
                    try convolve3D(input.baseAddress!, geometry, weights: weights.baseAddress!, outputChannels: outputChannels,
                                   output: output, workspace: workspace)
                    finishChannels(output, count: count, channels: outputChannels, bias: bias, activation: nil)
                }
            }
        }
        return TensorValue(unchecked: shape, output)
    })
}

func transposeConvolution3DKernel(_ context: KernelContext) throws -> Kernel {
    let (kernel, windows) = try volumeFilter(context, layout: "D×H×W×O×I")
    let outputPadding = try context.optionalAttribute(.outputPadding, count: 3)
    let outputChannels = kernel.shape[3], inputChannels = kernel.shape[4]
    let bias = try context.bias(channels: outputChannels)
    let weights = kernel.values
    return Kernel(run: { inputs, workspace in
        let x = inputs[0]
        try requireVolume(x, context)
        guard x.shape[4] == inputChannels else {
            throw context.invalid("input shape \(shapeText(x.shape)) does not fit the D×H×W×\(outputChannels)×\(inputChannels) kernel")
        }
        let sizes = Array(x.shape[1...3])
        let outputSizes = (0..<3).map { transposedLength(sizes[$0], window: windows[$0], outputPadding: outputPadding?[$0]) }
        guard outputSizes.allSatisfy({ $0 >= 0 }) else { throw context.invalid("negative output size") }
        let shape = [x.shape[0]] + outputSizes + [outputChannels]
        let count = try context.elementCount(shape)
        // The forward convolution this is the gradient of: output sizes in, input sizes out, and
        // TensorFlow's conv3d_transpose padding.
        var geometry = VolumeGeometry(batch: x.shape[0], sizes: outputSizes, channels: outputChannels,
                                      windows: windows.map { AxisWindow(window: $0.window, stride: $0.stride, dilation: $0.dilation, padding: .valid) })
        geometry.outputSizes = sizes
        geometry.padBefore = (0..<3).map { axis in
            windows[axis].padding == .same ? max((sizes[axis] - 1) * windows[axis].stride + windows[axis].effective - outputSizes[axis], 0) / 2 : 0
        }
        var output = [Float](repeating: 0, count: count)
        try x.values.withUnsafeBufferPointer { input in
            try weights.withUnsafeBufferPointer { weights in
                try output.withUnsafeMutableBufferPointer { output in
                    guard let input = input.baseAddress, let weights = weights.baseAddress, let output = output.baseAddress else { return }
                    try transposeConvolve3D(input, geometry, inputChannels: inputChannels, weights: weights, output: output, workspace: workspace)
                    finishChannels(output, count: count, channels: outputChannels, bias: bias, activation: nil)
                }
            }
        }
        return TensorValue(unchecked: shape, output)
    })
}

/// max/avg_pool3d with TensorFlow's border windows (see `pool3D`).
func pool3DKernel(_ context: KernelContext, isMax: Bool) throws -> Kernel {
    let size = try context.attribute(.poolSize, count: 3), strides = try context.attribute(.strides, count: 3)
    try positiveValues(size + strides, "pool_size / strides", context)
    let padding = try PaddingMode(context, allowCausal: false)
    let windows = (0..<3).map { AxisWindow(window: size[$0], stride: strides[$0], padding: padding) }
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        try requireVolume(x, context)
        let geometry = VolumeGeometry(batch: x.shape[0], sizes: Array(x.shape[1...3]), channels: x.shape[4], windows: windows)
        let shape = [geometry.batch] + geometry.outputSizes + [geometry.channels]
        let count = try context.elementCount(shape)
        let output = x.values.withUnsafeBufferPointer { input in
            makeValues(count) { output in pool3D(input.baseAddress!, geometry, isMax ? .maximum : .average, output: output) }
        }
        return TensorValue(unchecked: shape, output)
    })
}

/// UpSampling3D: every element repeated `scale` times along D, H and W (Keras' ops.repeat).
func upsample3DKernel(_ context: KernelContext) throws -> Kernel {
    let scale = try context.attribute(.resizeScale, count: 3)
    try positiveValues(scale, "scale", context)
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        try requireVolume(x, context)
        let shape = [x.shape[0]] + (0..<3).map { x.shape[$0 + 1] * scale[$0] } + [x.shape[4]]
        _ = try context.elementCount(shape)
        let lists = [Array(0..<x.shape[0])] + (0..<3).map { axis in (0..<shape[axis + 1]).map { $0 / scale[axis] } } + [Array(0..<x.shape[4])]
        return TensorValue(unchecked: shape, selectAlongAxes(x, lists))
    })
}
