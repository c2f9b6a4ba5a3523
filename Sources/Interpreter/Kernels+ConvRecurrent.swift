import GraphIR
import Kernels

// conv_lstm2d: Kernels' ConvLSTMLayer (input convolutions of all frames as one im2col + GEMM,
// then per step the recurrent convolution and the LSTM cell).

func convLSTMKernel(_ context: KernelContext) throws -> Kernel {
    let strides = try context.attribute(.strides, count: 2), dilations = try context.attribute(.dilations, count: 2)
    guard (strides + dilations).allSatisfy({ $0 >= 1 }) else { throw context.invalid("strides \(strides) and dilations \(dilations) must be ≥ 1") }
    let padding = try PaddingMode(context, allowCausal: false)
    let kernel = try context.constant(1), recurrent = try context.constant(2)
    guard kernel.rank == 4, recurrent.rank == 4, recurrent.shape[3] == 4 * recurrent.shape[2], kernel.shape[3] == recurrent.shape[3],
          kernel.shape.allSatisfy({ $0 >= 1 }), recurrent.shape.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("kernels \(shapeText(kernel.shape)) and \(shapeText(recurrent.shape)) are not ConvLSTM2D's [KH, KW, C, 4F] and [RH, RW, F, 4F]")
    }
    let filters = recurrent.shape[2]
    let bias = context.op.inputs.count > 3 ? try context.constant(3).values : nil
    let activation = try context.attribute(.cellActivation), gateActivation = try context.attribute(.recurrentActivation)
    guard activation != .softmax, activation != .logSoftmax, gateActivation != .softmax, gateActivation != .logSoftmax else {
        throw context.unsupported("softmax as a ConvLSTM2D activation")
    }
    var layer = ConvLSTMLayer(filters: filters, kernel: kernel.values, kernelSize: (kernel.shape[0], kernel.shape[1]),
                              recurrentKernel: recurrent.values, recurrentKernelSize: (recurrent.shape[0], recurrent.shape[1]), bias: bias,
                              rows: AxisWindow(window: kernel.shape[0], stride: strides[0], dilation: dilations[0], padding: padding),
                              columns: AxisWindow(window: kernel.shape[1], stride: strides[1], dilation: dilations[1], padding: padding),
                              activation: { applyActivation(activation, to: $0, lastAxis: filters) },
                              recurrentActivation: { applyActivation(gateActivation, to: $0, lastAxis: filters) })
    layer.returnSequences = try context.attribute(.returnSequences)
    layer.goBackwards = try context.attribute(.goBackwards)
    let frozen = layer
    return .outputs { inputs, workspace in
        do {
            return try frozen.run(inputs[0], workspace: workspace)
        } catch let error as KernelError {
            throw context.invalid("\(error)")
        }
    }
}
