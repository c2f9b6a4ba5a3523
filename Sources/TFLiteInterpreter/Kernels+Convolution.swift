import Foundation
import Kernels
import TFLite

// CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED, BATCH_MATMUL. Filters stay in
// TFLite's layouts and are read from the operator's inputs at run time, so a filter computed by
// an earlier operator (DEQUANTIZE of float16 weights, folded while preparing) works like a
// constant one and no weight is held twice: CONV_2D's O×H×W×I filter is the transposed GEMM
// operand of im2col patches; DEPTHWISE_CONV_2D's 1×H×W×(C·M) filter has the memory of the
// H×W×C×M one the graph interpreter's direct kernel reads.

/// The float32 values of a present input (kernels are only called with inputs the executor has).
@inline(__always) func value(_ inputs: [TensorValue?], _ i: Int) -> TensorValue { inputs[i]! }

/// Adds a per-channel bias (channels last) and applies the fused activation, in place.
func finish(_ output: inout [Float], channels: Int, bias: TensorValue?, activation: FusedActivation) {
    let bias = bias.flatMap { channels > 0 && $0.count == channels ? $0.values : nil }
    bias.withOptionalPointer { bias in
        output.withUnsafeMutableBufferPointer { activation.apply($0, channels: max(channels, 1), bias: bias) }
    }
}

/// Checks an optional bias input against the number of output channels.
func checkBias(_ bias: TensorValue?, channels: Int, _ context: OperatorContext) throws {
    guard let bias else { return }
    guard bias.count == channels else { throw context.invalid("the bias has \(bias.count) values for \(channels) output channels") }
}

// MARK: - hybrid input quantization

/// How a hybrid kernel (float input, int8 filter) quantizes its input before the integer
/// product, per LiteRT: symmetric (scale = max|x| / 127, q in −127…127) or asymmetric (the
/// row's [min(x, 0), max(x, 0)] onto −128…127 with a nudged zero point).
enum HybridInputQuantization {
    case symmetric, asymmetric

    /// The values LiteRT's hybrid kernel effectively multiplies: each of `rows` equal rows of
    /// `values` quantized to int8 (`tensor_utils::SymmetricQuantizeFloats` /
    /// `AsymmetricQuantizeFloats`) and scaled back.
    func apply(_ values: [Float], rows: Int) -> [Float] {
        guard rows > 0, !values.isEmpty else { return values }
        let size = values.count / rows
        var result = values
        for row in 0..<rows {
            let start = row * size, end = start + size
            var low = values[start], high = values[start]
            for i in start..<end { low = min(low, values[i]); high = max(high, values[i]) }
            switch self {
            case .symmetric:
                let range = max(abs(low), abs(high))
                if range == 0 {
                    for i in start..<end { result[i] = 0 }
                    continue
                }
                let scale = range / 127, inverse = 127 / range
                for i in start..<end {
                    let q = min(max((values[i] * inverse).rounded(.toNearestOrAwayFromZero), -127), 127)
                    result[i] = (q.isNaN ? -127 : q) * scale
                }
            case .asymmetric:
                let rmin = Double(min(0, low)), rmax = Double(max(0, high))
                if rmin == rmax {
                    for i in start..<end { result[i] = 0 }
                    continue
                }
                let qmin = -128.0, qmax = 127.0
                let scale = (rmax - rmin) / (qmax - qmin)
                let fromMin = qmin - rmin / scale, fromMax = qmax - rmax / scale
                let errorMin = abs(qmin) + abs(rmin / scale), errorMax = abs(qmax) + abs(rmax / scale)
                let zeroPoint = errorMin < errorMax ? fromMin : fromMax
                let nudged: Float = zeroPoint <= qmin ? -128 : zeroPoint >= qmax ? 127 : Float(zeroPoint.rounded(.toNearestOrAwayFromZero))
                let floatScale = Float(scale)
                let inverse = Float(1.0 / Double(floatScale))
                for i in start..<end {
                    let q = min(max((nudged + values[i] * inverse).rounded(.toNearestOrAwayFromZero), -128), 127)
                    result[i] = floatScale * ((q.isNaN ? -128 : q) - nudged)
                }
            }
        }
        return result
    }
}

