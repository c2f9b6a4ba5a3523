import Foundation
import Kernels
import Testing

/// The convolution cores agree across filter layouts, since each interpreter passes its own.
struct ConvolutionTests {
    @Test func transposeConvolutionLayoutsAgree() throws {
        // 1×2×2×2 input, 2×2 filter taps, 3 output channels, stride 2.
        let input: [Float] = (0..<8).map { Float($0) - 3.5 }
        let geometry = TransposeConvGeometry(batch: 1, height: 2, width: 2, inputChannels: 2,
                                             outputHeight: 4, outputWidth: 4, outputChannels: 3,
                                             kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                             padTop: 0, padLeft: 0)
        let hwoi: [Float] = (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }
        // The same filter as O×H×W×I.
        var ohwi = [Float](repeating: 0, count: 24)
        for tap in 0..<4 { for o in 0..<3 { for i in 0..<2 { ohwi[(o * 4 + tap) * 2 + i] = hwoi[(tap * 3 + o) * 2 + i] } } }
        func run(_ filter: [Float], _ layout: TransposeFilterLayout) throws -> [Float] {
            var output = [Float](repeating: 0, count: geometry.outputCount)
            let workspace = Workspace()
            try input.withUnsafeBufferPointer { x in
                try filter.withUnsafeBufferPointer { w in
                    try output.withUnsafeMutableBufferPointer { out in
                        try transposeConvolve(x.baseAddress!, geometry, weights: w.baseAddress!, layout: layout,
                                              output: out.baseAddress!, workspace: workspace)
                    }
                }
            }
            return output
        }
        let reference = try run(hwoi, .hwoi)
        #expect(try run(ohwi, .ohwi) == reference)
        // Stride 2 with 2×2 taps: every output pixel receives exactly one input pixel's column.
        #expect(reference[0] == input[0] * hwoi[0] + input[1] * hwoi[1])
    }

    @Test func broadcastShapes() {
        #expect(broadcastShape([2, 1, 3], [4, 1]) == [2, 4, 3])
        #expect(broadcastShape([2, 3], [4]) == nil)
    }

    @Test func tensorValueChecksCounts() {
        #expect(throws: KernelError.self) { try TensorValue(shape: [2, 2], values: [1]) }
    }
}

/// Every `BinaryOperator` has a specialized loop computing its function, broadcast or not.
struct BinaryOperatorTests {
    @Test(arguments: BinaryOperator.allCases) func everyOperatorComputesItsFunction(_ operation: BinaryOperator) throws {
        let reference: (Float, Float) -> Float
        switch operation {
        case .add: reference = { $0 + $1 }
        case .subtract: reference = { $0 - $1 }
        case .multiply: reference = { $0 * $1 }
        case .divide: reference = { $0 / $1 }
        case .maximum: reference = { max($0, $1) }
        case .minimum: reference = { min($0, $1) }
        case .prelu: reference = { $0 > 0 ? $0 : $1 * $0 }
        }
        let a = try TensorValue(shape: [2, 3], values: [-2, -1, 0, 1, 2, 3]), b = try TensorValue(shape: [3], values: [0.5, -4, 2])
        let shape = try #require(broadcastShape(a.shape, b.shape))
        let expected = (0..<6).map { reference(a.values[$0], b.values[$0 % 3]) }
        #expect(broadcastBinary(a, b, shape: shape, operation).values == expected)
        #expect(broadcastBinary(a, b, shape: shape, function: reference).values == expected)
        // Operands of one shape in one pass, with and without a clip; large enough to use both cores.
        let count = 100_003
        let left = try TensorValue(shape: [count], values: (0..<count).map { Float($0 % 17) - 8.5 })
        let right = try TensorValue(shape: [count], values: (0..<count).map { Float($0 % 13) * 0.75 - 4 })
        let plain = (0..<count).map { reference(left.values[$0], right.values[$0]) }
        #expect(elementwise(left, right, operation, clip: nil).values == plain)
        #expect(elementwise(left, right, operation, clip: .relu6).values == plain.map { min(max($0, 0), 6) })
    }
}

