import GraphIR

// Convolutions and dense layers. conv1d/conv2d run as im2col + GEMM (a 1×1 stride-1 convolution
// is a GEMM on the input itself); depthwise convolutions run directly, vectorized over channels;
// transposed convolutions run as GEMM + col2im. Weights stay in the IR's Keras layouts, which are
// already the GEMM operands: conv HWIO = [KH·KW·I, O], dense I×O, transpose conv H×W×O×I read as
// [KH·KW·O, I] transposed.

/// How a window op pads one spatial axis.
public enum PaddingMode: String, Sendable {
    case same, valid, causal

    init(_ context: KernelContext, allowCausal: Bool) throws {
        let name = try context.string("padding")
        guard let mode = PaddingMode(rawValue: name), mode != .causal || allowCausal else {
            throw context.unsupported("padding '\(name)'")
        }
        self = mode
    }
}

/// One spatial axis of a sliding window: size, stride, dilation and padding.
public struct AxisWindow: Sendable {
    public var window: Int
    public var stride: Int
    public var dilation: Int = 1
    public var padding: PaddingMode

    public init(window: Int, stride: Int, dilation: Int = 1, padding: PaddingMode) {
        self.window = window
        self.stride = stride
        self.dilation = dilation
        self.padding = padding
    }

    public var effective: Int { (window - 1) * dilation + 1 }

    /// Output length and padding before the first element, TensorFlow's rule: SAME pads
    /// max((⌈n/s⌉ − 1)·s + k_eff − n, 0) in total, the smaller half before (extra at bottom/right);
    /// CAUSAL pads k_eff − 1 before.
    public func plan(_ length: Int) -> (output: Int, before: Int) {
        switch padding {
        case .same:
            let output = (length + stride - 1) / stride
            return (output, max((output - 1) * stride + effective - length, 0) / 2)
        case .valid:
            return (length >= effective ? (length - effective) / stride + 1 : 0, 0)
        case .causal:
            return (length >= 1 ? (length - 1) / stride + 1 : 0, effective - 1)
        }
    }
}

/// A 2-D window over an NHWC batch (1-D ops use height 1).
public struct ConvGeometry: Sendable {
    public var batch, height, width, channels: Int
    public var outputHeight, outputWidth: Int
    public var kernelHeight, kernelWidth: Int
    public var strideHeight, strideWidth: Int
    public var dilationHeight, dilationWidth: Int
    public var padTop, padLeft: Int

    public init(batch: Int, height: Int, width: Int, channels: Int, rows: AxisWindow, columns: AxisWindow) {
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        (outputHeight, padTop) = rows.plan(height)
        (outputWidth, padLeft) = columns.plan(width)
        kernelHeight = rows.window
        kernelWidth = columns.window
        strideHeight = rows.stride
        strideWidth = columns.stride
        dilationHeight = rows.dilation
        dilationWidth = columns.dilation
    }

    public var outputPixels: Int { batch * outputHeight * outputWidth }
}

private func positive(_ values: [Int], _ name: String, _ context: KernelContext) throws {
    guard values.allSatisfy({ $0 >= 1 }) else { throw context.invalid("\(name) \(values) must be ≥ 1") }
}

// MARK: - conv1d / conv2d

func convolutionKernel(_ context: KernelContext, spatialRank: Int) throws -> Kernel {
    try context.expectAttributes(["strides", "dilations", "padding", "groups"])
    let strides = try context.ints("strides", count: spatialRank)
    let dilations = try context.ints("dilations", count: spatialRank)
    try positive(strides, "strides", context)
    try positive(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: spatialRank == 1)
    let groups = try context.int("groups", default: 1)
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
                        depthwiseConvolve(input.baseAddress!, geometry, weights: weights.baseAddress!,
                                          multiplier: outputChannels / groups, bias: bias, output: output)
                        finishChannels(output, count: count, channels: outputChannels, bias: nil, activation: activation)
                    } else {
                        try convolve(input.baseAddress!, geometry, weights: weights.baseAddress!, groups: groups,
                                     outputChannels: outputChannels, output: output, workspace: workspace)
                        finishChannels(output, count: count, channels: outputChannels, bias: bias, activation: activation)
                    }
                }
            }
        }
        return TensorValue(unchecked: outputShape, output)
    }, appliesFusedActivation: true)
}

