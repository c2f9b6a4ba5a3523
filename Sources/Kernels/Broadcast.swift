// numpy broadcasting: shapes, strides, row iteration and the binary elementwise loop both
// interpreters run (ADD … MINIMUM, merge layers), specialized per function.

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

/// Strides of `source` read as `rank` dimensions broadcast to a larger shape: 0 along axes
/// where `source` has size 1 (or is missing).
public func broadcastStrides(_ source: [Int], rank: Int) -> [Int] {
    let aligned = Array(repeating: 1, count: rank - source.count) + source
    var strides = [Int](repeating: 0, count: rank)
    var step = 1
    for axis in stride(from: rank - 1, through: 0, by: -1) {
        strides[axis] = aligned[axis] == 1 ? 0 : step
        step *= aligned[axis]
    }
    return strides
}

/// Maps a flat index of `shape` to the flat index of the element of `source` (broadcast to
/// `shape`) it reads.
public func broadcastIndex(_ source: [Int], to shape: [Int]) -> (Int) -> Int {
    let strides = broadcastStrides(source, rank: shape.count)
    return { flat in
        var remaining = flat, offset = 0
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            offset += (remaining % shape[axis]) * strides[axis]
            remaining /= shape[axis]
        }
        return offset
    }
}

/// Applies `body(outputRow, [offset of each operand's row], innerStrides)` over the rows (last
/// axis) of the broadcast output shape.
public func forEachBroadcastRow(_ shape: [Int], operands: [[Int]], _ body: (_ start: Int, _ offsets: [Int], _ steps: [Int]) -> Void) {
    let rank = shape.count
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    let strides = operands.map { broadcastStrides($0, rank: rank) }
    let inner = rank == 0 ? 1 : shape[rank - 1]
    let steps = strides.map { rank == 0 ? 0 : $0[rank - 1] }
    var index = [Int](repeating: 0, count: max(rank - 1, 0))
    for row in 0..<(count / inner) {
        var offsets = [Int](repeating: 0, count: operands.count)
        for axis in 0..<index.count {
            for k in operands.indices { offsets[k] += index[axis] * strides[k][axis] }
        }
        body(row * inner, offsets, steps)
        advance(&index, within: shape)
    }
}

/// When `small` repeats as a trailing block of `shape` (its leading 1s dropped, a suffix of
/// `shape`), the block's element count; scalars give 1 and equal shapes the full count.
private func trailingBlock(_ small: [Int], of shape: [Int]) -> Int? {
    let trimmed = Array(small.drop { $0 == 1 })
    guard trimmed.count <= shape.count, Array(shape.suffix(trimmed.count)) == trimmed else { return nil }
    return trimmed.reduce(1, *)
}

/// A binary float function the broadcasting loops are specialized for.
public protocol BinaryFunction {
    func apply(_ a: Float, _ b: Float) -> Float
}

/// The binary functions the graph IR and TFLite share, each a specialized loop.
public enum BinaryOperator: Sendable, CaseIterable {
    case add, subtract, multiply, divide, maximum, minimum
    /// Keras' PReLU with a = x, b = α: a > 0 ? a : b · a.
    case prelu
}

private struct AddFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { a + b } }
private struct SubtractFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { a - b } }
private struct MultiplyFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { a * b } }
private struct DivideFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { a / b } }
private struct MaximumFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { max(a, b) } }
private struct MinimumFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { min(a, b) } }
private struct PReLUFunction: BinaryFunction { @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { a > 0 ? a : b * a } }
/// Any other function (TFLite's POW, FLOOR_MOD, comparisons…), called through a closure.
private struct ClosureFunction: BinaryFunction {
    let body: (Float, Float) -> Float
    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { body(a, b) }
}

/// Something done with a binary function, specialized for each of `BinaryOperator`'s.
private protocol BinaryFunctionUse {
    associatedtype Result
    func callAsFunction<F: BinaryFunction>(_ function: F) -> Result
}

extension BinaryOperator {
    /// `use` called with this operator's specialized function.
    fileprivate func with<U: BinaryFunctionUse>(_ use: U) -> U.Result {
        switch self {
        case .add: return use(AddFunction())
        case .subtract: return use(SubtractFunction())
        case .multiply: return use(MultiplyFunction())
        case .divide: return use(DivideFunction())
        case .maximum: return use(MaximumFunction())
        case .minimum: return use(MinimumFunction())
        case .prelu: return use(PReLUFunction())
        }
    }
}