/// The hybrid mode of an operator whose input 0 is float and whose filter (input 1) is a
/// quantized int8 constant, or nil for a plain float or a fully quantized operator.
func hybridFilterScales(_ context: OperatorContext) -> [Float]? {
    guard context.options.emulateHybridKernels, let input = context.inputStorage(0), let filter = context.inputTensor(1),
          case .float32 = input, filter.type == "int8", case .quantized(let grid)? = context.inputStorage(1), context.isConstant(1)
    else { return nil }
    return grid.scales
}

// MARK: - CONV_2D

func convolutionKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...3, required: 2)
    try context.expectTypes(["float", "quantized"])
    let options = context.options("Conv2DOptions")
    let padding = try options.padding(Field.Conv2DOptions.padding)
    let strideWidth = try options.positive(Field.Conv2DOptions.stride_w, "stride_w")
    let strideHeight = try options.positive(Field.Conv2DOptions.stride_h, "stride_h")
    let dilationWidth = try options.positive(Field.Conv2DOptions.dilation_w_factor, "dilation_w_factor", default: 1)
    let dilationHeight = try options.positive(Field.Conv2DOptions.dilation_h_factor, "dilation_h_factor", default: 1)
    let activation = try options.activation(Field.Conv2DOptions.fused_activation_function)
    if let filter = context.constant(1) {
        guard filter.rank == 4, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not O×H×W×I")
        }
        try checkBias(context.constant(2), channels: filter.shape[0], context)
    }
    // LiteRT: per-channel filter scales (not all equal) → per-image asymmetric input quantization.
    let hybrid: HybridInputQuantization? = hybridFilterScales(context).map { scales in
        scales.count > 1 && scales.contains { $0 != scales[0] } ? .asymmetric : .symmetric
    }
    let prepared = context.constant(1) != nil ? PreparedFilter() : nil
    return Kernel { inputs, workspace in
        let x = value(inputs, 0), filter = value(inputs, 1), bias = inputs.count > 2 ? inputs[2] : nil
        guard x.rank == 4 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×H×W×C") }
        guard filter.rank == 4, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not O×H×W×I")
        }
        let outputChannels = filter.shape[0], groupChannels = filter.shape[3], channels = x.shape[3]
        guard channels > 0, channels % groupChannels == 0, outputChannels % (channels / groupChannels) == 0 else {
            throw context.invalid("an input with \(channels) channels does not fit the filter \(shapeText(filter.shape))")
        }
        try checkBias(bias, channels: outputChannels, context)
        let groups = channels / groupChannels
        let geometry = ConvGeometry(
            batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: channels,
            rows: AxisWindow(window: filter.shape[1], stride: strideHeight, dilation: dilationHeight, padding: padding),
            columns: AxisWindow(window: filter.shape[2], stride: strideWidth, dilation: dilationWidth, padding: padding))
        let shape = [geometry.batch, geometry.outputHeight, geometry.outputWidth, outputChannels]
        let count = try context.count(shape)
        let input = hybrid.map { $0.apply(x.values, rows: geometry.batch) } ?? x.values
        // The bias and clip are applied by each core to the tiles it multiplies; tanh afterwards
        // (so the extremes noted while storing would no longer hold).
        let tanh = if case .tanh = activation { true } else { false }
        func convolved(into output: UnsafeMutablePointer<Float>, adding residual: ConvolutionResidual? = nil) throws {
            try input.withUnsafeBufferPointer { input in
                try filter.values.withUnsafeBufferPointer { filter in
                    try (bias?.values).withOptionalPointer { bias in
                        try convolve(input.baseAddress!, geometry, weights: filter.baseAddress!, layout: .ohwi, groups: groups,
                                     outputChannels: outputChannels, output: output, workspace: workspace, bias: bias,
                                     clip: activation.clip, prepared: prepared, extremes: tanh ? nil : workspace.outputExtremes,
                                     residual: residual)
                    }
                }
            }
        }
        if let residual = workspace.takeResidual() {
            // An ADD the executor fused into this convolution (see `Workspace.residual`): the sum
            // is stored over the other operand as the GEMM stores each tile, else added after.
            guard residual.value.shape == shape, !tanh else {
                throw context.invalid("cannot add a residual of shape \(shapeText(residual.value.shape)) to an output of shape \(shapeText(shape))")
            }
            let clip = residual.clip, extremes = residual.extremes
            var sum = (consume residual).value  // its only reference, unless the tensor lives on
            if convolutionAddsResidual(geometry, groups: groups, outputChannels: outputChannels) {
                try sum.withUnsafeMutableValues { sum in
                    try convolved(into: sum.baseAddress!, adding: ConvolutionResidual(values: sum.baseAddress!, clip: clip, extremes: extremes))
                }
                return [sum]
            }
            let output = try context.tensor(shape, try makeValues(count) { try convolved(into: $0) })
            return [elementwise(output, consume sum, .add, clip: clip, extremes: extremes, into: .second)]
        }
        var output = try makeValues(count) { try convolved(into: $0) }
        if case .tanh = activation { finish(&output, channels: outputChannels, bias: nil, activation: activation) }
        return [try context.tensor(shape, output)]
    }
}

