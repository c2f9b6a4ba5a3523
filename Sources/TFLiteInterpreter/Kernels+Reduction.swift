import Foundation
import Kernels
import TFLite

// Reductions (MEAN, SUM, REDUCE_PROD/MAX/MIN/ANY/ALL), ARG_MAX/ARG_MIN, CUMSUM, SOFTMAX,
// LOG_SOFTMAX, L2_NORMALIZATION, LOCAL_RESPONSE_NORMALIZATION, pooling and resizing.

func reduceKernel(_ context: OperatorContext, _ reduction: Reduction) throws -> Kernel {
    try context.expect(inputs: 2...2)
    let keepDimensions = try context.options("ReducerOptions").bool(Field.ReducerOptions.keep_dims)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = Set(try integerInput(inputs, 1, context, "the axes").map { try context.axis($0, rank: x.rank) })
        var reducedShape = x.shape, shape: [Int] = []
        for axis in 0..<x.rank {
            if axes.contains(axis) {
                reducedShape[axis] = 1
                if keepDimensions { shape.append(1) }
            } else {
                shape.append(x.shape[axis])
            }
        }
        _ = try context.count(reducedShape)
        return [try context.tensor(shape, reduce(x, to: reducedShape, reduction))]
    }
}

func argumentKernel(_ context: OperatorContext, maximum: Bool) throws -> Kernel {
    try context.expect(inputs: 2...2)
    try context.expectTypes(["integer"], inputs: [])
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = try integerInput(inputs, 1, context, "the axis")
        guard axes.count == 1 else { throw context.invalid("needs one axis, got \(axes)") }
        let axis = try context.axis(axes[0], rank: x.rank)
        let outer = x.shape[..<axis].reduce(1, *), size = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        guard size > 0 else { throw context.invalid("axis \(axis) is empty") }
        var output = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0, bestValue = x.values[o * size * inner + i]
                for k in 1..<max(size, 1) {
                    let candidate = x.values[(o * size + k) * inner + i]
                    if maximum ? candidate > bestValue : candidate < bestValue { best = k; bestValue = candidate }
                }
                output[o * inner + i] = Float(best)
            }
        }
        var shape = x.shape
        shape.remove(at: axis)
        return [try context.tensor(shape, output)]
    }
}

func cumulativeSumKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    let options = context.options("CumsumOptions")
    let exclusive = try options.bool(ExtraFields.CumsumOptions.exclusive), reverse = try options.bool(ExtraFields.CumsumOptions.reverse)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = try integerInput(inputs, 1, context, "the axis")
        guard axes.count == 1 else { throw context.invalid("needs one axis, got \(axes)") }
        let axis = try context.axis(axes[0], rank: x.rank)
        let outer = x.shape[..<axis].reduce(1, *), size = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        var output = x.values
        for o in 0..<outer {
            for i in 0..<inner {
                var sum: Float = 0
                for step in 0..<size {
                    let k = reverse ? size - 1 - step : step
                    let position = (o * size + k) * inner + i
                    let element = x.values[position]
                    if exclusive { output[position] = sum; sum += element } else { sum += element; output[position] = sum }
                }
            }
        }
        return [try context.tensor(x.shape, output)]
    }
}

// MARK: - softmax and normalization

/// SOFTMAX (beta) and LOG_SOFTMAX over the last axis, with the maximum subtracted first.
func softmaxKernel(_ context: OperatorContext, logarithm: Bool) throws -> Kernel {
    try context.expect(inputs: 1...1)
    try context.expectTypes(["float", "quantized"])
    let beta = logarithm ? 1 : try context.options("SoftmaxOptions").float(Field.SoftmaxOptions.beta)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        var output = x.values
        let depth = x.shape.last ?? 1
        guard depth > 0 else { return [x] }
        output.withUnsafeMutableBufferPointer { values in
            softmax(values, outer: values.count / depth, axis: depth, inner: 1, logarithm: logarithm, beta: beta)
        }
        return [try context.tensor(x.shape, output)]
    }
}

func l2NormalizationKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    let activation = try context.options("L2NormOptions").activation(ExtraFields.L2NormOptions.fused_activation_function)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        var output = x.values
        let depth = x.shape.last ?? 1
        guard depth > 0 else { return [x] }
        for row in 0..<(output.count / depth) {
            var squares: Float = 0
            for c in 0..<depth { squares += output[row * depth + c] * output[row * depth + c] }
            let norm = max(squares.squareRoot(), 1e-6)
            for c in 0..<depth { output[row * depth + c] /= norm }
        }
        activation.apply(&output)
        return [try context.tensor(x.shape, output)]
    }
}

func localResponseNormalizationKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    let options = context.options("LocalResponseNormalizationOptions")
    let radius = try options.int(ExtraFields.LocalResponseNormalizationOptions.radius)
    let bias = try options.float(ExtraFields.LocalResponseNormalizationOptions.bias)
    let alpha = try options.float(ExtraFields.LocalResponseNormalizationOptions.alpha)
    let beta = try options.float(ExtraFields.LocalResponseNormalizationOptions.beta)
    guard radius >= 0, radius <= 1 << 20 else { throw context.invalid("radius \(radius)") }
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let depth = x.shape.last ?? 1
        guard x.rank == 4, depth > 0 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×H×W×C") }
        var output = x.values
        for row in 0..<(x.count / depth) {
            for c in 0..<depth {
                var sum: Float = 0
                for k in max(0, c - radius)...min(depth - 1, c + radius) { sum += x.values[row * depth + k] * x.values[row * depth + k] }
                output[row * depth + c] = x.values[row * depth + c] / powf(bias + alpha * sum, beta)
            }
        }
        return [try context.tensor(x.shape, output)]
    }
}

