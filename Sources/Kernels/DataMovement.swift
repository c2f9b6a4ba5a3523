// Data movement both interpreters share: transposition, selection of elements per axis (slice,
// pad, mirror pad, tile, gather along axes) and concatenation. No arithmetic, so any loop order
// gives the same values.

/// Row-major strides of `shape`.
public func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = step
        step *= shape[axis]
    }
    return strides
}

/// The tensor whose element [i₀, …, iₙ] is x[indices[0][i₀], …, indices[n][iₙ]], or `fill` where
/// any index is −1 (padding). Indices must lie inside x's shape (callers check). Trailing axes that
/// select every element in order (a pad or slice leaves the channels alone) form one contiguous
/// block, and consecutive indices along the axis before them are copied as one run of blocks.
public func selectAlongAxes(_ x: TensorValue, _ indices: [[Int]], fill: Float = 0) -> [Float] {
    let shape = indices.map(\.count)
    let count = shape.reduce(1, *)
    guard count > 0 else { return [] }
    guard !shape.isEmpty else { return x.values }
    let rank = shape.count
    var split = rank - 1
    while split > 0, indices[split].count == x.shape[split], indices[split].elementsEqual(0..<x.shape[split]) { split -= 1 }
    let strides = rowMajorStrides(x.shape)
    let block = strides[split]  // elements of the identity axes after `split`, contiguous in x and in the output
    // Runs along axis `split`: (first output index, first input index, length) of consecutive indices.
    var runs: [(target: Int, source: Int, length: Int)] = []
    for (position, index) in indices[split].enumerated() where index >= 0 {
        if let last = runs.last, last.target + last.length == position, last.source + last.length == index {
            runs[runs.count - 1].length += 1
        } else {
            runs.append((position, index, 1))
        }
    }
    let offsets = indices[..<split].enumerated().map { axis, list in list.map { $0 < 0 ? -1 : $0 * strides[axis] } }
    let rowSize = shape[split] * block
    var output = [Float](repeating: fill, count: count)
    var index = [Int](repeating: 0, count: split)
    x.values.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { out in
            // An empty x can only be padded (every index −1): nothing to copy.
            guard let source = source.baseAddress, let out = out.baseAddress else { return }
            for row in 0..<(count / rowSize) {
                var base = 0, padded = false
                for axis in 0..<split {
                    let offset = offsets[axis][index[axis]]
                    if offset < 0 { padded = true; break }
                    base += offset
                }
                if !padded {
                    let target = out + row * rowSize
                    for run in runs {
                        (target + run.target * block).update(from: source + base + run.source * block, count: run.length * block)
                    }
                }
                advance(&index, within: shape)
            }
        }
    }
    return output
}

/// `x` with its axes reordered: output axis i is input axis permutation[i].
public func transposed(_ x: TensorValue, _ permutation: [Int]) -> TensorValue {
    let rank = x.rank
    if permutation == Array(0..<rank) { return x }
    var strides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * x.shape[axis + 1] }
    let shape = permutation.map { x.shape[$0] }
    let sourceStrides = permutation.map { strides[$0] }
    let values = x.values.withUnsafeBufferPointer { source in
        makeValues(x.count) { output in
            let last = shape[rank - 1], lastStride = sourceStrides[rank - 1]
            var index = [Int](repeating: 0, count: rank)
            var offset = 0
            for line in 0..<(x.count / max(last, 1)) {
                let target = output + line * last
                for j in 0..<last { target[j] = source[offset + j * lastStride] }
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    offset += sourceStrides[axis]
                    if index[axis] < shape[axis] { break }
                    offset -= sourceStrides[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
    return TensorValue(unchecked: shape, values)
}

/// The values of `parts` (equal on every axis but `axis`) joined along `axis` into `shape`.
public func concatenated(_ parts: [TensorValue], axis: Int, shape: [Int]) -> [Float] {
    let outer = shape[..<axis].reduce(1, *)
    var values: [Float] = []
    values.reserveCapacity(shape.reduce(1, *))
    for block in 0..<outer {
        for part in parts {
            let run = part.shape[axis...].reduce(1, *)
            values += part.values[(block * run)..<((block + 1) * run)]
        }
    }
    return values
}

/// Steps a multi-index to the next position in row-major order (the last axis of `index` fastest;
/// `shape` may be longer, its leading axes are the ones `index` counts).
@inline(__always) func advance(_ index: inout [Int], within shape: [Int]) {
    var axis = index.count - 1
    while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
    }
}