// MARK: - DEPTHWISE_CONV_2D

func depthwiseKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...3, required: 2)
    try context.expectTypes(["float", "quantized"])
    let options = context.options("DepthwiseConv2DOptions")
    let padding = try options.padding(Field.DepthwiseConv2DOptions.padding)
    let strideWidth = try options.positive(Field.DepthwiseConv2DOptions.stride_w, "stride_w")
    let strideHeight = try options.positive(Field.DepthwiseConv2DOptions.stride_h, "stride_h")
    let dilationWidth = try options.positive(Field.DepthwiseConv2DOptions.dilation_w_factor, "dilation_w_factor", default: 1)
    let dilationHeight = try options.positive(Field.DepthwiseConv2DOptions.dilation_h_factor, "dilation_h_factor", default: 1)
    let activation = try options.activation(Field.DepthwiseConv2DOptions.fused_activation_function)
    if let filter = context.constant(1) {
        guard filter.rank == 4, filter.shape[0] == 1, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not 1×H×W×(C·M)")
        }
        try checkBias(context.constant(2), channels: filter.shape[3], context)
    }
    // LiteRT's hybrid depthwise kernel quantizes each image asymmetrically.
    let hybrid: HybridInputQuantization? = hybridFilterScales(context) == nil ? nil : .asymmetric
    return Kernel { inputs, workspace in
        let x = value(inputs, 0), filter = value(inputs, 1), bias = inputs.count > 2 ? inputs[2] : nil
        guard x.rank == 4, x.shape[3] > 0 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×H×W×C") }
        guard filter.rank == 4, filter.shape[0] == 1, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not 1×H×W×(C·M)")
        }
        let channels = x.shape[3], outputChannels = filter.shape[3]
        guard outputChannels % channels == 0 else {
            throw context.invalid("\(outputChannels) filter channels are not a multiple of the input's \(channels) channels")
        }
        try checkBias(bias, channels: outputChannels, context)
        let geometry = ConvGeometry(
            batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: channels,
            rows: AxisWindow(window: filter.shape[1], stride: strideHeight, dilation: dilationHeight, padding: padding),
            columns: AxisWindow(window: filter.shape[2], stride: strideWidth, dilation: dilationWidth, padding: padding))
        let shape = [geometry.batch, geometry.outputHeight, geometry.outputWidth, outputChannels]
        let count = try context.count(shape)
        let input = hybrid.map { $0.apply(x.values, rows: geometry.batch) } ?? x.values
        // The clip is applied (and the extremes noted) as each row is stored; tanh afterwards.
        let tanh = if case .tanh = activation { true } else { false }
        var output = input.withUnsafeBufferPointer { input in
            filter.values.withUnsafeBufferPointer { filter in
                makeValues(count) { output in
                    depthwiseConvolve(input.baseAddress!, geometry, weights: filter.baseAddress!, multiplier: outputChannels / channels,
                                      bias: bias?.values, clip: activation.clip, output: output,
                                      extremes: tanh ? nil : workspace.outputExtremes)
                }
            }
        }
        if tanh { activation.apply(&output) }
        return [try context.tensor(shape, output)]
    }
}