// MARK: - pooling

enum Pooling { case maximum, average, l2 }

func poolKernel(_ context: OperatorContext, _ pooling: Pooling) throws -> Kernel {
    try context.expect(inputs: 1...1)
    try context.expectTypes(["float", "quantized"])
    let options = context.options("Pool2DOptions")
    let padding = try options.padding(Field.Pool2DOptions.padding)
    let strideWidth = try options.positive(Field.Pool2DOptions.stride_w, "stride_w")
    let strideHeight = try options.positive(Field.Pool2DOptions.stride_h, "stride_h")
    let filterWidth = try options.positive(Field.Pool2DOptions.filter_width, "filter_width")
    let filterHeight = try options.positive(Field.Pool2DOptions.filter_height, "filter_height")
    let activation = try options.activation(Field.Pool2DOptions.fused_activation_function)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        guard x.rank == 4 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×H×W×C") }
        let g = ConvGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                             rows: AxisWindow(window: filterHeight, stride: strideHeight, padding: padding),
                             columns: AxisWindow(window: filterWidth, stride: strideWidth, padding: padding))
        let shape = [g.batch, g.outputHeight, g.outputWidth, g.channels]
        let count = try context.count(shape)
        let function: PoolFunction = switch pooling {
        case .maximum: .maximum
        case .average: .average
        case .l2: .l2
        }
        var output = x.values.withUnsafeBufferPointer { source in
            makeValues(count) { output in
                if count > 0 { pool(source.baseAddress!, g, function, output: output) }
            }
        }
        activation.apply(&output)
        return [try context.tensor(shape, output)]
    }
}

// MARK: - resizing

func resizeKernel(_ context: OperatorContext, bilinear: Bool) throws -> Kernel {
    try context.expect(inputs: 2...2)
    try context.expectTypes(["float", "quantized"], inputs: [0])
    let options = bilinear ? context.options("ResizeBilinearOptions") : context.options("ResizeNearestNeighborOptions")
    let alignCorners = try options.bool(bilinear ? Field.ResizeBilinearOptions.align_corners : Field.ResizeNearestNeighborOptions.align_corners)
    let halfPixel = try options.bool(bilinear ? Field.ResizeBilinearOptions.half_pixel_centers
                                              : Field.ResizeNearestNeighborOptions.half_pixel_centers)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let size = try integerInput(inputs, 1, context, "the size")
        guard x.rank == 4, size.count == 2, size.allSatisfy({ $0 >= 1 }) else {
            throw context.invalid("needs an N×H×W×C input and a size of two positive values, got \(shapeText(x.shape)) and \(size)")
        }
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let shape = [batch, size[0], size[1], channels]
        let count = try context.count(shape)
        guard height > 0, width > 0 else { throw context.invalid("the input \(shapeText(x.shape)) is empty") }
        func scale(_ input: Int, _ output: Int) -> Float {
            alignCorners && output > 1 ? Float(input - 1) / Float(output - 1) : Float(input) / Float(output)
        }
        let heightScale = scale(height, size[0]), widthScale = scale(width, size[1])
        if !bilinear {
            // LiteRT's GetNearestNeighbor.
            func nearest(_ index: Int, _ inputSize: Int, _ scale: Float) -> Int {
                let offset: Float = halfPixel ? 0.5 : 0
                let position = (Float(index) + offset) * scale
                var result = min(alignCorners ? Int(position.rounded(.toNearestOrAwayFromZero)) : Int(position.rounded(.down)), inputSize - 1)
                if halfPixel { result = max(0, result) }
                return result
            }
            let lists = [Array(0..<batch), (0..<size[0]).map { nearest($0, height, heightScale) },
                         (0..<size[1]).map { nearest($0, width, widthScale) }, Array(0..<channels)]
            return [try context.tensor(shape, selectAlongAxes(x, lists))]
        }
        // LiteRT's ComputeInterpolationValues: (position, lower index, upper index) per output index.
        func interpolation(_ index: Int, _ inputSize: Int, _ scale: Float) -> (Float, Int, Int) {
            let position = halfPixel ? (Float(index) + 0.5) * scale - 0.5 : Float(index) * scale
            return (position, max(Int(position.rounded(.down)), 0), min(Int(position.rounded(.up)), inputSize - 1))
        }
        let rows = (0..<size[0]).map { interpolation($0, height, heightScale) }
        let columns = (0..<size[1]).map { interpolation($0, width, widthScale) }
        let output = x.values.withUnsafeBufferPointer { source in
            makeValues(count) { output in
                guard count > 0 else { return }
                resizeBilinear(source.baseAddress!, batch: batch, height: height, width: width, channels: channels,
                               rows: rows.map { BilinearTap(low: $0.1, high: $0.2, fraction: $0.0 - Float($0.1)) },
                               columns: columns.map { BilinearTap(low: $0.1, high: $0.2, fraction: $0.0 - Float($0.1)) },
                               blend: .weightedCorners, output: output)
            }
        }
        return [try context.tensor(shape, output)]
    }
}
