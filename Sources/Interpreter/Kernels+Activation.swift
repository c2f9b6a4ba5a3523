import Foundation
import GraphIR
import Kernels

// Pointwise activations exactly as Keras (TensorFlow backend) computes them, in float32.

private let seluAlpha: Float = 1.6732632423543772848170429916717
private let seluScale: Float = 1.0507009873554804934193349852946

@inline(__always) private func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

/// log(1 + eˣ) without overflow.
@inline(__always) private func softplus(_ x: Float) -> Float { max(x, 0) + log1p(exp(-abs(x))) }

/// Applies `function` in place. softmax and log_softmax work along rows of `lastAxis` elements
/// (Keras' activation softmax normalizes the last axis).
func applyActivation(_ function: ActivationFunction, to buffer: UnsafeMutableBufferPointer<Float>, lastAxis: Int) {
    switch function {
    case .linear: return
    case .relu: transformEach(buffer) { max($0, 0) }
    case .relu6: transformEach(buffer) { min(max($0, 0), 6) }
    case .sigmoid: transformEach(buffer) { sigmoid($0) }
    case .tanh: transformEach(buffer) { tanh($0) }
    case .softmax: softmax(buffer, outer: buffer.count / max(lastAxis, 1), axis: lastAxis, inner: 1, logarithm: false)
    case .logSoftmax: softmax(buffer, outer: buffer.count / max(lastAxis, 1), axis: lastAxis, inner: 1, logarithm: true)
    case .hardSigmoid: transformEach(buffer) { min(max($0 + 3, 0), 6) / 6 }  // Keras 3: relu6(x + 3) / 6
    case .hardSigmoidKeras2: transformEach(buffer) { min(max(0.2 * $0 + 0.5, 0), 1) }  // Keras 2: clip(0.2x + 0.5, 0, 1)
    case .swish: transformEach(buffer) { $0 * sigmoid($0) }
    case .hardSwish: transformEach(buffer) { $0 * (min(max($0 + 3, 0), 6) / 6) }
    case .gelu: transformEach(buffer) { 0.5 * $0 * (1 + erf($0 / 1.4142135623730951)) }
    case .geluTanh: transformEach(buffer) { x in 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) }
    case .elu: transformEach(buffer) { $0 > 0 ? $0 : expm1($0) }
    case .selu: transformEach(buffer) { seluScale * ($0 > 0 ? $0 : seluAlpha * expm1($0)) }
    case .softplus: transformEach(buffer) { softplus($0) }
    case .softsign: transformEach(buffer) { $0 / (1 + abs($0)) }
    case .exponential: transformEach(buffer) { exp($0) }
    case .leakyRelu: transformEach(buffer) { $0 > 0 ? $0 : 0.2 * $0 }  // keras.activations.leaky_relu's default slope
    case .mish: transformEach(buffer) { $0 * tanh(softplus($0)) }
    }
}

/// Runs `transform` on a private copy of input 0's values (no copy when this op is their last reader).
private func inPlace(_ inputs: inout [TensorValue], _ transform: (UnsafeMutableBufferPointer<Float>, [Int]) throws -> Void) rethrows -> TensorValue {
    var x = inputs.take(0)
    let shape = x.shape
    try x.withUnsafeMutableValues { try transform($0, shape) }
    return x
}

func activationKernel(_ context: KernelContext) throws -> Kernel {
    let function = try context.attribute(.function)
    return Kernel(run: { inputs, _ in
        try inPlace(&inputs) { buffer, shape in
            if (function == .softmax || function == .logSoftmax) && shape.count < 2 {
                throw context.invalid("softmax needs an input of rank ≥ 2, got \(shapeText(shape))")
            }
            applyActivation(function, to: buffer, lastAxis: shape.last ?? 1)
        }
    })
}

/// Keras' relu(x, negative_slope, max_value, threshold):
/// x > threshold ? (max_value ? clip(x, 0, max_value) : x) : negative_slope · (x − threshold).
func reluKernel(_ context: KernelContext) throws -> Kernel {
    let slope = try context.attribute(.negativeSlope)
    let threshold = try context.attribute(.threshold)
    let maxValue = try context.optionalAttribute(.maxValue)
    return Kernel(run: { inputs, _ in
        inPlace(&inputs) { buffer, _ in
            transformEach(buffer) { x in
                guard x > threshold else { return slope * (x - threshold) }
                if let maxValue { return min(max(x, 0), maxValue) }
                return x
            }
        }
    })
}

func leakyReluKernel(_ context: KernelContext) throws -> Kernel {
    let alpha = try context.attribute(.alpha)
    return Kernel(run: { inputs, _ in
        inPlace(&inputs) { buffer, _ in transformEach(buffer) { $0 > 0 ? $0 : alpha * $0 } }
    })
}

func eluKernel(_ context: KernelContext) throws -> Kernel {
    let alpha = try context.attribute(.alpha)
    return Kernel(run: { inputs, _ in
        inPlace(&inputs) { buffer, _ in transformEach(buffer) { $0 > 0 ? $0 : alpha * expm1($0) } }
    })
}

/// PReLU: x > 0 ? x : α·x with α (Keras: input shape without the batch, shared axes 1) broadcast.
func preluKernel(_ context: KernelContext) throws -> Kernel {
    let alpha = try context.constant(1)
    return Kernel(run: { inputs, _ in
        let shape = inputs[0].shape
        let result = try broadcastBinary(inputs.take(0), alpha, .prelu, context)
        guard result.shape == shape else {
            throw context.invalid("alpha \(shapeText(alpha.shape)) does not broadcast to the input \(shapeText(shape))")
        }
        return result
    })
}

func softmaxKernel(_ context: KernelContext) throws -> Kernel {
    let axisAttribute = try context.attribute(.axis)
    return Kernel(run: { inputs, _ in
        try inPlace(&inputs) { buffer, shape in
            let axis = axisAttribute < 0 ? axisAttribute + shape.count : axisAttribute
            guard axis >= 0, axis < shape.count else { throw context.invalid("axis \(axisAttribute) for shape \(shapeText(shape))") }
            softmax(buffer, outer: shape[..<axis].reduce(1, *), axis: shape[axis], inner: shape[(axis + 1)...].reduce(1, *),
                    logarithm: false)
        }
    })
}
