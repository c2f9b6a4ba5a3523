import Foundation
import GraphIR
import Kernels

// Ops of attention layers: batch_matmul (Dot, Attention, MultiHeadAttention) and l2_normalize
// (Dot with normalize=True).

func batchMatmulKernel(_ context: KernelContext) throws -> Kernel {
    let adjointX = try context.attribute(.adjointX), adjointY = try context.attribute(.adjointY)
    return Kernel(run: { inputs, _ in
        do {
            return try batchMatMul(inputs[0], inputs[1], adjointX: adjointX, adjointY: adjointY)
        } catch let error as KernelError {
            throw context.invalid("\(error)")
        }
    })
}

/// x / max(‖x‖₂, 1e-6) along one axis — Keras' l2_normalize (x · rsqrt(max(Σx², 1e-12))) and
/// LiteRT's L2_NORMALIZATION agree on that bound.
func l2NormalizeKernel(_ context: KernelContext) throws -> Kernel {
    let axisAttribute = try context.attribute(.axis)
    return Kernel(run: { inputs, _ in
        var x = inputs.take(0)
        let axis = axisAttribute < 0 ? axisAttribute + x.rank : axisAttribute
        guard (0..<x.rank).contains(axis) else { throw context.invalid("axis \(axisAttribute) is outside shape \(shapeText(x.shape))") }
        let length = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        x.withUnsafeMutableValues { values in
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var sum: Double = 0
                    for j in 0..<length { let v = Double(values[base + j * inner]); sum += v * v }
                    let scale = Float(1 / max(sum.squareRoot(), 1e-6))
                    for j in 0..<length { values[base + j * inner] *= scale }
                }
            }
        }
        return x
    })
}