/// How a convolution's filter is laid out in memory.
public enum FilterLayout: Sendable {
    /// KH×KW×Cg×O (Keras, the graph IR): patches · filter.
    case hwio
    /// O×KH×KW×Cg (TFLite): patches · filterᵀ.
    case ohwi
}

/// Convolution as GEMM: output[pixels, O] = patches[pixels, KH·KW·Cg] · filter per group (the
/// filter transposed for `.ohwi`). Each core takes a contiguous share of the output pixels and
/// builds their patches in its own tiles (together at most `Workspace.budget` floats), then
/// multiplies them single-threaded.
public func convolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, layout: FilterLayout = .hwio,
                     groups: Int, outputChannels: Int, output: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
    let pixels = g.outputPixels
    guard pixels > 0, outputChannels > 0 else { return }
    let groupChannels = g.channels / groups, groupOutputs = outputChannels / groups
    let depth = g.kernelHeight * g.kernelWidth * groupChannels
    let transposed = layout == .ohwi
    let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
        && g.padTop == 0 && g.padLeft == 0 && g.outputHeight == g.height && g.outputWidth == g.width
    if pointwise && groups == 1 {
        try GEMM.parallelMultiply(m: pixels, n: outputChannels, k: g.channels, a: x, lda: g.channels,
                                  b: weights, ldb: transposed ? g.channels : outputChannels, transposeB: transposed,
                                  c: output, ldc: outputChannels)
        return
    }
    try GEMM.check(pixels, outputChannels, depth)
    let workers = max(1, min(Parallel.workers, pixels / 16))
    let tile = max(1, min((pixels + workers - 1) / workers, Workspace.budget / max(depth * workers, 1)))
    let scratch = workspace.scratch(workers * tile * depth)
    Parallel.forEachChunk(pixels, chunks: workers) { worker, share in
        let patches = scratch + worker * tile * depth
        for start in stride(from: share.lowerBound, to: share.upperBound, by: tile) {
            let rows = min(tile, share.upperBound - start)
            for group in 0..<groups {
                im2col(x, g, channelOffset: group * groupChannels, groupChannels: groupChannels,
                       firstPixel: start, pixels: rows, into: patches)
                GEMM.multiply(m: rows, n: groupOutputs, k: depth, a: patches, lda: depth,
                              b: weights + group * groupOutputs * (transposed ? depth : 1),
                              ldb: transposed ? depth : outputChannels, transposeB: transposed,
                              c: output + start * outputChannels + group * groupOutputs, ldc: outputChannels)
            }
        }
    }
}

