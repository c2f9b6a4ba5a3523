import GraphIR
import Kernels

// batch_norm (when fold-batchnorm could not fold it, or the passes did not run), layer_norm,
// normalize (Keras' Normalization layer) and rescale (Rescaling).

/// Inference batch norm on the last axis: x·s + (β − μ·s), s = γ / √(σ² + ε), as Keras'
/// batch_normalization computes it; s and the shift are computed in Double once.
func batchNormKernel(_ context: KernelContext) throws -> Kernel {
    let hasScale = try context.attribute(.scaled), hasCenter = try context.attribute(.centered)
    let expectedInputs = 3 + (hasScale ? 1 : 0) + (hasCenter ? 1 : 0)
    guard context.op.inputs.count == expectedInputs else {
        throw context.invalid("\(context.op.inputs.count) inputs, scale=\(hasScale) center=\(hasCenter) needs \(expectedInputs)")
    }
    var next = 1
    func take() throws -> [Float] {
        defer { next += 1 }
        return try context.constant(next).values
    }
    let gamma = hasScale ? try take() : nil
    let beta = hasCenter ? try take() : nil
    let mean = try take(), variance = try take()
    let epsilon = Double(try context.attribute(.epsilon))
    let channels = mean.count
    guard variance.count == channels, gamma.map({ $0.count == channels }) ?? true, beta.map({ $0.count == channels }) ?? true else {
        throw context.invalid("gamma/beta/mean/variance differ in length")
    }
    var scale = [Float](repeating: 0, count: channels), shift = [Float](repeating: 0, count: channels)
    for channel in 0..<channels {
        let s = Double(gamma?[channel] ?? 1) / (Double(variance[channel]) + epsilon).squareRoot()
        scale[channel] = Float(s)
        shift[channel] = Float(Double(beta?[channel] ?? 0) - Double(mean[channel]) * s)
    }
    return Kernel(run: { inputs, _ in
        var x = inputs.take(0)
        guard x.shape.last == channels else {
            throw context.invalid("input shape \(shapeText(x.shape)) has not \(channels) channels on its last axis")
        }
        x.withUnsafeMutableValues { values in
            scale.withUnsafeBufferPointer { scale in
                shift.withUnsafeBufferPointer { shift in
                    Parallel.forEach(values.count / max(channels, 1), grain: max(1, 16384 / max(channels, 1))) { range in
                        for row in range {
                            let base = row * channels
                            for c in 0..<channels { values[base + c] = values[base + c] * scale[c] + shift[c] }
                        }
                    }
                }
            }
        }
        return x
    })
}

/// Layer normalization over `axes`: (x − mean) / √(var + ε) · γ + β, statistics per position of
/// the other axes (in Double); γ and β have the shape of the normalized axes, in axis order.
func layerNormKernel(_ context: KernelContext) throws -> Kernel {
    let axesAttribute = try context.attribute(.axes)
    let epsilon = Double(try context.attribute(.epsilon))
    let hasScale = try context.attribute(.scaled), hasCenter = try context.attribute(.centered)
    let expectedInputs = 1 + (hasScale ? 1 : 0) + (hasCenter ? 1 : 0)
    guard context.op.inputs.count == expectedInputs else {
        throw context.invalid("\(context.op.inputs.count) inputs, scale=\(hasScale) center=\(hasCenter) needs \(expectedInputs)")
    }
    let gamma = hasScale ? try context.constant(1).values : nil
    let beta = hasCenter ? try context.constant(hasScale ? 2 : 1).values : nil
    guard !axesAttribute.isEmpty else { throw context.invalid("no axes to normalize") }
    return Kernel(run: { inputs, _ in
        var x = inputs.take(0)
        let rank = x.rank
        let axes = axesAttribute.map { $0 < 0 ? $0 + rank : $0 }
        guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count, axes == axes.sorted() else {
            throw context.invalid("axes \(axesAttribute) for shape \(shapeText(x.shape))")
        }
        let inner = axes.reduce(1) { $0 * x.shape[$1] }
        for (name, parameter) in [("gamma", gamma), ("beta", beta)] {
            if let parameter, parameter.count != inner {
                throw context.invalid("\(name) has \(parameter.count) values, the normalized axes \(inner)")
            }
        }
        // Normalized axes last (a transpose unless they already are), then one group per row.
        let trailing = axes == Array((rank - axes.count)..<rank)
        let permutation = (0..<rank).filter { !axes.contains($0) } + axes
        if !trailing { x = transposed(x, permutation) }
        let groups = inner == 0 ? 0 : x.count / inner
        x.withUnsafeMutableValues { values in
            gamma.withOptionalPointer { gamma in
                beta.withOptionalPointer { beta in
                    Parallel.forEach(groups, grain: max(1, 8192 / max(inner, 1))) { range in
                        for group in range {
                            let row = values.baseAddress! + group * inner
                            var sum = 0.0
                            for j in 0..<inner { sum += Double(row[j]) }
                            let mean = sum / Double(inner)
                            var squares = 0.0
                            for j in 0..<inner {
                                let centered = Double(row[j]) - mean
                                squares += centered * centered
                            }
                            let inverse = 1 / (squares / Double(inner) + epsilon).squareRoot()
                            for j in 0..<inner {
                                var y = (Double(row[j]) - mean) * inverse
                                if let gamma { y *= Double(gamma[j]) }
                                if let beta { y += Double(beta[j]) }
                                row[j] = Float(y)
                            }
                        }
                    }
                }
            }
        }
        if !trailing {
            var inverse = [Int](repeating: 0, count: rank)
            for (position, axis) in permutation.enumerated() { inverse[axis] = position }
            x = transposed(x, inverse)
        }
        return x
    })
}

/// Keras' Normalization: (x − mean) / max(√variance, 1e-7), mean and variance broadcast.
func normalizeKernel(_ context: KernelContext) throws -> Kernel {
    let mean = try context.constant(1), variance = try context.constant(2)
    let deviation = TensorValue(unchecked: variance.shape, variance.values.map { max($0.squareRoot(), 1e-7) })
    return Kernel(run: { inputs, _ in
        let shape = inputs[0].shape
        let centered = try broadcastBinary(inputs.take(0), mean, .subtract, context)
        let result = try broadcastBinary(centered, deviation, .divide, context)
        guard result.shape == shape else {
            throw context.invalid("mean \(shapeText(mean.shape)) does not broadcast to the input \(shapeText(shape))")
        }
        return result
    })
}

/// Keras' Rescaling: x · scale + offset, scale and offset scalars or one value per last-axis channel.
func rescaleKernel(_ context: KernelContext) throws -> Kernel {
    let scaleValues = try context.attribute(.rescaleScale), offsetValues = try context.attribute(.rescaleOffset)
    let scale = TensorValue(unchecked: [scaleValues.count], scaleValues)
    let offset = TensorValue(unchecked: [offsetValues.count], offsetValues)
    return Kernel(run: { inputs, _ in
        let shape = inputs[0].shape
        var result = try broadcastBinary(inputs.take(0), scale, .multiply, context)
        result = try broadcastBinary(result, offset, .add, context)
        guard result.shape == shape else {
            throw context.invalid("scale/offset of \(scaleValues.count)/\(offsetValues.count) values do not fit the input \(shapeText(shape))")
        }
        return result
    })
}