// MARK: - TRANSPOSE_CONV

func transposeConvolutionKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 3...4, required: 3)
    try context.expectTypes(["float", "quantized"], inputs: [1, 2, 3])
    try context.expectTypes(["integer"], inputs: [0], outputs: false)
    let options = context.options("TransposeConvOptions")
    let padding = try options.padding(Field.TransposeConvOptions.padding)
    let strideWidth = try options.positive(Field.TransposeConvOptions.stride_w, "stride_w")
    let strideHeight = try options.positive(Field.TransposeConvOptions.stride_h, "stride_h")
    let activation = try options.activation(Field.TransposeConvOptions.fused_activation_function)
    return Kernel { inputs, workspace in
        let requested = try context.integers(value(inputs, 0), "the output shape")
        let filter = value(inputs, 1), x = value(inputs, 2), bias = inputs.count > 3 ? inputs[3] : nil
        guard requested.count == 4, x.rank == 4, filter.rank == 4, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("needs a 4-value output shape, an O×H×W×I filter and an N×H×W×C input; got \(requested), "
                                  + "\(shapeText(filter.shape)), \(shapeText(x.shape))")
        }
        let outputChannels = filter.shape[0], kernelHeight = filter.shape[1], kernelWidth = filter.shape[2]
        let inputChannels = filter.shape[3]
        let batch = x.shape[0], height = x.shape[1], width = x.shape[2]
        let outputHeight = requested[1], outputWidth = requested[2]
        guard x.shape[3] == inputChannels, requested[3] == outputChannels, outputHeight >= 0, outputWidth >= 0 else {
            throw context.invalid("the output shape \(requested) and input \(shapeText(x.shape)) do not fit the filter \(shapeText(filter.shape))")
        }
        try checkBias(bias, channels: outputChannels, context)
        let shape = [batch, outputHeight, outputWidth, outputChannels]
        let count = try context.count(shape)
        // The padding of the forward convolution from the output size (LiteRT's ComputePaddingHeightWidth).
        func padBefore(_ size: Int, _ window: Int, _ stride: Int) -> Int {
            let forward = padding == .same ? (size + stride - 1) / stride : (size + stride - window) / stride
            return max((forward - 1) * stride + window - size, 0) / 2
        }
        let padTop = padBefore(outputHeight, kernelHeight, strideHeight), padLeft = padBefore(outputWidth, kernelWidth, strideWidth)
        let geometry = TransposeConvGeometry(
            batch: batch, height: height, width: width, inputChannels: inputChannels,
            outputHeight: outputHeight, outputWidth: outputWidth, outputChannels: outputChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: strideHeight, strideWidth: strideWidth,
            padTop: padTop, padLeft: padLeft)
        var output = [Float](repeating: 0, count: count)
        if height * width > 0 && count > 0 {
            _ = try context.count([geometry.imagesPerTile * height * width, geometry.columnCount])
            try x.values.withUnsafeBufferPointer { input in
                try filter.values.withUnsafeBufferPointer { filter in
                    try output.withUnsafeMutableBufferPointer { output in
                        try transposeConvolve(input.baseAddress!, geometry, weights: filter.baseAddress!, layout: .ohwi,
                                              output: output.baseAddress!, workspace: workspace)
                    }
                }
            }
        }
        finish(&output, channels: outputChannels, bias: bias, activation: activation)
        return [try context.tensor(shape, output)]
    }
}