/// `operation`(a, b) elementwise, broadcast to `shape` (`broadcastShape(a.shape, b.shape)`, checked
/// by the caller). Reuses a's (or b's) storage when it already has the output shape.
public func broadcastBinary(_ a: TensorValue, _ b: TensorValue, shape: [Int], _ operation: BinaryOperator) -> TensorValue {
    struct Broadcast: BinaryFunctionUse {
        let a: TensorValue, b: TensorValue, shape: [Int]
        func callAsFunction<F: BinaryFunction>(_ function: F) -> TensorValue { broadcastBinary(a, b, shape: shape, function) }
    }
    return operation.with(Broadcast(a: a, b: b, shape: shape))
}

/// Which operand's storage `elementwise` writes its result into.
public enum ElementwiseTarget: Sendable {
    /// New storage.
    case new
    /// The first (second) operand's: the caller passes the operand's only reference — a value
    /// taken out of an interpreter's argument list for a tensor that dies at this operator — so
    /// the result goes where it was, with no fresh buffer to fill (a quarter less memory traffic
    /// than reading two operands and writing a third). A shared value is copied first, as any
    /// copy-on-write value is, and the result is the same.
    case first, second
}

/// `operation`(a, b) of two tensors of one shape, clipped to `clip`, into new storage or into
/// `target`'s: one pass on both cores (a residual connection's ADD and its fused RELU) where a
/// shared input would otherwise be copied, updated and clipped in three. With `extremes`, each
/// block of 4096 results is scanned for its finite extremes while still in cache (see
/// `OutputExtremes`).
public func elementwise(_ a: consuming TensorValue, _ b: consuming TensorValue, _ operation: BinaryOperator, clip: ActivationClip?,
                        extremes note: OutputExtremes? = nil, into target: ElementwiseTarget = .new) -> TensorValue {
    precondition(a.shape == b.shape)
    struct SameShape: BinaryFunctionUse {
        /// nil: that operand is `out` itself (each loop then reads and writes one pointer, so the
        /// compiler's overlap check passes and the loop stays vectorized).
        let a: UnsafePointer<Float>?, b: UnsafePointer<Float>?
        let out: UnsafeMutablePointer<Float>, count: Int
        let clip: ActivationClip?, note: OutputExtremes?
        func callAsFunction<F: BinaryFunction>(_ function: F) {
            Parallel.forEach(count, grain: 1 << 15) { range in
                OutputExtremes.gathering(into: note) { extremes in
                    let step = extremes == nil ? range.count : 4096
                    for start in stride(from: range.lowerBound, to: range.upperBound, by: step) {
                        let block = start..<min(start + step, range.upperBound)
                        let low = clip?.low ?? -.infinity, high = clip?.high ?? .infinity
                        switch (a, b) {
                        case let (a?, b?):
                            if clip != nil {
                                for i in block { out[i] = min(max(function.apply(a[i], b[i]), low), high) }
                            } else {
                                for i in block { out[i] = function.apply(a[i], b[i]) }
                            }
                        case let (nil, b?):
                            if clip != nil {
                                for i in block { out[i] = min(max(function.apply(out[i], b[i]), low), high) }
                            } else {
                                for i in block { out[i] = function.apply(out[i], b[i]) }
                            }
                        case let (a?, nil):
                            if clip != nil {
                                for i in block { out[i] = min(max(function.apply(a[i], out[i]), low), high) }
                            } else {
                                for i in block { out[i] = function.apply(a[i], out[i]) }
                            }
                        case (nil, nil):
                            preconditionFailure("one operand at most is the output")
                        }
                        OutputExtremes.widen(extremes, scanning: out + start, count: block.count)
                    }
                }
            }
        }
    }
    defer { note?.complete() }
    let count = a.count, shape = a.shape
    guard count > 0 else { return TensorValue(unchecked: shape, []) }
    switch target {
    case .new:
        let values = a.values.withUnsafeBufferPointer { a in
            b.values.withUnsafeBufferPointer { b in
                makeValues(count) { out in
                    operation.with(SameShape(a: a.baseAddress!, b: b.baseAddress!, out: out, count: count, clip: clip, note: note))
                }
            }
        }
        return TensorValue(unchecked: shape, values)
    case .first:
        var result = consume a
        result.withUnsafeMutableValues { out in
            b.values.withUnsafeBufferPointer { b in
                let out = out.baseAddress!
                operation.with(SameShape(a: nil, b: b.baseAddress!, out: out, count: count, clip: clip, note: note))
            }
        }
        return result
    case .second:
        var result = consume b
        result.withUnsafeMutableValues { out in
            a.values.withUnsafeBufferPointer { a in
                let out = out.baseAddress!
                operation.with(SameShape(a: a.baseAddress!, b: nil, out: out, count: count, clip: clip, note: note))
            }
        }
        return result
    }
}

