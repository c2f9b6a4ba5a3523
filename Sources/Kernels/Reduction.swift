/// What a reduction computes over the elements that reduce to one output element.
public enum Reduction: Sendable, CaseIterable {
    case mean, sum, product, maximum, minimum
    /// 1 when any element is non-zero, else 0.
    case any
    /// 1 when every element is non-zero, else 0.
    case all
}

/// `x` reduced to `reducedShape` (x's shape with each reduced axis 1): one walk over the input in
/// row-major order, each element accumulated in Double into the output element it reduces to,
/// then rounded to Float (a mean divides first).
public func reduce(_ x: TensorValue, to reducedShape: [Int], _ reduction: Reduction) -> [Float] {
    let count = reducedShape.reduce(1, *)
    let initial: Double
    switch reduction {
    case .mean, .sum, .any: initial = 0
    case .product, .all: initial = 1
    case .maximum: initial = -.infinity
    case .minimum: initial = .infinity
    }
    var accumulators = [Double](repeating: initial, count: count)
    // Walk the input once; each element adds into the output element it reduces to.
    let strides = broadcastStrides(reducedShape, rank: x.rank)
    var index = [Int](repeating: 0, count: x.rank), offset = 0
    x.values.withUnsafeBufferPointer { source in
        for position in 0..<x.count {
            let element = Double(source[position])
            switch reduction {
            case .mean, .sum: accumulators[offset] += element
            case .product: accumulators[offset] *= element
            case .maximum: accumulators[offset] = max(accumulators[offset], element)
            case .minimum: accumulators[offset] = min(accumulators[offset], element)
            case .any: if element != 0 { accumulators[offset] = 1 }
            case .all: if element == 0 { accumulators[offset] = 0 }
            }
            var axis = x.rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < x.shape[axis] { break }
                offset -= strides[axis] * x.shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
    if case .mean = reduction {
        let reduced = max(x.count / max(count, 1), 1)
        for i in accumulators.indices { accumulators[i] /= Double(reduced) }
    }
    return accumulators.map { Float($0) }
}
