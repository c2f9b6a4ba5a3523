import GraphIR

// add, subtract, multiply, maximum, minimum, average with numpy broadcasting, n-ary ops folded
// left to right as Keras' merge layers do.

/// A binary float function the broadcasting loops are specialized for.
protocol BinaryFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
}

enum AddFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubtractFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MultiplyFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivideFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum MaximumFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { max(a, b) } }
enum MinimumFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { min(a, b) } }
/// PReLU with a = x, b = α.
enum PReLUFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > 0 ? a : b * a } }

/// numpy broadcasting of two static shapes, or nil when they do not broadcast.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let left = Array(repeating: 1, count: rank - a.count) + a, right = Array(repeating: 1, count: rank - b.count) + b
    var shape: [Int] = []
    for (x, y) in zip(left, right) {
        if x == y || y == 1 { shape.append(x) } else if x == 1 { shape.append(y) } else { return nil }
    }
    return shape
}

/// When `small` repeats as a trailing block of `shape` (its leading 1s dropped, a suffix of
/// `shape`), the block's element count; scalars give 1 and equal shapes the full count.
private func trailingBlock(_ small: [Int], of shape: [Int]) -> Int? {
    let trimmed = Array(small.drop { $0 == 1 })
    guard trimmed.count <= shape.count, Array(shape.suffix(trimmed.count)) == trimmed else { return nil }
    return trimmed.reduce(1, *)
}

/// f(a, b) elementwise with broadcasting. Reuses a's (or b's) storage when it already has the
/// output shape, so pass inputs taken from the kernel's input list.
func broadcastBinary<F: BinaryFunction>(_ a: TensorValue, _ b: TensorValue, _: F.Type, _ context: KernelContext) throws -> TensorValue {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw context.invalid("shapes \(shapeText(a.shape)) and \(shapeText(b.shape)) do not broadcast")
    }
    let count = shape.reduce(1, *)
    guard count > 0 else { return TensorValue(unchecked: shape, []) }
    if a.shape == shape, let block = trailingBlock(b.shape, of: shape) {
        var result = a
        result.values.withUnsafeMutableBufferPointer { out in
            b.values.withUnsafeBufferPointer { small in
                blockLoop(F.self, out.baseAddress!, small.baseAddress!, count: count, block: block, smallFirst: false)
            }
        }
        return result
    }
    if b.shape == shape, let block = trailingBlock(a.shape, of: shape) {
        var result = b
        result.values.withUnsafeMutableBufferPointer { out in
            a.values.withUnsafeBufferPointer { small in
                blockLoop(F.self, out.baseAddress!, small.baseAddress!, count: count, block: block, smallFirst: true)
            }
        }
        return result
    }
    // General case: strides of 0 along broadcast axes, the last axis as the inner loop.
    let rank = shape.count
    func strides(_ source: [Int]) -> [Int] {
        let aligned = Array(repeating: 1, count: rank - source.count) + source
        var result = [Int](repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            result[axis] = aligned[axis] == 1 ? 0 : step
            step *= aligned[axis]
        }
        return result
    }
    let aStrides = strides(a.shape), bStrides = strides(b.shape)
    let output = a.values.withUnsafeBufferPointer { left in
        b.values.withUnsafeBufferPointer { right in
            makeValues(count) { out in
                let last = shape[rank - 1], aStep = aStrides[rank - 1], bStep = bStrides[rank - 1]
                var index = [Int](repeating: 0, count: rank)
                var aOffset = 0, bOffset = 0
                for line in 0..<(count / last) {
                    let target = out + line * last
                    for j in 0..<last { target[j] = F.apply(left[aOffset + j * aStep], right[bOffset + j * bStep]) }
                    var axis = rank - 2
                    while axis >= 0 {
                        index[axis] += 1
                        aOffset += aStrides[axis]
                        bOffset += bStrides[axis]
                        if index[axis] < shape[axis] { break }
                        aOffset -= aStrides[axis] * shape[axis]
                        bOffset -= bStrides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }
    return TensorValue(unchecked: shape, output)
}

/// out[i] = f(out[i], small[i mod block]) (or f(small[…], out[i]) when `smallFirst`), in
/// parallel over whole blocks; the inner loop is specialized per function and vectorizes.
private func blockLoop<F: BinaryFunction>(_: F.Type, _ out: UnsafeMutablePointer<Float>, _ small: UnsafePointer<Float>,
                                          count: Int, block: Int, smallFirst: Bool) {
    if block == 1 {
        let scalar = small[0]
        Parallel.forEach(count, grain: 1 << 15) { range in
            if smallFirst {
                for i in range { out[i] = F.apply(scalar, out[i]) }
            } else {
                for i in range { out[i] = F.apply(out[i], scalar) }
            }
        }
    } else if block == count {
        Parallel.forEach(count, grain: 1 << 15) { range in
            if smallFirst {
                for i in range { out[i] = F.apply(small[i], out[i]) }
            } else {
                for i in range { out[i] = F.apply(out[i], small[i]) }
            }
        }
    } else {
        Parallel.forEach(count / block, grain: max(1, (1 << 15) / block)) { range in
            for outer in range {
                let row = out + outer * block
                if smallFirst {
                    for j in 0..<block { row[j] = F.apply(small[j], row[j]) }
                } else {
                    for j in 0..<block { row[j] = F.apply(row[j], small[j]) }
                }
            }
        }
    }
}

func elementwiseKernel<F: BinaryFunction>(_ context: KernelContext, _ function: F.Type) throws -> Kernel {
    try context.expectAttributes([])
    return Kernel(run: { inputs, _ in
        var result = inputs.take(0)
        for index in 1..<inputs.count {
            result = try broadcastBinary(result, inputs.take(index), F.self, context)
        }
        return result
    })
}

/// Keras' Average: the inputs' sum divided by their count.
func averageKernel(_ context: KernelContext) throws -> Kernel {
    try context.expectAttributes([])
    return Kernel(run: { inputs, _ in
        let count = Float(inputs.count)
        var result = inputs.take(0)
        for index in 1..<inputs.count {
            result = try broadcastBinary(result, inputs.take(index), AddFunction.self, context)
        }
        result.values.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] /= count }
        }
        return result
    })
}