/// `function`(a, b) elementwise, broadcast to `shape`, for functions without a specialized loop.
public func broadcastBinary(_ a: TensorValue, _ b: TensorValue, shape: [Int], function: (Float, Float) -> Float) -> TensorValue {
    withoutActuallyEscaping(function) { function in broadcastBinary(a, b, shape: shape, ClosureFunction(body: function)) }
}

/// f(a, b) elementwise with broadcasting to `shape` (`broadcastShape(a.shape, b.shape)`, which
/// the caller has checked). Reuses a's (or b's) storage when it already has the output shape, so
/// pass inputs taken from the kernel's input list.
func broadcastBinary<F: BinaryFunction>(_ a: TensorValue, _ b: TensorValue, shape: [Int], _ function: F) -> TensorValue {
    let count = shape.reduce(1, *)
    guard count > 0 else { return TensorValue(unchecked: shape, []) }
    if a.shape == shape, let block = trailingBlock(b.shape, of: shape) {
        return updating(a, with: b, block: block, function)
    }
    if b.shape == shape, let block = trailingBlock(a.shape, of: shape) {
        return updating(b, with: a, block: block, Swapped(function: function))
    }
    // General case: strides of 0 along broadcast axes, the last axis as the inner loop.
    let rank = shape.count
    let aStrides = broadcastStrides(a.shape, rank: rank), bStrides = broadcastStrides(b.shape, rank: rank)
    let output = a.values.withUnsafeBufferPointer { left in
        b.values.withUnsafeBufferPointer { right in
            makeValues(count) { out in
                let last = shape[rank - 1], aStep = aStrides[rank - 1], bStep = bStrides[rank - 1]
                var index = [Int](repeating: 0, count: rank)
                var aOffset = 0, bOffset = 0
                for line in 0..<(count / last) {
                    let target = out + line * last
                    for j in 0..<last { target[j] = function.apply(left[aOffset + j * aStep], right[bOffset + j * bStep]) }
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

/// `large` with each element x replaced by f(x, small[i mod block]), in place (no copy when the
/// caller held the last reference).
private func updating<F: BinaryFunction>(_ large: TensorValue, with small: TensorValue, block: Int, _ function: F) -> TensorValue {
    var result = large
    let count = result.count
    result.withUnsafeMutableValues { out in
        small.values.withUnsafeBufferPointer { small in
            blockLoop(function, out.baseAddress!, small.baseAddress!, count: count, block: block)
        }
    }
    return result
}

/// A function with its arguments exchanged: f(b, a).
private struct Swapped<F: BinaryFunction>: BinaryFunction {
    let function: F
    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float { function.apply(b, a) }
}

/// out[i] = f(out[i], small[i mod block]).
private func blockLoop<F: BinaryFunction>(_ function: F, _ out: UnsafeMutablePointer<Float>, _ small: UnsafePointer<Float>,
                                          count: Int, block: Int) {
    if block == 1 {
        let scalar = small[0]
        Parallel.forEach(count, grain: 1 << 15) { range in
            for i in range { out[i] = function.apply(out[i], scalar) }
        }
    } else if block == count {
        Parallel.forEach(count, grain: 1 << 15) { range in
            for i in range { out[i] = function.apply(out[i], small[i]) }
        }
    } else {
        Parallel.forEach(count / block, grain: max(1, (1 << 15) / block)) { range in
            for outer in range {
                let row = out + outer * block
                for j in 0..<block { row[j] = function.apply(row[j], small[j]) }
            }
        }
    }
}

