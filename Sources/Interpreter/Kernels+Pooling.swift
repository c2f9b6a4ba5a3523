import GraphIR
import Kernels

// max/avg pooling (1-D as height 1), global pooling and resize (UpSampling2D).

/// Max or average pooling with TensorFlow's padding: SAME windows at the border cover only the
/// input elements inside (max ignores the padding, average divides by the elements inside).
func poolKernel(_ context: KernelContext, spatialRank: Int, isMax: Bool) throws -> Kernel {
    let size = try context.attribute(.poolSize, count: spatialRank), strides = try context.attribute(.strides, count: spatialRank)
    guard (size + strides).allSatisfy({ $0 >= 1 }) else { throw context.invalid("pool_size \(size) / strides \(strides) must be ≥ 1") }
    let padding = try PaddingMode(context, allowCausal: false)
    let rows = spatialRank == 2 ? AxisWindow(window: size[0], stride: strides[0], padding: padding) : AxisWindow(window: 1, stride: 1, padding: .valid)
    let columns = AxisWindow(window: size[spatialRank - 1], stride: strides[spatialRank - 1], padding: padding)
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank == spatialRank + 2 else { throw context.invalid("input shape \(shapeText(x.shape)) needs rank \(spatialRank + 2)") }
        let g = ConvGeometry(batch: x.shape[0], height: spatialRank == 2 ? x.shape[1] : 1, width: x.shape[spatialRank],
                             channels: x.shape[spatialRank + 1], rows: rows, columns: columns)
        let channels = g.channels
        let count = g.outputPixels * channels
        let output = x.values.withUnsafeBufferPointer { input in
            makeValues(count) { output in
                if count > 0 { pool(input.baseAddress!, g, isMax ? .maximum : .average, output: output) }
            }
        }
        let shape = spatialRank == 2 ? [g.batch, g.outputHeight, g.outputWidth, channels] : [g.batch, g.outputWidth, channels]
        return TensorValue(unchecked: shape, output)
    })
}

/// Mean or max over every axis between the batch and the channels.
func globalPoolKernel(_ context: KernelContext, isMax: Bool) throws -> Kernel {
    let keepDims = try context.attribute(.keepDims)
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank >= 3 else { throw context.invalid("input shape \(shapeText(x.shape)) needs rank ≥ 3") }
        let batch = x.shape[0], channels = x.shape[x.rank - 1]
        let positions = x.shape.dropFirst().dropLast().reduce(1, *)
        let reducedShape = [batch] + Array(repeating: 1, count: x.rank - 2) + [channels]
        // No positions: zeros (a max over nothing would be −∞).
        let output = positions == 0 ? [Float](repeating: 0, count: batch * channels)
            : reduce(x, to: reducedShape, isMax ? .maximum : .mean)
        let shape = keepDims ? [batch] + Array(repeating: 1, count: x.rank - 2) + [channels] : [batch, channels]
        return TensorValue(unchecked: shape, output)
    })
}

/// UpSampling2D (a scale) and Resizing (a size): nearest is tf.image.resize's half-pixel rule
/// (min(⌊(o + ½)·in/out⌋, in − 1), Keras' ops.repeat for integer scales); bilinear is tf.image.resize
/// with half-pixel centres (source = (o + ½)·in/out − ½, clamped), computed in float32 as TensorFlow does.
func resizeKernel(_ context: KernelContext) throws -> Kernel {
    let scale = try context.optionalAttribute(.resizeScale, count: 2)
    let size = try context.optionalAttribute(.resizeSize, count: 2)
    guard scale != nil || size != nil else { throw context.invalid("resize needs a scale or a size") }
    guard (scale ?? [1, 1]).allSatisfy({ $0 >= 1 }) else { throw context.invalid("scale \(scale!) must be ≥ 1") }
    guard (size ?? [1, 1]).allSatisfy({ $0 >= 1 }) else { throw context.invalid("size \(size!) must be ≥ 1") }
    let method = try context.attribute(.method)
    guard method == "nearest" || method == "bilinear" else { throw context.unsupported("resize method '\(method)'") }
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank == 4 else { throw context.invalid("input shape \(shapeText(x.shape)) needs rank 4") }
        let batch = x.shape[0], height = x.shape[1], width = x.shape[2], channels = x.shape[3]
        let count: Int
        if let scale {
            count = try context.elementCount([batch, height, scale[0], width, scale[1], channels])
        } else {
            count = try context.elementCount([batch, size![0], size![1], channels])
        }
        let outputHeight = size?[0] ?? height * scale![0], outputWidth = size?[1] ?? width * scale![1]

        if method == "nearest" {
            func sources(input: Int, output: Int) -> [Int] {
                let ratio = Float(input) / Float(output)
                return (0..<output).map { min(Int(((Float($0) + 0.5) * ratio).rounded(.down)), input - 1) }
            }
            let lists = [Array(0..<batch), sources(input: height, output: outputHeight), sources(input: width, output: outputWidth),
                         Array(0..<channels)]
            return TensorValue(unchecked: [batch, outputHeight, outputWidth, channels], selectAlongAxes(x, lists))
        }
        func taps(input: Int, output: Int) -> [BilinearTap] {
            let ratio = Float(input) / Float(output)
            return (0..<output).map { o in
                let source = (Float(o) + 0.5) * ratio - 0.5
                let lower = source.rounded(.down)
                return BilinearTap(low: max(Int(lower), 0), high: min(Int(source.rounded(.up)), input - 1), fraction: source - lower)
            }
        }
        let rows = taps(input: height, output: outputHeight), columns = taps(input: width, output: outputWidth)
        let output = x.values.withUnsafeBufferPointer { input in
            makeValues(count) { output in
                if count > 0 {
                    resizeBilinear(input.baseAddress!, batch: batch, height: height, width: width, channels: channels,
                                   rows: rows, columns: columns, blend: .lerp, output: output)
                }
            }
        }
        return TensorValue(unchecked: [batch, outputHeight, outputWidth, channels], output)
    })
}
