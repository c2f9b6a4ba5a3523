import GraphIR
import Kernels

// add, subtract, multiply, maximum, minimum, average with numpy broadcasting, n-ary ops folded
// left to right as Keras' merge layers do.

/// f(a, b) elementwise with broadcasting; the error names the op. Reuses a's (or b's) storage
/// when it already has the output shape, so pass inputs taken from the kernel's input list.
func broadcastBinary(_ a: TensorValue, _ b: TensorValue, _ operation: BinaryOperator, _ context: KernelContext) throws -> TensorValue {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw context.invalid("shapes \(shapeText(a.shape)) and \(shapeText(b.shape)) do not broadcast")
    }
    return Kernels.broadcastBinary(a, b, shape: shape, operation)
}

func elementwiseKernel(_ context: KernelContext, _ operation: BinaryOperator) throws -> Kernel {
    return Kernel(run: { inputs, _ in
        var result = inputs.take(0)
        for index in 1..<inputs.count {
            result = try broadcastBinary(result, inputs.take(index), operation, context)
        }
        return result
    })
}

/// Keras' Average: the inputs' sum divided by their count.
func averageKernel(_ context: KernelContext) throws -> Kernel {
    return Kernel(run: { inputs, _ in
        let count = Float(inputs.count)
        var result = inputs.take(0)
        for index in 1..<inputs.count {
            result = try broadcastBinary(result, inputs.take(index), .add, context)
        }
        result.withUnsafeMutableValues { values in
            for i in values.indices { values[i] /= count }
        }
        return result
    })
}
