/// Matrix products over the last two axes of two tensors whose leading (batch) axes broadcast,
/// as TFLite's BATCH_MATMUL: C[…, m, n] = op(A)[…, m, k] · op(B)[…, k, n], where op transposes the
/// last two axes when `adjointX` / `adjointY` is set. One GEMM per batch entry (split over the
/// cores by `Parallel` when there are several); an adjoint A is gathered into a copy first.
public func batchMatMul(_ x: TensorValue, _ y: TensorValue, adjointX: Bool = false, adjointY: Bool = false) throws -> TensorValue {
    let shape = try batchMatMulShape(x.shape, y.shape, adjointX: adjointX, adjointY: adjointY)
    guard let count = checkedCount(shape) else { throw KernelError.invalidArgument("batch matmul output \(shapeText(shape)) is too large") }
    let batchShape = Array(shape.dropLast(2)), m = shape[shape.count - 2], n = shape[shape.count - 1]
    let k = adjointX ? x.shape[x.rank - 2] : x.shape[x.rank - 1]
    try GEMM.check(m, n, k)
    let xBatch = broadcastIndex(Array(x.shape.dropLast(2)), to: batchShape)
    let yBatch = broadcastIndex(Array(y.shape.dropLast(2)), to: batchShape)
    let batches = batchShape.reduce(1, *)
    let output = x.values.withUnsafeBufferPointer { xs in
        y.values.withUnsafeBufferPointer { ys in
            makeValues(count) { out in
                guard m > 0, n > 0, batches > 0 else { return }
                Parallel.forEach(batches, grain: max(1, (1 << 16) / max(m * n * max(k, 1), 1))) { range in
                    var transposed = adjointX ? [Float](repeating: 0, count: m * k) : []
                    for batch in range {
                        var a = xs.baseAddress! + xBatch(batch) * m * k
                        let b = ys.baseAddress! + yBatch(batch) * k * n
                        if adjointX {
                            for row in 0..<k { for column in 0..<m { transposed[column * k + row] = a[row * m + column] } }
                        }
                        transposed.withUnsafeBufferPointer { gathered in
                            if adjointX { a = gathered.baseAddress! }
                            GEMM.multiply(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: adjointY ? k : n, transposeB: adjointY,
                                          c: out + batch * m * n, ldc: n)
                        }
                    }
                }
            }
        }
    }
    return TensorValue(unchecked: shape, output)
}

/// The output shape of `batchMatMul` on operands of these shapes; throws when they do not fit.
public func batchMatMulShape(_ x: [Int], _ y: [Int], adjointX: Bool, adjointY: Bool) throws -> [Int] {
    guard x.count >= 2, y.count >= 2 else {
        throw KernelError.invalidArgument("needs inputs of rank ≥ 2, got \(shapeText(x)) and \(shapeText(y))")
    }
    let m = adjointX ? x[x.count - 1] : x[x.count - 2], k = adjointX ? x[x.count - 2] : x[x.count - 1]
    let ky = adjointY ? y[y.count - 1] : y[y.count - 2], n = adjointY ? y[y.count - 2] : y[y.count - 1]
    guard k == ky else { throw KernelError.invalidArgument("inner dimensions \(k) and \(ky) differ") }
    guard let batchShape = broadcastShape(Array(x.dropLast(2)), Array(y.dropLast(2))) else {
        throw KernelError.invalidArgument("batch dimensions of \(shapeText(x)) and \(shapeText(y)) do not broadcast")
    }
    return batchShape + [m, n]
}