/// Writes the receptive fields of output pixels firstPixel..<firstPixel+pixels as rows of
/// KH·KW·groupChannels values (kh, kw, c order, zeros where the window leaves the input).
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, channelOffset: Int, groupChannels: Int,
            firstPixel: Int, pixels: Int, into patches: UnsafeMutablePointer<Float>) {
    let depth = g.kernelHeight * g.kernelWidth * groupChannels
    let contiguousRow = g.dilationWidth == 1 && groupChannels == g.channels
    let rowSpan = g.kernelWidth * groupChannels
    for index in 0..<pixels {
        let pixel = firstPixel + index
        let ow = pixel % g.outputWidth
        let rest = pixel / g.outputWidth
        let oh = rest % g.outputHeight, n = rest / g.outputHeight
        var destination = patches + index * depth
        let top = oh * g.strideHeight - g.padTop, left = ow * g.strideWidth - g.padLeft
        let image = x + n * g.height * g.width * g.channels
        for kh in 0..<g.kernelHeight {
            let ih = top + kh * g.dilationHeight
            if ih < 0 || ih >= g.height {
                destination.update(repeating: 0, count: rowSpan)
                destination += rowSpan
                continue
            }
            let inputRow = image + ih * g.width * g.channels
            if contiguousRow && left >= 0 && left + g.kernelWidth <= g.width {
                destination.update(from: inputRow + left * g.channels, count: rowSpan)
                destination += rowSpan
                continue
            }
            for kw in 0..<g.kernelWidth {
                let iw = left + kw * g.dilationWidth
                if iw < 0 || iw >= g.width {
                    destination.update(repeating: 0, count: groupChannels)
                } else {
                    destination.update(from: inputRow + iw * g.channels + channelOffset, count: groupChannels)
                }
                destination += groupChannels
            }
        }
    }
}

// MARK: - depthwise_conv2d

func depthwiseKernel(_ context: KernelContext) throws -> Kernel {
    try context.expectAttributes(["strides", "dilations", "padding"])
    let strides = try context.ints("strides", count: 2), dilations = try context.ints("dilations", count: 2)
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
                    depthwiseConvolve(input.baseAddress!, geometry, weights: weights.baseAddress!, multiplier: multiplier,
                                      bias: bias, output: output)
                    finishChannels(output, count: count, channels: outputChannels, bias: nil, activation: activation)
                }
            }
        }
        return TensorValue(unchecked: [geometry.batch, geometry.outputHeight, geometry.outputWidth, outputChannels], output)
    }, appliesFusedActivation: true)
}

