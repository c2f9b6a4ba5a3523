import CKernels

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

/// The smallest and largest finite element of `values` (nil when none is finite): 16 lanes at a
/// time (AVX-512, Sources/CKernels; SIMD4 elsewhere) on both cores — calibration scans every intermediate tensor of every sample with it.
/// Infinities and NaNs are skipped, as a scalar `x.isFinite` filter would.
public func finiteExtremes(_ values: UnsafeBufferPointer<Float>) -> (low: Float, high: Float)? {
    guard let base = values.baseAddress, !values.isEmpty else { return nil }
    let count = values.count
    let chunks = min(Parallel.workers, max(1, count / (1 << 16)))
    var lows = [Float](repeating: .infinity, count: chunks), highs = [Float](repeating: -.infinity, count: chunks)
    lows.withUnsafeMutableBufferPointer { lows in
        highs.withUnsafeMutableBufferPointer { highs in
            Parallel.forEachChunk(count, chunks: chunks) { chunk, range in
                (lows[chunk], highs[chunk]) = chunkExtremes(base + range.lowerBound, count: range.count)
            }
        }
    }
    let low = lows.min()!, high = highs.max()!
    return low <= high ? (low, high) : nil
}

/// The same on the calling thread, (+∞, −∞) when no element is finite.
func chunkExtremes(_ x: UnsafePointer<Float>, count: Int) -> (Float, Float) {
    guard GEMM.packedAvailable else { return finiteExtremes(x, count: count) }
    var low = Float.infinity, high = -Float.infinity
    ck_finite_extremes(x, count, &low, &high)
    return (low, high)
}

/// One core's share: minimum and maximum in SIMD4 lanes (the build's baseline x86-64 vector width),
/// four accumulators deep; x·0 summed beside them turns NaN when an element is infinite or NaN,
/// and only then is the share scanned again skipping those.
private func finiteExtremes(_ x: UnsafePointer<Float>, count: Int) -> (Float, Float) {
    typealias Lanes = SIMD4<Float>
    var low0 = Lanes(repeating: .infinity), low1 = low0, low2 = low0, low3 = low0
    var high0 = Lanes(repeating: -.infinity), high1 = high0, high2 = high0, high3 = high0
    var poison = Lanes(repeating: 0)
    var index = 0
    let raw = UnsafeRawPointer(x)
    while index + 16 <= count {
        let a = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
        let b = raw.loadUnaligned(fromByteOffset: index * 4 + 16, as: Lanes.self)
        let c = raw.loadUnaligned(fromByteOffset: index * 4 + 32, as: Lanes.self)
        let d = raw.loadUnaligned(fromByteOffset: index * 4 + 48, as: Lanes.self)
        low0 = lanewiseMin(low0, a); high0 = lanewiseMax(high0, a)
        low1 = lanewiseMin(low1, b); high1 = lanewiseMax(high1, b)
        low2 = lanewiseMin(low2, c); high2 = lanewiseMax(high2, c)
        low3 = lanewiseMin(low3, d); high3 = lanewiseMax(high3, d)
        poison += (a + b + c + d) * 0
        index += 16
    }
    var lowest = lanewiseMin(lanewiseMin(low0, low1), lanewiseMin(low2, low3)).min()
    var highest = lanewiseMax(lanewiseMax(high0, high1), lanewiseMax(high2, high3)).max()
    var clean = poison.sum() == 0 && lowest.isFinite && highest.isFinite
    while index < count {
        let value = x[index]
        clean = clean && value.isFinite
        lowest = min(lowest, value)
        highest = max(highest, value)
        index += 1
    }
    if clean { return (lowest, highest) }
    lowest = .infinity
    highest = -.infinity
    for i in 0..<count where x[i].isFinite {
        lowest = min(lowest, x[i])
        highest = max(highest, x[i])
    }
    return (lowest, highest)
}

// The standard library's pointwiseMin/pointwiseMax stay out-of-line calls in this build; these
// inline into one minps/maxps each.
@inline(__always) private func lanewiseMin(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    SIMD4(b[0] < a[0] ? b[0] : a[0], b[1] < a[1] ? b[1] : a[1], b[2] < a[2] ? b[2] : a[2], b[3] < a[3] ? b[3] : a[3])
}
@inline(__always) private func lanewiseMax(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    SIMD4(b[0] > a[0] ? b[0] : a[0], b[1] > a[1] ? b[1] : a[1], b[2] > a[2] ? b[2] : a[2], b[3] > a[3] ? b[3] : a[3])
}