/// The calibration scan: smallest and largest finite element, whatever the length and wherever
/// infinities and NaNs sit.
struct FiniteExtremesTests {
    private func scalar(_ values: [Float]) -> (low: Float, high: Float)? {
        let finite = values.filter(\.isFinite)
        return finite.isEmpty ? nil : (finite.min()!, finite.max()!)
    }

    @Test(arguments: [0, 1, 15, 16, 17, 63, 1000, 65_536 * 3 + 5])
    func agreesWithAScalarScan(count: Int) {
        var values = (0..<count).map { Float(($0 * 7919) % 1009) / 37 - 13 }
        let plain = values.withUnsafeBufferPointer { finiteExtremes($0) }
        #expect(plain?.low == scalar(values)?.low && plain?.high == scalar(values)?.high)
        guard count > 2 else { return }
        // Poisoned: the extremes must skip the non-finite elements, not stop at them.
        values[count / 2] = .nan
        values[count - 1] = .infinity
        values[0] = -.infinity
        values[1] = 1e30
        let poisoned = values.withUnsafeBufferPointer { finiteExtremes($0) }
        #expect(poisoned?.low == scalar(values)?.low && poisoned?.high == scalar(values)?.high)
        #expect(poisoned?.high == 1e30)
    }

    @Test func nothingFiniteIsNil() {
        let values: [Float] = [.nan, .infinity, -.infinity] + [Float](repeating: .nan, count: 40)
        #expect(values.withUnsafeBufferPointer { finiteExtremes($0) } == nil)
    }
}

/// The convolution's fused epilogue (bias and clip applied per multiplied tile, on each path:
/// 1×1 stride 1 over few or many pixels, im2col tiles, groups; with OpenBLAS, and with the
/// filter prepared for keraslite's own GEMM where it runs) against the direct sum.
struct ConvolutionEpilogueTests {
    static let cases = [(1, 1, 1, 3), (1, 1, 1, 40), (3, 2, 1, 3), (3, 1, 2, 20), (3, 1, 1, 20)].flatMap { c in
        [false, true].map { (c.0, c.1, c.2, c.3, $0) }
    }

    @Test(arguments: cases)
    func biasAndClipMatchTheDirectSum(kernel: Int, stride: Int, groups: Int, size: Int, prepared: Bool) throws {
        let (batch, channels, outputs) = (2, 4, 6)
        let window = AxisWindow(window: kernel, stride: stride, padding: .same)
        let g = ConvGeometry(batch: batch, height: size, width: size, channels: channels, rows: window, columns: window)
        let x = (0..<(batch * size * size * channels)).map { Float(($0 * 31) % 19) / 9 - 1 }
        let groupChannels = channels / groups, groupOutputs = outputs / groups
        let w = (0..<(kernel * kernel * groupChannels * outputs)).map { Float(($0 * 17) % 23) / 11 - 1 }  // H×W×Cg×O
        let bias = (0..<outputs).map { Float($0) * 0.5 - 1.5 }
        var output = [Float](repeating: .nan, count: g.outputPixels * outputs)
        try x.withUnsafeBufferPointer { x in
            try w.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBufferPointer { out in
                    try convolve(x.baseAddress!, g, weights: w.baseAddress!, groups: groups, outputChannels: outputs,
                                 output: out.baseAddress!, workspace: Workspace(), bias: bias, clip: .relu6,
                                 prepared: prepared ? PreparedFilter() : nil)
                }
            }
        }
        var expected = [Float](repeating: 0, count: output.count)
        for n in 0..<batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for o in 0..<outputs {
            var sum: Float = 0
            let group = o / groupOutputs
            for kh in 0..<kernel { for kw in 0..<kernel { for c in 0..<groupChannels {
                let ih = oh * stride - g.padTop + kh, iw = ow * stride - g.padLeft + kw
                guard (0..<size).contains(ih), (0..<size).contains(iw) else { continue }
                sum += x[((n * size + ih) * size + iw) * channels + group * groupChannels + c]
                    * w[((kh * kernel + kw) * groupChannels + c) * outputs + o]
            } } }
            expected[((n * g.outputHeight + oh) * g.outputWidth + ow) * outputs + o] = min(max(sum + bias[o], 0), 6)
        } } } }
        #expect(output.count == expected.count)
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(zip(output, expected).map { abs($0 - $1) }.max() ?? 0)")
    }
}

