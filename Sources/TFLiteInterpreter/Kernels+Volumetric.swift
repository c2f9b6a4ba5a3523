import Foundation
import Kernels
import TFLite

// CONV_3D and CONV_3D_TRANSPOSE. Both filters are read in LiteRT's layouts — D×H×W×I×O and
// D×H×W×O×I, which are also Keras' — from the operator's inputs at run time, so float16 weights
// behind DEQUANTIZE work like constant ones.

private struct Conv3DParameters {
    var padding: PaddingMode
    /// Depth, height, width.
    var strides, dilations: [Int]
    var activation: FusedActivation

    init(_ context: OperatorContext) throws {
        let options = context.options("Conv3DOptions")
        padding = try options.padding(Field.Conv3DOptions.padding)
        strides = [try options.positive(Field.Conv3DOptions.stride_d, "stride_d"),
                   try options.positive(Field.Conv3DOptions.stride_h, "stride_h"),
                   try options.positive(Field.Conv3DOptions.stride_w, "stride_w")]
        dilations = [try options.positive(Field.Conv3DOptions.dilation_d_factor, "dilation_d_factor", default: 1),
                     try options.positive(Field.Conv3DOptions.dilation_h_factor, "dilation_h_factor", default: 1),
                     try options.positive(Field.Conv3DOptions.dilation_w_factor, "dilation_w_factor", default: 1)]
        activation = try options.activation(Field.Conv3DOptions.fused_activation_function)
    }

    func windows(_ filter: TensorValue, padding: PaddingMode? = nil) -> [AxisWindow] {
        (0..<3).map { AxisWindow(window: filter.shape[$0], stride: strides[$0], dilation: dilations[$0], padding: padding ?? self.padding) }
    }
}

// MARK: - CONV_3D

func convolution3DKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...3, required: 2)
    try context.expectTypes(["float"])
    let parameters = try Conv3DParameters(context)
    if let filter = context.constant(1) {
        guard filter.rank == 5, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not D×H×W×I×O")
        }
        try checkBias(context.constant(2), channels: filter.shape[4], context)
    }
    return Kernel { inputs, workspace in
        let x = value(inputs, 0), filter = value(inputs, 1), bias = inputs.count > 2 ? inputs[2] : nil
        guard x.rank == 5 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×D×H×W×C") }
        guard filter.rank == 5, filter.shape.allSatisfy({ $0 >= 1 }), filter.shape[3] == x.shape[4] else {
            throw context.invalid("the filter of shape \(shapeText(filter.shape)) is not D×H×W×I×O for the input \(shapeText(x.shape))")
        }
        let outputChannels = filter.shape[4]
        try checkBias(bias, channels: outputChannels, context)
        let geometry = VolumeGeometry(batch: x.shape[0], sizes: Array(x.shape[1...3]), channels: x.shape[4],
                                      windows: parameters.windows(filter))
        let shape = [geometry.batch] + geometry.outputSizes + [outputChannels]
        let count = try context.count(shape)
        var output = try x.values.withUnsafeBufferPointer { input in
            try filter.values.withUnsafeBufferPointer { filter in
                try makeValues(count) { output in
                    try convolve3D(input.baseAddress!, geometry, weights: filter.baseAddress!, outputChannels: outputChannels,
                                   output: output, workspace: workspace)
                }
            }
        }
        finish(&output, channels: outputChannels, bias: bias, activation: parameters.activation)
        return [try context.tensor(shape, output)]
    }
}

// MARK: - CONV_3D_TRANSPOSE

func transposeConvolution3DKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 3...4, required: 3)
    try context.expectTypes(["float"], inputs: [1, 2, 3])
    try context.expectTypes(["integer"], inputs: [0], outputs: false)
    let parameters = try Conv3DParameters(context)
    return Kernel { inputs, workspace in
        let requested = try context.integers(value(inputs, 0), "the output shape")
        let filter = value(inputs, 1), x = value(inputs, 2), bias = inputs.count > 3 ? inputs[3] : nil
        guard requested.count == 5, x.rank == 5, filter.rank == 5, filter.shape.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("needs a 5-value output shape, a D×H×W×O×I filter and an N×D×H×W×C input; got \(requested), "
                                  + "\(shapeText(filter.shape)), \(shapeText(x.shape))")
        }
        let outputChannels = filter.shape[3], inputChannels = filter.shape[4]
        let outputSizes = Array(requested[1...3]), sizes = Array(x.shape[1...3])
        guard x.shape[4] == inputChannels, requested[4] == outputChannels, requested[0] == x.shape[0],
              outputSizes.allSatisfy({ $0 >= 0 }) else {
            throw context.invalid("the output shape \(requested) and input \(shapeText(x.shape)) do not fit the filter \(shapeText(filter.shape))")
        }
        try checkBias(bias, channels: outputChannels, context)
        let shape = [x.shape[0]] + outputSizes + [outputChannels]
        let count = try context.count(shape)
        // The forward convolution of the output: LiteRT's ComputePadding3DValues from the output size.
        let windows = parameters.windows(filter)
        var geometry = VolumeGeometry(batch: x.shape[0], sizes: outputSizes, channels: outputChannels, windows: windows)
        guard geometry.outputSizes == sizes else {
            throw context.invalid("the output shape \(requested) does not convolve back to the input \(shapeText(x.shape))")
        }
        geometry.outputSizes = sizes
        var output = [Float](repeating: 0, count: count)
        if count > 0 && sizes.reduce(1, *) > 0 {
            try x.values.withUnsafeBufferPointer { input in
                try filter.values.withUnsafeBufferPointer { filter in
                    try output.withUnsafeMutableBufferPointer { output in
                        try transposeConvolve3D(input.baseAddress!, geometry, inputChannels: inputChannels, weights: filter.baseAddress!,
                                                output: output.baseAddress!, workspace: workspace)
                    }
                }
            }
        }
        finish(&output, channels: outputChannels, bias: bias, activation: parameters.activation)
        return [try context.tensor(shape, output)]
    }
}