// MARK: - FULLY_CONNECTED

func fullyConnectedKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...3, required: 2)
    try context.expectTypes(["float", "quantized"])
    let options = context.options("FullyConnectedOptions")
    let activation = try options.activation(Field.FullyConnectedOptions.fused_activation_function)
    let format = try options.byte(Field.FullyConnectedOptions.weights_format)
    guard format == FullyConnectedOptionsWeightsFormat.DEFAULT.rawValue else {
        throw context.unsupported("weights format \(FullyConnectedOptionsWeightsFormat(rawValue: format).map { "\($0)" } ?? "\(format)")")
    }
    let keepDimensions = try options.bool(Field.FullyConnectedOptions.keep_num_dims)
    let asymmetric = try options.bool(Field.FullyConnectedOptions.asymmetric_quantize_inputs)
    if let weights = context.constant(1) {
        guard weights.rank == 2, weights.shape[1] >= 1 else { throw context.invalid("the weights of shape \(shapeText(weights.shape)) are not O×I") }
        try checkBias(context.constant(2), channels: weights.shape[0], context)
    }
    let hybrid: HybridInputQuantization? = hybridFilterScales(context) == nil ? nil : asymmetric ? .asymmetric : .symmetric
    let prepared = context.constant(1) != nil ? PreparedFilter() : nil
    return Kernel { inputs, _ in
        let x = value(inputs, 0), weights = value(inputs, 1), bias = inputs.count > 2 ? inputs[2] : nil
        guard weights.rank == 2, weights.shape[1] >= 1 else { throw context.invalid("the weights of shape \(shapeText(weights.shape)) are not O×I") }
        let units = weights.shape[0], depth = weights.shape[1]
        guard x.count % depth == 0, !keepDimensions || x.shape.last == depth else {
            throw context.invalid("the input of shape \(shapeText(x.shape)) does not fit weights of shape \(shapeText(weights.shape))")
        }
        try checkBias(bias, channels: units, context)
        let rows = x.count / depth
        let shape = keepDimensions ? Array(x.shape.dropLast()) + [units] : [rows, units]
        let count = try context.count(shape)
        let input = hybrid.map { $0.apply(x.values, rows: rows) } ?? x.values
        var output = try input.withUnsafeBufferPointer { input in
            try weights.values.withUnsafeBufferPointer { weights in
                try makeValues(count) { output in
                    if count == 0 { return }
                    try dense(input.baseAddress!, rows: rows, inputs: depth, outputs: units, weights: weights.baseAddress!,
                              layout: .oi, output: output, prepared: prepared)
                }
            }
        }
        finish(&output, channels: units, bias: bias, activation: activation)
        return [try context.tensor(shape, output)]
    }
}

// MARK: - BATCH_MATMUL

func batchMatMulKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    try context.expectTypes(["float", "quantized"])
    let options = context.options("BatchMatMulOptions")
    let adjointX = try options.bool(ExtraFields.BatchMatMulOptions.adj_x)
    let adjointY = try options.bool(ExtraFields.BatchMatMulOptions.adj_y)
    return Kernel { inputs, _ in
        let x = value(inputs, 0), y = value(inputs, 1)
        do {
            _ = try context.count(try batchMatMulShape(x.shape, y.shape, adjointX: adjointX, adjointY: adjointY))
            return [try batchMatMul(x, y, adjointX: adjointX, adjointY: adjointY)]
        } catch let error as KernelError {
            throw context.invalid("\(error)")
        }
    }
}