/// Whole batches per core: every index runs exactly once, loops inside run inline, and the first
/// error stops the rest and reaches the caller.
struct ParallelBatchTests {
    struct Stop: Error {}

    @Test(arguments: [(100, 4), (96, 4), (17, 4), (16, 4), (10, 4), (3, 4), (0, 4), (8, 4), (7, 1), (1, 8), (1000, 16)])
    func balancedChunksCoverEverySampleOnce(total: Int, chunk: Int) {
        let chunks = Parallel.balancedChunks(total, chunk: chunk)
        // Contiguous, in order, covering 0..<total, none empty or over `chunk`.
        #expect(chunks.first?.lowerBound ?? 0 == 0 && chunks.last?.upperBound ?? 0 == total)
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(chunks.allSatisfy { !$0.isEmpty && $0.count <= chunk })
        // Whole rounds of one chunk per core, then a tail of less than two rounds.
        let cores = Parallel.workers
        let full = chunks.prefix { $0.count == chunk }.count
        let tail = chunks.dropFirst(full)
        #expect(full % cores == 0 || tail.isEmpty)
        #expect(tail.reduce(0) { $0 + $1.count } < 2 * cores * chunk)
        if total > 2 * cores * chunk {
            // After several rounds: pieces that never grow and end in single samples.
            #expect(zip(tail, tail.dropFirst()).allSatisfy { $0.count >= $1.count })
            #expect(tail.suffix(cores).allSatisfy { $0.count == 1 })
        } else {
            // A round or two: the last round evenly over the cores.
            #expect(tail.count <= cores)
            #expect((tail.map(\.count).max() ?? 0) - (tail.map(\.count).min() ?? 0) <= 1)
        }
        if cores == 2 && chunk == 4 {
            if total == 100 { #expect(chunks.count == 29 && tail.map(\.count) == [3, 3, 2, 1, 1, 1, 1]) }
            if total == 96 { #expect(chunks.count == 28 && tail.map(\.count) == [2, 2, 1, 1, 1, 1]) }
            if total == 10 { #expect(chunks.map(\.count) == [4, 4, 1, 1]) }
            if total == 8 { #expect(chunks.map(\.count) == [4, 4]) }
        }
    }

    @Test(arguments: [true, false])
    func mapKeepsTheOrderAndRethrows(concurrently: Bool) throws {
        let squares = try Parallel.map(23, concurrently: concurrently) { index -> Int in
            // Concurrent calls run their own loops inline, like batches on every core.
            #expect(Parallel.workers == (concurrently && Parallel.cores > 1 ? 1 : Parallel.cores))
            return index * index
        }
        #expect(squares == (0..<23).map { $0 * $0 })
        #expect(throws: Stop.self) {
            _ = try Parallel.map(9, concurrently: concurrently) { index -> Int in
                if index == 5 { throw Stop() }
                return index
            }
        }
        #expect(try Parallel.map(0, concurrently: concurrently) { $0 }.isEmpty)
    }

    @Test func everyIndexOnceWithInlineLoopsInside() throws {
        let lock = NSLock()
        var seen = [Int](repeating: 0, count: 37)
        var workersInside = Set<Int>()
        try Parallel.forEachIndexOnAllCores(seen.count) { index in
            let inner = Parallel.workers
            lock.withLock {
                seen[index] += 1
                workersInside.insert(inner)
            }
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(workersInside == [Parallel.cores > 1 ? 1 : Parallel.cores])
        #expect(Parallel.workers == Parallel.cores)  // outside again
    }

    @Test func theFirstErrorIsRethrown() {
        #expect(throws: Stop.self) {
            try Parallel.forEachIndexOnAllCores(100) { index in if index == 5 { throw Stop() } }
        }
    }
}