/// Direct depthwise convolution: output channel c·M + m = Σ x[c] · w[kh, kw, c, m] (+ bias),
/// one output row per task, the inner loop over contiguous channels.
public func depthwiseConvolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, multiplier: Int,
                       bias: [Float]?, output: UnsafeMutablePointer<Float>) {
    let channels = g.channels, outputChannels = channels * multiplier
    let rows = g.batch * g.outputHeight
    bias.withOptionalPointer { bias in
        Parallel.forEach(rows, grain: 1) { range in
            for row in range {
                let n = row / g.outputHeight, oh = row % g.outputHeight
                let top = oh * g.strideHeight - g.padTop
                for ow in 0..<g.outputWidth {
                    let accumulator = output + (row * g.outputWidth + ow) * outputChannels
                    if let bias {
                        accumulator.update(from: bias, count: outputChannels)
                    } else {
                        accumulator.update(repeating: 0, count: outputChannels)
                    }
                    let left = ow * g.strideWidth - g.padLeft
                    for kh in 0..<g.kernelHeight {
                        let ih = top + kh * g.dilationHeight
                        if ih < 0 || ih >= g.height { continue }
                        for kw in 0..<g.kernelWidth {
                            let iw = left + kw * g.dilationWidth
                            if iw < 0 || iw >= g.width { continue }
                            let pixel = x + ((n * g.height + ih) * g.width + iw) * channels
                            let tap = weights + (kh * g.kernelWidth + kw) * outputChannels
                            if multiplier == 1 {
                                for c in 0..<channels { accumulator[c] += pixel[c] * tap[c] }
                            } else {
                                for c in 0..<channels {
                                    let value = pixel[c]
                                    let base = c * multiplier
                                    for m in 0..<multiplier { accumulator[base + m] += value * tap[base + m] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
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
    try context.expectAttributes(["strides", "dilations", "padding", "output_padding"])
    let strides = try context.ints("strides", count: 2), dilations = try context.ints("dilations", count: 2)
    try positive(strides, "strides", context)
    try positive(dilations, "dilations", context)
    let padding = try PaddingMode(context, allowCausal: false)
    let outputPadding = try context.optionalInts("output_padding", count: 2)
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
        let columnCount = kernelHeight * kernelWidth * outputChannels
        let imagePixels = height * width
        if imagePixels > 0 && count > 0 {
            let imagesPerTile = max(1, min(batch, Workspace.budget / max(imagePixels * columnCount, 1)))
            let columnsBuffer = workspace.scratch(imagesPerTile * imagePixels * columnCount)
            try x.values.withUnsafeBufferPointer { input in
                try weights.withUnsafeBufferPointer { weights in
                    try output.withUnsafeMutableBufferPointer { output in
                        let output = output.baseAddress!
                        for first in stride(from: 0, to: batch, by: imagesPerTile) {
                            let images = min(imagesPerTile, batch - first)
                            // columns[pixel, (kh, kw, o)] = Σ_i x[pixel, i] · kernel[kh, kw, o, i]
                            try GEMM.parallelMultiply(m: images * imagePixels, n: columnCount, k: inputChannels,
                                              a: input.baseAddress! + first * imagePixels * inputChannels, lda: inputChannels,
                                              b: weights.baseAddress!, ldb: inputChannels, transposeB: true,
                                              c: columnsBuffer, ldc: columnCount)
                            // col2im: each input pixel's columns add into its strided output window.
                            Parallel.forEach(images, grain: 1) { range in
                                for image in range {
                                    let target = output + (first + image) * outputHeight * outputWidth * outputChannels
                                    for ih in 0..<height {
                                        for iw in 0..<width {
                                            let source = columnsBuffer + ((image * height + ih) * width + iw) * columnCount
                                            for kh in 0..<kernelHeight {
                                                let oh = ih * rows.stride - padTop + kh * rows.dilation
                                                if oh < 0 || oh >= outputHeight { continue }
                                                for kw in 0..<kernelWidth {
                                                    let ow = iw * columns.stride - padLeft + kw * columns.dilation
                                                    if ow < 0 || ow >= outputWidth { continue }
                                                    let to = target + (oh * outputWidth + ow) * outputChannels
                                                    let from = source + (kh * kernelWidth + kw) * outputChannels
                                                    for o in 0..<outputChannels { to[o] += from[o] }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
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
    try context.expectAttributes([])
    let kernel = try context.constant(1)
    guard kernel.rank == 2, kernel.count > 0 else { throw context.invalid("kernel shape \(shapeText(kernel.shape)) is not I×O") }
    let inputs = kernel.shape[0], outputs = kernel.shape[1]
    let bias = try context.bias(channels: outputs)
    let activation = try context.fusedActivation()
    let weights = kernel.values
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
                    try GEMM.parallelMultiply(m: rows, n: outputs, k: inputs, a: input.baseAddress!, lda: inputs,
                                              b: weights.baseAddress!, ldb: outputs, c: output, ldc: outputs)
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
    let clip: (low: Float, high: Float)?
    switch activation {
    case .relu?: clip = (0, .infinity)
    case .relu6?: clip = (0, 6)
    default: clip = nil
    }
    if bias != nil || clip != nil {
        bias.withOptionalPointer { bias in
            Parallel.forEach(count / channels, grain: max(1, 16384 / channels)) { range in
                for row in range {
                    let values = output + row * channels
                    switch (bias, clip) {
                    case let (bias?, (low, high)?): for c in 0..<channels { values[c] = min(max(values[c] + bias[c], low), high) }
                    case let (bias?, nil): for c in 0..<channels { values[c] += bias[c] }
                    case let (nil, (low, high)?): for c in 0..<channels { values[c] = min(max(values[c], low), high) }
                    case (nil, nil): break
                    }
                }
            }
        }
    }
    if let activation, clip == nil {
        applyActivation(activation, to: UnsafeMutableBufferPointer(start: output, count: count), lastAxis: channels)
    }
}

extension Optional where Wrapped == [Float] {
    /// Runs `body` with a pointer to the array's elements, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
