import Foundation
import GraphIR
import Kernels
import Passes
import Testing
@testable import Interpreter

/// One op at a time on small tensors; expectations are computed by hand (spelled out in the
/// comments) or by a direct loop in the test, never taken from the interpreter.
@Suite struct KernelTests {
    // MARK: convolutions

    @Test func conv2dSameStride2PadsBottomRight() throws {
        // 6×6 input x[i, j] = 6i + j, 3×3 kernel of ones, stride 2, SAME: output 3×3, total padding
        // (3−1)·2 + 3 − 6 = 1 per axis, all of it after (TensorFlow), none before.
        let x = (0..<36).map(Float.init)
        let graph = try oneOpGraph(.conv2d, input: [nil, 6, 6, 1], constants: [constant("k", [3, 3, 1, 1], Array(repeating: 1, count: 9))],
                                   ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("same")])
        let y = try run(graph, [1, 6, 6, 1], x)
        #expect(y.shape == [1, 3, 3, 1])
        // out[0,0] = rows 0–2 × cols 0–2 = (0+1+2) + (6+7+8) + (12+13+14) = 63
        // out[2,2] = rows 4–5 × cols 4–5 (row/col 6 is padding) = 28 + 29 + 34 + 35 = 126
        // out[0,2] = rows 0–2 × cols 4–5 = (4+5) + (10+11) + (16+17) = 63
        #expect(y.values[0] == 63)
        #expect(y.values[8] == 126)
        #expect(y.values[2] == 63)
    }

    @Test(arguments: [
        // (input H, W, kernel, strides, dilations, padding, groups)
        (7, 6, [3, 3], [2, 2], [1, 1], "same", 1),
        (8, 8, [3, 3], [1, 1], [2, 2], "same", 1),
        (9, 7, [3, 5], [2, 1], [1, 1], "same", 1),
        (7, 7, [3, 3], [2, 2], [1, 1], "valid", 1),
        (6, 6, [1, 1], [1, 1], [1, 1], "valid", 1),  // the pointwise GEMM path
        (6, 6, [1, 1], [2, 2], [1, 1], "same", 1),
        (6, 5, [3, 3], [1, 1], [1, 1], "same", 2),  // grouped
        (6, 5, [3, 3], [1, 1], [1, 1], "same", 4),  // one group per channel: the depthwise path
    ])
    func conv2dMatchesDirectLoop(height: Int, width: Int, window: [Int], strides: [Int], dilations: [Int], padding: String, groups: Int) throws {
        let channels = 4, outputs = 8, batch = 2
        let kernelShape = [window[0], window[1], channels / groups, outputs]
        let kernel = pseudoRandom(kernelShape.reduce(1, *), seed: 1), bias = pseudoRandom(outputs, seed: 2)
        let x = pseudoRandom(batch * height * width * channels, seed: 3)
        var attributes: Attributes = ["strides": .ints(strides), "dilations": .ints(dilations), "padding": .string(padding)]
        if groups > 1 { attributes[.groups] = groups }
        let graph = try oneOpGraph(.conv2d, input: [nil, height, width, channels],
                                   constants: [constant("k", kernelShape, kernel), constant("b", [outputs], bias)], attributes)
        let y = try run(graph, [batch, height, width, channels], x)
        let rows = padding == "same" ? samePadding(height, window: window[0], stride: strides[0], dilation: dilations[0])
            : validPadding(height, window: window[0], stride: strides[0], dilation: dilations[0])
        let cols = padding == "same" ? samePadding(width, window: window[1], stride: strides[1], dilation: dilations[1])
            : validPadding(width, window: window[1], stride: strides[1], dilation: dilations[1])
        #expect(y.shape == [batch, rows.output, cols.output, outputs])
        let expected = naiveConv2D(x, [batch, height, width, channels], kernel, kernelShape, strides: strides, dilations: dilations,
                                   groups: groups, outputHeight: rows.output, outputWidth: cols.output,
                                   padTop: rows.before, padLeft: cols.before, bias: bias)
        expectClose(y.values, expected)
    }

    @Test(arguments: [("valid", 1, 1), ("same", 2, 1), ("causal", 1, 2), ("causal", 2, 1)])
    func conv1dMatchesDirectLoop(padding: String, stride: Int, dilation: Int) throws {
        let length = 9, channels = 3, outputs = 5, window = 3
        let kernel = pseudoRandom(window * channels * outputs, seed: 4), x = pseudoRandom(2 * length * channels, seed: 5)
        let graph = try oneOpGraph(.conv1d, input: [nil, length, channels], constants: [constant("k", [window, channels, outputs], kernel)],
                                   ["strides": .ints([stride]), "dilations": .ints([dilation]), "padding": .string(padding)])
        let y = try run(graph, [2, length, channels], x)
        let effective = (window - 1) * dilation + 1
        let (outputLength, before): (Int, Int)
        switch padding {
        case "valid": (outputLength, before) = ((length - effective) / stride + 1, 0)
        case "same": (outputLength, before) = samePadding(length, window: window, stride: stride, dilation: dilation)
        default: (outputLength, before) = ((length - 1) / stride + 1, effective - 1)  // causal: all padding on the left
        }
        #expect(y.shape == [2, outputLength, outputs])
        let expected = naiveConv2D(x, [2, 1, length, channels], kernel, [1, window, channels, outputs], strides: [1, stride],
                                   dilations: [1, dilation], outputHeight: 1, outputWidth: outputLength, padTop: 0, padLeft: before)
        expectClose(y.values, expected)
    }

    @Test func depthwiseMultiplier2ByHand() throws {
        // 1×2×2×2 input, 1×1 kernel, multiplier 2: output channel c·2 + m = x[c] · k[c, m].
        // x = [[1, 10], [2, 20], [3, 30], [4, 40]] per pixel; k = [[1, 2], [3, 4]] (c × m); bias [0, 0, 0, 0.5]
        let graph = try oneOpGraph(.depthwiseConv2d, input: [nil, 2, 2, 2],
                                   constants: [constant("k", [1, 1, 2, 2], [1, 2, 3, 4]), constant("b", [4], [0, 0, 0, 0.5])],
                                   ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("valid")])
        let y = try run(graph, [1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40])
        #expect(y.shape == [1, 2, 2, 4])
        // pixel (1, 10): [1·1, 1·2, 10·3, 10·4 + 0.5] = [1, 2, 30, 40.5]
        #expect(Array(y.values[0..<4]) == [1, 2, 30, 40.5])
        #expect(Array(y.values[12..<16]) == [4, 8, 120, 160.5])
    }

    @Test(arguments: [("same", 2, 1), ("valid", 1, 1), ("same", 1, 2)])
    func depthwiseMultiplier2MatchesDirectLoop(padding: String, stride: Int, dilation: Int) throws {
        let (height, width, channels, multiplier) = (7, 6, 3, 2)
        let kernel = pseudoRandom(3 * 3 * channels * multiplier, seed: 6), x = pseudoRandom(2 * height * width * channels, seed: 7)
        let graph = try oneOpGraph(.depthwiseConv2d, input: [nil, height, width, channels],
                                   constants: [constant("k", [3, 3, channels, multiplier], kernel)],
                                   ["strides": .ints([stride, stride]), "dilations": .ints([dilation, dilation]), "padding": .string(padding)])
        let y = try run(graph, [2, height, width, channels], x)
        let rows = padding == "same" ? samePadding(height, window: 3, stride: stride, dilation: dilation)
            : validPadding(height, window: 3, stride: stride, dilation: dilation)
        let cols = padding == "same" ? samePadding(width, window: 3, stride: stride, dilation: dilation)
            : validPadding(width, window: 3, stride: stride, dilation: dilation)
        // Depthwise = grouped convolution with one group per channel: kernel H×W×1×(C·M) (same memory).
        let expected = naiveConv2D(x, [2, height, width, channels], kernel, [3, 3, 1, channels * multiplier], strides: [stride, stride],
                                   dilations: [dilation, dilation], groups: channels, outputHeight: rows.output, outputWidth: cols.output,
                                   padTop: rows.before, padLeft: cols.before)
        #expect(y.shape == [2, rows.output, cols.output, channels * multiplier])
        expectClose(y.values, expected)
    }

    @Test func transposeConvStride2ByHand() throws {
        // [[1, 2], [3, 4]] with a 2×2 kernel of ones, stride 2, valid: each pixel becomes a 2×2 block.
        let graph = try oneOpGraph(.transposeConv2d, input: [nil, 2, 2, 1], constants: [constant("k", [2, 2, 1, 1], [1, 1, 1, 1])],
                                   ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("valid")])
        let y = try run(graph, [1, 2, 2, 1], [1, 2, 3, 4])
        #expect(y.shape == [1, 4, 4, 1])
        #expect(y.values == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }

    @Test func transposeConv3x3Stride2SameByHand() throws {
        // 1-pixel-high rows: x = [1, 2] (1×1×2×1), kernel 1×3 = [1, 10, 100], stride 2, SAME.
        // Output width 2·2 = 4; forward padding total max((2−1)·2 + 3 − 4, 0) = 1, before 0:
        // x[0] lands on 0, 1, 2 → [1, 10, 100]; x[1] on 2, 3, 4 (4 cut) → [2, 20] at 2, 3.
        let graph = try oneOpGraph(.transposeConv2d, input: [nil, 1, 2, 1], constants: [constant("k", [1, 3, 1, 1], [1, 10, 100])],
                                   ["strides": .ints([1, 2]), "dilations": .ints([1, 1]), "padding": .string("same")])
        let y = try run(graph, [1, 1, 2, 1], [1, 2])
        #expect(y.shape == [1, 1, 4, 1])
        #expect(y.values == [1, 10, 102, 20])
    }

    @Test(arguments: [("valid", [2, 2], nil as [Int]?), ("same", [2, 2], nil), ("same", [1, 1], nil), ("valid", [2, 1], [1, 0]),
                      ("same", [2, 2], [1, 1])])
    func transposeConvMatchesScatterLoop(padding: String, strides: [Int], outputPadding: [Int]?) throws {
        let (height, width, inputs, outputs, window) = (3, 4, 3, 2, 3)
        let kernel = pseudoRandom(window * window * outputs * inputs, seed: 8), x = pseudoRandom(2 * height * width * inputs, seed: 9)
        let bias = pseudoRandom(outputs, seed: 10)
        var attributes: Attributes = ["strides": .ints(strides), "dilations": .ints([1, 1]), "padding": .string(padding)]
        if let outputPadding { attributes[.outputPadding] = outputPadding }
        let graph = try oneOpGraph(.transposeConv2d, input: [nil, height, width, inputs],
                                   constants: [constant("k", [window, window, outputs, inputs], kernel), constant("b", [outputs], bias)], attributes)
        let y = try run(graph, [2, height, width, inputs], x)
        // Keras' deconv_output_length, then TensorFlow's forward padding of the transposed conv.
        func length(_ n: Int, _ s: Int, _ p: Int?) -> Int {
            if let p { return (n - 1) * s + window - 2 * (padding == "same" ? window / 2 : 0) + p }
            return padding == "valid" ? n * s + max(window - s, 0) : n * s
        }
        let oh = length(height, strides[0], outputPadding?[0]), ow = length(width, strides[1], outputPadding?[1])
        let top = padding == "same" ? max((height - 1) * strides[0] + window - oh, 0) / 2 : 0
        let left = padding == "same" ? max((width - 1) * strides[1] + window - ow, 0) / 2 : 0
        var expected = [Float](repeating: 0, count: 2 * oh * ow * outputs)
        for b in 0..<2 {
            for i in 0..<(oh * ow) { for o in 0..<outputs { expected[(b * oh * ow + i) * outputs + o] = bias[o] } }
            for iy in 0..<height { for ix in 0..<width { for dy in 0..<window { for dx in 0..<window {
                let oy = iy * strides[0] - top + dy, ox = ix * strides[1] - left + dx
                guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                for o in 0..<outputs { for i in 0..<inputs {
                    expected[((b * oh + oy) * ow + ox) * outputs + o] += x[((b * height + iy) * width + ix) * inputs + i]
                        * kernel[((dy * window + dx) * outputs + o) * inputs + i]
                } }
            } } } }
        }
        #expect(y.shape == [2, oh, ow, outputs])
        expectClose(y.values, expected)
    }

    @Test func fullyConnectedOn3DInput() throws {
        // [1, 2, 2] · [[1, 2, 3], [4, 5, 6]] + [0.5, 0, 0]: row (1, 2) → [9.5, 12, 15]; row (3, 4) → [19.5, 26, 33]
        let graph = try oneOpGraph(.fullyConnected, input: [nil, 2, 2],
                                   constants: [constant("k", [2, 3], [1, 2, 3, 4, 5, 6]), constant("b", [3], [0.5, 0, 0])])
        let y = try run(graph, [1, 2, 2], [1, 2, 3, 4])
        #expect(y.shape == [1, 2, 3])
        #expect(y.values == [9.5, 12, 15, 19.5, 26, 33])
    }

    @Test func fusedActivationsAfterPasses() throws {
        // relu6 fused into a dense layer: [−1, 3, 8] clipped to [0, 3, 6].
        let graph = try oneOpGraph(.fullyConnected, input: [nil, 1], constants: [constant("k", [1, 3], [-1, 3, 8])],
                                   ["fused_activation": .string("relu6")])
        #expect(try run(graph, [1, 1], [1]).values == [0, 3, 6])
        // relu fused into add (ResNet's residual): the interpreter applies it after the kernel.
        let add = Graph(name: "add")
        let x = Tensor(name: "x", shape: [nil, 2])
        add.inputs = [x]
        add.outputs = try add.append(Op(name: "add", kind: .add, inputs: [x, constant("c", [2], [1, -5])],
                                        attributes: ["fused_activation": .string("relu")]))
        #expect(try run(add, [1, 2], [1, 1]).values == [2, 0])
    }

    // MARK: pooling and resizing

    @Test func avgPoolSameExcludesPaddingAtBorders() throws {
        // 3×3 input 1…9, pool 2×2 stride 2 SAME → 2×2; padding 1 after on each axis, none before.
        // [0,0] = (1+2+4+5)/4 = 3; [0,1] = (3+6)/2 = 4.5; [1,0] = (7+8)/2 = 7.5; [1,1] = 9/1 = 9.
        let attributes: Attributes = ["pool_size": .ints([2, 2]), "strides": .ints([2, 2]), "padding": .string("same")]
        let average = try run(try oneOpGraph(.avgPool2d, input: [nil, 3, 3, 1], attributes), [1, 3, 3, 1], (1...9).map(Float.init))
        #expect(average.shape == [1, 2, 2, 1])
        #expect(average.values == [3, 4.5, 7.5, 9])
        // Max pooling ignores the padding too (negative values would otherwise lose to a padded 0).
        let maximum = try run(try oneOpGraph(.maxPool2d, input: [nil, 3, 3, 1], attributes), [1, 3, 3, 1], (1...9).map { -Float($0) })
        #expect(maximum.values == [-1, -3, -7, -9])
    }

    @Test func pool1dValidAndGlobalPools() throws {
        // [1, 5, 2, 8, 3] with pool 2, stride 2, valid: max [5, 8], average [3, 5].
        let attributes: Attributes = ["pool_size": .ints([2]), "strides": .ints([2]), "padding": .string("valid")]
        #expect(try run(try oneOpGraph(.maxPool1d, input: [nil, 5, 1], attributes), [1, 5, 1], [1, 5, 2, 8, 3]).values == [5, 8])
        #expect(try run(try oneOpGraph(.avgPool1d, input: [nil, 5, 1], attributes), [1, 5, 1], [1, 5, 2, 8, 3]).values == [3, 5])
        // Global pools over H×W per channel: channel 0 = [1, 2, 3, 6], channel 1 = [−1, −2, −3, −6].
        let x: [Float] = [1, -1, 2, -2, 3, -3, 6, -6]
        let mean = try run(try oneOpGraph(.globalAvgPool, input: [nil, 2, 2, 2], ["keepdims": .bool(true)]), [1, 2, 2, 2], x)
        #expect(mean.shape == [1, 1, 1, 2] && mean.values == [3, -3])
        let maximum = try run(try oneOpGraph(.globalMaxPool, input: [nil, 2, 2, 2]), [1, 2, 2, 2], x)
        #expect(maximum.shape == [1, 2] && maximum.values == [6, -1])
    }

    @Test func resizeNearestRepeatsAndBilinearUsesHalfPixelCentres() throws {
        let nearest = try run(try oneOpGraph(.resize, input: [nil, 2, 2, 1], ["scale": .ints([2, 2]), "method": .string("nearest")]),
                              [1, 2, 2, 1], [1, 2, 3, 4])
        #expect(nearest.values == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        // Width 2 → 4: source x = (o + ½)/2 − ½ = −0.25, 0.25, 0.75, 1.25, clamped to [0, 1]:
        // [0, 0.25·1, 0.75·1, 1] for the row [0, 1].
        let bilinear = try run(try oneOpGraph(.resize, input: [nil, 1, 2, 1], ["scale": .ints([1, 2]), "method": .string("bilinear")]),
                               [1, 1, 2, 1], [0, 1])
        #expect(bilinear.values == [0, 0.25, 0.75, 1])
        // Height 2 → 6 (scale 3) on the column [0, 3]: y = (o + ½)/3 − ½ = −1/3, 0, 1/3, 2/3, 1, 4/3.
        let tall = try run(try oneOpGraph(.resize, input: [nil, 2, 1, 1], ["scale": .ints([3, 1]), "method": .string("bilinear")]),
                           [1, 2, 1, 1], [0, 3])
        expectClose(tall.values, [0, 0, 1, 2, 3, 3])
    }

    // MARK: activations and normalization

    @Test func softmaxAlongAMiddleAxis() throws {
        // x of shape [1, 2, 3], softmax over axis 1 (the pairs x[0, :, j]).
        let x: [Float] = [0, 1, 2, 1, 1, 0]
        let y = try run(try oneOpGraph(.softmax, input: [nil, 2, 3], ["axis": .int(1)]), [1, 2, 3], x)
        var expected = [Float](repeating: 0, count: 6)
        for j in 0..<3 {
            let a = exp(Double(x[j])), b = exp(Double(x[3 + j]))
            expected[j] = Float(a / (a + b))
            expected[3 + j] = Float(b / (a + b))
        }
        expectClose(y.values, expected, tolerance: 1e-6)
        // Column 1 holds equal values: exactly one half each.
        #expect(abs(y.values[1] - 0.5) < 1e-7 && abs(y.values[4] - 0.5) < 1e-7)
    }

    @Test func activationFunctionsByHand() throws {
        func apply(_ function: String, _ x: [Float]) throws -> [Float] {
            try run(try oneOpGraph(.activation, input: [nil, x.count], ["function": .string(function)]), [1, x.count], x).values
        }
        // Keras 3 hard_sigmoid = relu6(x + 3)/6; Keras 2 = clip(0.2x + 0.5, 0, 1).
        expectClose(try apply("hard_sigmoid", [-4, 0, 1, 4]), [0, 0.5, 4.0 / 6, 1])
        expectClose(try apply("hard_sigmoid_keras2", [-4, 0, 1, 4]), [0, 0.5, 0.7, 1])
        expectClose(try apply("hard_swish", [-4, 1, 4]), [0, 4.0 / 6, 4])
        // gelu exact: x·Φ(x); Φ(1) = 0.8413447461, Φ(−1) = 0.1586552539. tanh form: 0.8411919906 at 1.
        expectClose(try apply("gelu", [1, -1]), [0.8413447461, -0.1586552539], tolerance: 1e-6)
        expectClose(try apply("gelu_tanh", [1]), [0.8411919906], tolerance: 1e-6)
        // selu(−1) = 1.0507009874 · 1.6732632423 · (e⁻¹ − 1) = −1.1113307378; selu(2) = 2.1014019748
        expectClose(try apply("selu", [-1, 2]), [-1.1113307378, 2.1014019748], tolerance: 1e-6)
        expectClose(try apply("elu", [-1, 2]), [Float(exp(-1.0) - 1), 2], tolerance: 1e-6)
        expectClose(try apply("softplus", [0, 30, -30]), [Float(log(2.0)), 30, Float(exp(-30.0))], tolerance: 1e-6)
        expectClose(try apply("softsign", [1, -3]), [0.5, -0.75])
        expectClose(try apply("swish", [1]), [Float(1 / (1 + exp(-1.0)))], tolerance: 1e-6)
        expectClose(try apply("mish", [1]), [Float(tanh(log(1 + exp(1.0))))], tolerance: 1e-6)
        expectClose(try apply("leaky_relu", [-1, 2]), [-0.2, 2])
        expectClose(try apply("relu6", [-1, 3, 7]), [0, 3, 6])
        expectClose(try apply("log_softmax", [0, 0]), [Float(-log(2.0)), Float(-log(2.0))], tolerance: 1e-6)
    }

    @Test func parameterizedReLUAsKerasComputesIt() throws {
        // x > threshold ? clip(x, 0, max) : slope · (x − threshold), with threshold 0.5, max 4, slope 0.1
        let graph = try oneOpGraph(.relu, input: [nil, 5], ["threshold": .float(0.5), "max_value": .float(4), "negative_slope": .float(0.1)])
        expectClose(try run(graph, [1, 5], [-2, 0.5, 1, 3, 9]).values, [-0.25, 0, 1, 3, 4])
        // PReLU with α shared over the spatial axes (shape 1×1×C).
        let prelu = try oneOpGraph(.prelu, input: [nil, 1, 2, 2], constants: [constant("alpha", [1, 1, 2], [0.5, 2])])
        #expect(try run(prelu, [1, 1, 2, 2], [-2, -2, 3, -1]).values == [-1, -4, 3, -2])
    }

    @Test func batchNormUnfoldedMatchesFoldedIntoConv() throws {
        func graph() throws -> Graph {
            let graph = Graph(name: "g")
            let x = Tensor(name: "x", shape: [nil, 5, 5, 2])
            graph.inputs = [x]
            let conv = try graph.append(Op(name: "conv", kind: .conv2d,
                                           inputs: [x, constant("k", [3, 3, 2, 3], pseudoRandom(54, seed: 11)), constant("b", [3], [0.1, -0.2, 0.3])],
                                           attributes: ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same")]))
            let bn = try graph.append(Op(name: "bn", kind: .batchNorm, inputs: conv + [
                constant("gamma", [3], [1, 2, 0.5]), constant("beta", [3], [0.5, -1, 0]),
                constant("mean", [3], [0.2, 0, -0.3]), constant("variance", [3], [1, 0.25, 4]),
            ], attributes: ["epsilon": .float(0.001), "scale": .bool(true), "center": .bool(true)]))
            graph.outputs = try graph.append(Op(name: "relu", kind: .activation, inputs: bn, attributes: ["function": .string("relu")]))
            return graph
        }
        let x = pseudoRandom(2 * 25 * 2, seed: 12)
        let unfolded = try run(try graph(), [2, 5, 5, 2], x)
        let folded = try graph()
        try PassRegistry.run(PassRegistry.standardPipeline, on: folded)
        #expect(folded.ops.count == 1)
        expectClose(try run(folded, [2, 5, 5, 2], x).values, unfolded.values)
        // Channel 1 by hand at one pixel: y = relu(γ(z − μ)/√(σ² + ε) + β) with the conv output z.
        let conv = try graph()
        conv.outputs = [conv.ops[0].outputs[0]]
        conv.ops.removeLast(2)
        let z = try run(conv, [2, 5, 5, 2], x).values[1]
        #expect(abs(unfolded.values[1] - max(2 * (z - 0) / (0.25 + 0.001).squareRoot() - 1, 0)) < 1e-5)
    }

    @Test func layerNormOverTrailingAndMiddleAxes() throws {
        let x = pseudoRandom(2 * 3 * 4, seed: 13)
        // Last axis with γ, β.
        let gamma: [Float] = [1, 2, 3, 4], beta: [Float] = [0, 1, 0, -1]
        let graph = try oneOpGraph(.layerNorm, input: [nil, 3, 4], constants: [constant("g", [4], gamma), constant("b", [4], beta)],
                                   ["axes": .ints([2]), "epsilon": .float(0.001), "scale": .bool(true), "center": .bool(true)])
        var expected = [Float]()
        for row in 0..<6 {
            let values = x[(row * 4)..<(row * 4 + 4)].map(Double.init)
            let mean = values.reduce(0, +) / 4, variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            for j in 0..<4 { expected.append(Float((values[j] - mean) / (variance + 0.001).squareRoot() * Double(gamma[j]) + Double(beta[j]))) }
        }
        expectClose(try run(graph, [2, 3, 4], x).values, expected)
        // The middle axis alone, no γ/β: statistics over the 3 values x[b, :, j].
        let middle = try oneOpGraph(.layerNorm, input: [nil, 3, 4], ["axes": .ints([1]), "epsilon": .float(0.001), "scale": .bool(false), "center": .bool(false)])
        var expectedMiddle = [Float](repeating: 0, count: 24)
        for b in 0..<2 {
            for j in 0..<4 {
                let values = (0..<3).map { Double(x[(b * 3 + $0) * 4 + j]) }
                let mean = values.reduce(0, +) / 3, variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3
                for i in 0..<3 { expectedMiddle[(b * 3 + i) * 4 + j] = Float((values[i] - mean) / (variance + 0.001).squareRoot()) }
            }
        }
        expectClose(try run(middle, [2, 3, 4], x).values, expectedMiddle)
    }

    @Test func normalizeAndRescale() throws {
        // (x − mean) / max(√variance, 1e-7) per channel: mean [1, 2], variance [4, 0]:
        // (5 − 1)/2 = 2; channel 1 divides by 1e-7: (2.5 − 2)/1e-7 = 5e6.
        let normalize = try oneOpGraph(.normalize, input: [nil, 2], constants: [constant("m", [1, 2], [1, 2]), constant("v", [1, 2], [4, 0])])
        expectClose(try run(normalize, [1, 2], [5, 2.5]).values, [2, 5e6], tolerance: 1e-6)
        let rescale = try oneOpGraph(.rescale, input: [nil, 2], ["scale": .floats([1.0 / 255]), "offset": .floats([-1])])
        expectClose(try run(rescale, [1, 2], [255, 0]).values, [0, -1])
    }

    // MARK: moving values

    @Test func shapeOps() throws {
        let x: [Float] = [1, 2, 3, 4, 5, 6]  // [1, 2, 3]
        #expect(try run(try oneOpGraph(.transpose, input: [nil, 2, 3], ["perm": .ints([0, 2, 1])]), [1, 2, 3], x).values == [1, 4, 2, 5, 3, 6])
        let reshaped = try run(try oneOpGraph(.reshape, input: [nil, 2, 3], ["shape": .ints([-1, 2])]), [1, 2, 3], x)
        #expect(reshaped.shape == [1, 3, 2] && reshaped.values == x)
        let padded = try run(try oneOpGraph(.pad, input: [nil, 2, 3], ["paddings": .ints([0, 0, 1, 0, 0, 1])]), [1, 2, 3], x)
        #expect(padded.shape == [1, 3, 4] && padded.values == [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0])
        let sliced = try run(try oneOpGraph(.slice, input: [nil, 2, 3], ["begin": .ints([0, 1, 1]), "size": .ints([-1, 1, -1])]), [1, 2, 3], x)
        #expect(sliced.shape == [1, 1, 2] && sliced.values == [5, 6])
        let repeated = try run(try oneOpGraph(.repeatVector, input: [nil, 2], ["n": .int(2)]), [2, 2], [1, 2, 3, 4])
        #expect(repeated.shape == [2, 2, 2] && repeated.values == [1, 2, 1, 2, 3, 4, 3, 4])
        let graph = Graph(name: "concat")
        let a = Tensor(name: "a", shape: [nil, 2, 1]), b = Tensor(name: "b", shape: [nil, 2, 2])
        graph.inputs = [a, b]
        graph.outputs = try graph.append(Op(name: "c", kind: .concatenate, inputs: [a, b], attributes: ["axis": .int(-1)]))
        let joined = try Interpreter(graph: graph).run([try TensorValue(shape: [1, 2, 1], values: [1, 2]),
                                                        try TensorValue(shape: [1, 2, 2], values: [3, 4, 5, 6])])[0]
        #expect(joined.shape == [1, 2, 3] && joined.values == [1, 3, 4, 2, 5, 6])
    }

    @Test func broadcastingMergesAndAverage() throws {
        let graph = Graph(name: "merge")
        let a = Tensor(name: "a", shape: [nil, 2, 2]), b = Tensor(name: "b", shape: [nil, 1, 2])
        graph.inputs = [a, b]
        let sum = try graph.append(Op(name: "sum", kind: .add, inputs: [a, b]))
        let difference = try graph.append(Op(name: "difference", kind: .subtract, inputs: [b, sum[0]]))
        let average = try graph.append(Op(name: "average", kind: .average, inputs: [difference[0], a, constant("c", [2], [3, 3])]))
        graph.outputs = average
        // a = [[1, 2], [3, 4]], b = [[10, 20]]: sum = [[11, 22], [13, 24]], b − sum = [[−1, −2], [−3, −4]],
        // average of (b − sum, a, 3) = [[1, 1], [1, 1]].
        let y = try Interpreter(graph: graph).run([try TensorValue(shape: [1, 2, 2], values: [1, 2, 3, 4]),
                                                   try TensorValue(shape: [1, 1, 2], values: [10, 20])])[0]
        #expect(y.values == [1, 1, 1, 1])
    }
}
