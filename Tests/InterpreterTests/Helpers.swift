import Foundation
import GraphIR
import Interpreter
import Kernels
import Testing

/// A constant tensor for test graphs.
func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> Tensor {
    Tensor(name: name, shape: shape.map { $0 }, constant: ConstantData(values: values))
}

/// A one-op graph: input `x` of `shape` (batch unknown) → op(x, constants…).
func oneOpGraph(_ kind: OpKind, input shape: Shape, constants: [Tensor] = [], _ attributes: Attributes = [:]) throws -> Graph {
    let graph = Graph(name: "test")
    let x = Tensor(name: "x", shape: shape)
    graph.inputs = [x]
    graph.outputs = try graph.append(Op(name: "op", kind: kind, inputs: [x] + constants, attributes: attributes))
    return graph
}

/// Runs a one-input, one-output graph.
func run(_ graph: Graph, _ shape: [Int], _ values: [Float]) throws -> TensorValue {
    let interpreter = try Interpreter(graph: graph)
    let outputs = try interpreter.run([try TensorValue(shape: shape, values: values)])
    return outputs[0]
}

/// Deterministic pseudo-random values in [-1, 1) (a linear congruential generator; no Foundation randomness).
func pseudoRandom(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}

func expectClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "counts \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst: Float = 0, worstIndex = 0
    for index in actual.indices {
        let error = abs(actual[index] - expected[index]) / max(1, abs(expected[index]))
        if !(error <= worst) { worst = error; worstIndex = index }
    }
    #expect(worst <= tolerance, "worst error \(worst) at \(worstIndex): \(actual[worstIndex]) vs \(expected[worstIndex])",
            sourceLocation: sourceLocation)
}

/// TensorFlow's SAME padding, written out independently of the interpreter: (output, before).
func samePadding(_ input: Int, window: Int, stride: Int, dilation: Int = 1) -> (output: Int, before: Int) {
    let output = Int((Double(input) / Double(stride)).rounded(.up))
    let effective = (window - 1) * dilation + 1
    let total = max((output - 1) * stride + effective - input, 0)
    return (output, total / 2)
}

/// VALID: no padding, only windows entirely inside.
func validPadding(_ input: Int, window: Int, stride: Int, dilation: Int = 1) -> (output: Int, before: Int) {
    ((input - (window - 1) * dilation - 1) / stride + 1, 0)
}

/// Direct convolution: x NHWC, kernel HWIO (I = C / groups), explicit output size and top/left padding.
func naiveConv2D(_ x: [Float], _ xs: [Int], _ kernel: [Float], _ ks: [Int], strides: [Int], dilations: [Int] = [1, 1],
                 groups: Int = 1, outputHeight: Int, outputWidth: Int, padTop: Int, padLeft: Int, bias: [Float]? = nil) -> [Float] {
    let (n, h, w, c) = (xs[0], xs[1], xs[2], xs[3])
    let (kh, kw, ci, co) = (ks[0], ks[1], ks[2], ks[3])
    let perGroup = co / groups
    var out = [Float](repeating: 0, count: n * outputHeight * outputWidth * co)
    for b in 0..<n {
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                for o in 0..<co {
                    let group = o / perGroup
                    var sum = Double(bias?[o] ?? 0)
                    for dy in 0..<kh {
                        for dx in 0..<kw {
                            let iy = oy * strides[0] - padTop + dy * dilations[0]
                            let ix = ox * strides[1] - padLeft + dx * dilations[1]
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            for i in 0..<ci {
                                sum += Double(x[((b * h + iy) * w + ix) * c + group * ci + i]) * Double(kernel[((dy * kw + dx) * ci + i) * co + o])
                            }
                        }
                    }
                    out[((b * outputHeight + oy) * outputWidth + ox) * co + o] = Float(sum)
                }
            }
        }
    }
    return out
}
