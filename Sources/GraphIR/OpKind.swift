/// The IR's op set: one level above TFLite builtins and close to Keras layer semantics, channels-last.
///
/// Weight layouts stay Keras': conv2d filter HWIO, depthwise filter H×W×C×M, transpose_conv2d
/// filter H×W×O×I, fully_connected kernel I×O, conv3d D×H×W×I×O, transpose_conv3d D×H×W×O×I.
/// Lowering to a backend reorders them.
public enum OpKind: String, Sendable, CaseIterable {
    case conv1d, conv2d
    case depthwiseConv2d = "depthwise_conv2d"
    case transposeConv2d = "transpose_conv2d"
    case fullyConnected = "fully_connected"
    case batchNorm = "batch_norm"
    case layerNorm = "layer_norm"
    case activation, relu
    case leakyRelu = "leaky_relu"
    case prelu, elu, softmax
    case maxPool1d = "max_pool1d", maxPool2d = "max_pool2d"
    case avgPool1d = "avg_pool1d", avgPool2d = "avg_pool2d"
    case globalAvgPool = "global_avg_pool", globalMaxPool = "global_max_pool"
    case reshape, transpose
    case repeatVector = "repeat_vector"
    case pad, slice, resize
    case add, subtract, multiply, average, maximum, minimum, concatenate
    case identity, rescale, normalize
    case batchMatmul = "batch_matmul"
    case l2Normalize = "l2_normalize"
    // Volumetric (NDHWC): OpSchema+Volumetric.swift.
    case conv3d
    case transposeConv3d = "transpose_conv3d"
    case maxPool3d = "max_pool3d", avgPool3d = "avg_pool3d"
    case upsample3d
    // Recurrent and text (OpSchema+Recurrent.swift).
    case simpleRnn = "simple_rnn", gru, lstm, gather, cast, reverse
    case sequenceMask = "sequence_mask"
    // Convolutional recurrent (OpSchema+ConvRecurrent.swift).
    case convLstm2d = "conv_lstm2d"
}

/// Pointwise activation functions of the `activation` op (attribute `function`).
///
/// Where Keras versions disagree the variants are distinct: `hard_sigmoid` is Keras 3's
/// relu6(x+3)/6, `hard_sigmoid_keras2` is Keras 2's clip(0.2x+0.5, 0, 1).
public enum ActivationFunction: String, Sendable, CaseIterable {
    case linear, relu, relu6, sigmoid, tanh, softmax
    case hardSigmoid = "hard_sigmoid"
    case hardSigmoidKeras2 = "hard_sigmoid_keras2"
    case swish
    case hardSwish = "hard_swish"
    case gelu
    case geluTanh = "gelu_tanh"
    case elu, selu, softplus, softsign, exponential
    case leakyRelu = "leaky_relu"
    case logSoftmax = "log_softmax"
    case mish
}
