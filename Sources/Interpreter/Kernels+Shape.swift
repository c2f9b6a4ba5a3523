import GraphIR
import Kernels

// Ops that move values without arithmetic: reshape, transpose, repeat_vector, pad, slice,
// concatenate, identity. Axis attributes count the batch axis (0) except reshape's target shape.

func identityKernel(_ context: KernelContext) throws -> Kernel {
    return Kernel(run: { inputs, _ in inputs.take(0) })
}

/// [batch] + target shape (or the whole target shape with `includes_batch`), one -1 resolved from
/// the element count; the values are shared.
func reshapeKernel(_ context: KernelContext) throws -> Kernel {
    let target = try context.attribute(.shape)
    let includesBatch = try context.attribute(.includesBatch)
    guard target.filter({ $0 == -1 }).count <= 1, target.allSatisfy({ $0 >= -1 }),
          checkedCount(target.filter { $0 >= 0 }) != nil else {
        throw context.invalid("target shape \(target) has more than one unknown or a negative dimension")
    }
    let described = includesBatch ? "\(target)" : "[batch] + \(target)"
    return Kernel(run: { inputs, _ in
        let x = inputs.take(0)
        guard let batch = x.shape.first else { throw context.invalid("cannot reshape a scalar") }
        let inner = includesBatch ? x.count : x.shape.dropFirst().reduce(1, *)
        var shape = target
        if let unknown = target.firstIndex(of: -1) {
            let known = target.filter { $0 >= 0 }.reduce(1, *)
            guard known > 0, inner % known == 0 else {
                throw context.invalid("cannot reshape \(shapeText(x.shape)) to \(described)")
            }
            shape[unknown] = inner / known
        }
        guard shape.reduce(1, *) == inner else { throw context.invalid("cannot reshape \(shapeText(x.shape)) to \(described)") }
        return TensorValue(unchecked: includesBatch ? shape : [batch] + shape, x.values)
    })
}

func transposeKernel(_ context: KernelContext) throws -> Kernel {
    let permutation = try context.attribute(.permutation)
    return Kernel(run: { inputs, _ in
        let x = inputs.take(0)
        guard permutation.sorted() == Array(0..<x.rank) else {
            throw context.invalid("perm \(permutation) does not fit shape \(shapeText(x.shape))")
        }
        return transposed(x, permutation)
    })
}

/// [N, F] → [N, n, F].
func repeatVectorKernel(_ context: KernelContext) throws -> Kernel {
    let repeats = try context.attribute(.repeats)
    guard repeats >= 0 else { throw context.invalid("n = \(repeats)") }
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank == 2 else { throw context.invalid("input shape \(shapeText(x.shape)) needs rank 2") }
        let batch = x.shape[0], features = x.shape[1]
        _ = try context.elementCount([batch, repeats, features])
        let lists = [Array(0..<batch), [Int](repeating: 0, count: repeats), Array(0..<features)]
        return TensorValue(unchecked: [batch, repeats, features],
                           selectAlongAxes(TensorValue(unchecked: [batch, 1, features], x.values), lists))
    })
}

/// Zero padding: paddings = [before₀, after₀, before₁, after₁, …] over every axis.
func padKernel(_ context: KernelContext) throws -> Kernel {
    let paddings = try context.attribute(.paddings)
    guard paddings.allSatisfy({ $0 >= 0 }) else { throw context.unsupported("negative paddings \(paddings)") }
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard paddings.count == 2 * x.rank, x.rank >= 1 else {
            throw context.invalid("paddings \(paddings) do not fit shape \(shapeText(x.shape))")
        }
        let shape = x.shape.enumerated().map { $1 + paddings[2 * $0] + paddings[2 * $0 + 1] }
        _ = try context.elementCount(shape)
        let lists = x.shape.enumerated().map { axis, size in
            (0..<shape[axis]).map { $0 - paddings[2 * axis] < 0 || $0 - paddings[2 * axis] >= size ? -1 : $0 - paddings[2 * axis] }
        }
        return TensorValue(unchecked: shape, selectAlongAxes(x, lists))
    })
}

/// x[begin : begin + size] per axis; size −1 runs to the end.
func sliceKernel(_ context: KernelContext) throws -> Kernel {
    let begin = try context.attribute(.begin), size = try context.attribute(.size)
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard begin.count == x.rank, size.count == x.rank, x.rank >= 1 else {
            throw context.invalid("begin \(begin) / size \(size) do not fit shape \(shapeText(x.shape))")
        }
        var shape: [Int] = []
        for axis in 0..<x.rank {
            let length = size[axis] == -1 ? x.shape[axis] - begin[axis] : size[axis]
            guard begin[axis] >= 0, begin[axis] <= x.shape[axis], length >= 0, length <= x.shape[axis] - begin[axis] else {
                throw context.invalid("slice begin \(begin) size \(size) leaves shape \(shapeText(x.shape))")
            }
            shape.append(length)
        }
        return TensorValue(unchecked: shape, selectAlongAxes(x, (0..<x.rank).map { Array(begin[$0]..<(begin[$0] + shape[$0])) }))
    })
}

func concatenateKernel(_ context: KernelContext) throws -> Kernel {
    let axisAttribute = try context.attribute(.axis)
    return Kernel(run: { inputs, _ in
        let first = inputs[0]
        let rank = first.rank
        let axis = axisAttribute < 0 ? axisAttribute + rank : axisAttribute
        guard axis >= 0, axis < rank else { throw context.invalid("axis \(axisAttribute) for shape \(shapeText(first.shape))") }
        var shape = first.shape
        shape[axis] = 0
        for input in inputs {
            guard input.rank == rank, (0..<rank).allSatisfy({ $0 == axis || input.shape[$0] == first.shape[$0] }) else {
                throw context.invalid("shapes \(inputs.map { shapeText($0.shape) }.joined(separator: ", ")) differ off axis \(axis)")
            }
            shape[axis] += input.shape[axis]
        }
        return TensorValue(unchecked: shape, concatenated(inputs, axis: axis, shape: shape))
    })
}
