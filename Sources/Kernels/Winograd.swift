import CKernels
import Foundation

// Winograd's minimal filtering F(4×4, 3×3) for 3×3 stride-1 convolutions (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each 4×4 block of output pixels comes from
// a 6×6 input tile with 36 multiplications per input/output channel pair instead of 144, so the
// GEMM work of the convolution drops 4×; the transforms around it are additions on contiguous
// channel vectors. Results differ from the direct sum by float rounding only (the test bounds it).

/// Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A over every 6×6 tile, the element-wise products summed over input
/// channels as 36 matrix products [tiles × C] · [C × O].
enum Winograd {
    /// Output pixels per tile side and input pixels per tile side.
    static let outputTile = 4, inputTile = 6
    /// Coefficients of the transformed filter (the 6 rows of G).
    static let filterRows: [(Float, Float, Float)] = [
        (1.0 / 4, 0, 0),
        (-1.0 / 6, -1.0 / 6, -1.0 / 6),
        (-1.0 / 6, 1.0 / 6, -1.0 / 6),
        (1.0 / 24, 1.0 / 12, 1.0 / 6),
        (1.0 / 24, -1.0 / 12, 1.0 / 6),
        (0, 0, 1),
    ]

    /// Whether `convolve` takes this path: a 3×3, stride-1, undilated, ungrouped convolution whose
    /// output is at least 7×7 and whose channel counts fill whole 8-lane vectors (smaller layers
    /// gain too little over im2col to pay for the transforms), and whose transformed filter stays
    /// within `GEMM.packedElementLimit`. A 7×7 output (ResNet50's last stage) is 2×2 tiles covering
    /// 8×8, a third of them wasted, and still 3× fewer multiplications than im2col: 3% less CPU
    /// time for an int8 ResNet50 conversion (docs/benchmarks.md).
    static func applies(_ g: ConvGeometry, groups: Int, outputChannels: Int) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && groups == 1
            && g.outputHeight >= 7 && g.outputWidth >= 7
            && g.channels >= 16 && g.channels % 8 == 0 && outputChannels >= 16 && outputChannels % 8 == 0
            && 36 * g.channels * outputChannels <= GEMM.packedElementLimit  // the transformed filter is 4× the 3×3 one
    }

    typealias Vector = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ c: Int) -> Vector {
        UnsafeRawPointer(p + c).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ c: Int) {
        UnsafeMutableRawPointer(p + c).storeBytes(of: v, as: Vector.self)
    }

    /// Bᵀ applied along one axis: six vectors of `count` channels (pointers `source[i]`) into six
    /// (pointers `target[i]`).
    @inline(__always)
    static func inputTransform(_ s: UnsafePointer<UnsafePointer<Float>>, _ t: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int) {
        let s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5]
        let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5]
        for c in stride(from: 0, to: count, by: 8) {
            let d0 = load(s0, c), d1 = load(s1, c), d2 = load(s2, c), d3 = load(s3, c), d4 = load(s4, c), d5 = load(s5, c)
            let a = d4 - 4 * d2, b = d3 - 4 * d1     // rows 1 and 2: a ± b
            let e = d4 - d2, f = 2 * (d3 - d1)       // rows 3 and 4: e ± f
            store(4 * d0 - 5 * d2 + d4, t0, c)
            store(a + b, t1, c)
            store(a - b, t2, c)
            store(e + f, t3, c)
            store(e - f, t4, c)
            store(4 * d1 - 5 * d3 + d5, t5, c)
        }
    }

    /// Whether the transforms run as keraslite's AVX-512 C kernels (the same arithmetic on 16 lanes).
    static let vectorized = GEMM.packedAvailable

    /// Bᵀ along one axis (`inputTransform`), on 16 lanes where the processor has them.
    @inline(__always)
    static func input(_ s: UnsafePointer<UnsafePointer<Float>>, _ t: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int) {
        guard vectorized else { return inputTransform(s, t, count: count) }
        UnsafeRawPointer(s).withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: 6) { s in
            UnsafeRawPointer(t).withMemoryRebound(to: UnsafeMutablePointer<Float>?.self, capacity: 6) { ck_winograd_input(s, $0, count) }
        }
    }

    /// Aᵀ along one axis (`outputTransform`), on 16 lanes where the processor has them; with
    /// `finish`, bias and clip applied to the four results as they are stored (`epilogue`), and
    /// with `extremes` the finite values stored into t[0..<counted] lower extremes[0] and raise
    /// extremes[1].
    @inline(__always)
    static func output(_ s: UnsafePointer<UnsafePointer<Float>>, _ t: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int,
                       finish: Bool, bias: UnsafePointer<Float>?, clip: ActivationClip?, counted: Int = 0,
                       extremes: UnsafeMutablePointer<Float>? = nil) {
        guard vectorized else {
            outputTransform(s, t, count: count)
            if finish, bias != nil || clip != nil {
                let bounds = clip.map { (low: Vector(repeating: $0.low), high: Vector(repeating: $0.high)) }
                for column in 0..<4 { epilogue(t[column], count: count, bias: bias, bounds: bounds) }
            }
            for column in 0..<counted { OutputExtremes.widen(extremes, scanning: t[column], count: count) }
            return
        }
        UnsafeRawPointer(s).withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: 6) { s in
            UnsafeRawPointer(t).withMemoryRebound(to: UnsafeMutablePointer<Float>?.self, capacity: 4) {
                ck_winograd_output(s, $0, count, bias, clip?.low ?? -.infinity, clip?.high ?? .infinity, finish, counted, extremes)
            }
        }
    }

    /// Aᵀ applied along one axis: six vectors into four.
    @inline(__always)
    static func outputTransform(_ s: UnsafePointer<UnsafePointer<Float>>, _ t: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int) {
        let s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5]
        let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3]
        for c in stride(from: 0, to: count, by: 8) {
            let m0 = load(s0, c), m1 = load(s1, c), m2 = load(s2, c), m3 = load(s3, c), m4 = load(s4, c), m5 = load(s5, c)
            let p12 = m1 + m2, m12 = m1 - m2, p34 = m3 + m4, m34 = m3 - m4
            store(m0 + p12 + p34, t0, c)
            store(m12 + 2 * m34, t1, c)
            store(p12 + 4 * p34, t2, c)
            store(m12 + 8 * m34 + m5, t3, c)
        }
    }

    /// Where `transformFilter` writes U[k] (k = 0..<36), each a [C × O] matrix: row-major at
    /// `pointer + k·C·O`, or straight into 36 matrices packed for keraslite's GEMM (32-column
    /// panels, the last one's missing columns zero), so the layer's transformed filter is never
    /// held twice.
    enum FilterTarget {
        case plain(UnsafeMutablePointer<Float>)
        case packed([PackedMatrix])
    }

    /// U[k][c][o] = (G g Gᵀ)[k / 6][k % 6] for the 3×3 filter g of input channel c and output
    /// channel o, input channels split over the cores.
    static func transformFilter(_ weights: UnsafePointer<Float>, layout: FilterLayout, channels: Int, outputs: Int,
                                into target: FilterTarget) {
        let rows = filterRows
        let width = PackedMatrix.panelWidth
        Parallel.forEach(channels, grain: max(1, 4096 / outputs)) { range in
            // g[tap][o] for one input channel, then t[r][kw][o] = Σ_kh G[r][kh] g[kh][kw][o], then
            // row c of U[k] (in `product` when the target is packed, then copied panel by panel).
            let taps = UnsafeMutablePointer<Float>.allocate(capacity: 9 * outputs + 18 * outputs + outputs)
            defer { taps.deallocate() }
            let half = taps + 9 * outputs, product = half + 18 * outputs
            for c in range {
                for tap in 0..<9 {
                    let row = taps + tap * outputs
                    switch layout {
                    case .hwio: row.update(from: weights + (tap * channels + c) * outputs, count: outputs)
                    case .ohwi: for o in 0..<outputs { row[o] = weights[(o * 9 + tap) * channels + c] }
                    }
                }
                for r in 0..<6 {
                    let (g0, g1, g2) = rows[r]
                    for kw in 0..<3 {
                        let target = half + (r * 3 + kw) * outputs
                        let k0 = taps + kw * outputs, k1 = taps + (3 + kw) * outputs, k2 = taps + (6 + kw) * outputs
                        for o in 0..<outputs { target[o] = g0 * k0[o] + g1 * k1[o] + g2 * k2[o] }
                    }
                }
                for r in 0..<6 {
                    for s in 0..<6 {
                        let (g0, g1, g2) = rows[s]
                        let k = r * 6 + s
                        let k0 = half + (r * 3) * outputs, k1 = k0 + outputs, k2 = k1 + outputs
                        switch target {
                        case .plain(let u):
                            let destination = u + (k * channels + c) * outputs
                            for o in 0..<outputs { destination[o] = g0 * k0[o] + g1 * k1[o] + g2 * k2[o] }
                        case .packed(let matrices):
                            for o in 0..<outputs { product[o] = g0 * k0[o] + g1 * k1[o] + g2 * k2[o] }
                            let panels = matrices[k].pointer
                            for first in stride(from: 0, to: outputs, by: width) {
                                let destination = panels + first * channels + c * width
                                let columns = min(width, outputs - first)
                                destination.update(from: product + first, count: columns)
                                if columns < width { (destination + columns).update(repeating: 0, count: width - columns) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A 3×3 stride-1 convolution by Winograd F(4×4, 3×3) (see `Winograd.applies`): the filter is
/// transformed once per call, output tiles are split over the cores, and each core transforms a
/// block of input tiles, multiplies the 36 [tiles × C] · [C × O] products with OpenBLAS and
/// transforms them back into the output with bias and clip (and, with `extremes`, notes the
/// finite extremes of what it stores into the output).
func winogradConvolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, layout: FilterLayout,
                      outputChannels: Int, output: UnsafeMutablePointer<Float>, workspace: Workspace,
                      bias: UnsafePointer<Float>?, clip: ActivationClip?, prepared: PreparedFilter?,
                      extremes note: OutputExtremes? = nil) throws {
    let channels = g.channels, outputs = outputChannels
    let tilesHigh = (g.outputHeight + 3) / 4, tilesWide = (g.outputWidth + 3) / 4
    let tiles = g.batch * tilesHigh * tilesWide
    try GEMM.check(tiles, 36 * channels, 36 * outputs)
    let workers = max(1, min(Parallel.workers, tiles / 8))
    // Tiles per block: the block's 36 transformed inputs and 36 products stay within ~2 MB, in
    // whole multiples of the GEMM micro-kernel's 12 rows (a block of 14 tiles multiplied as 12 + 2).
    // A share's last block also takes a remainder of fewer than 12 tiles (up to `longest`), so no
    // block multiplies a few tiles against all 36 transformed filters, reading them again for 4
    // rows: ResNet50's 7×7 stage has 16 tiles per batch of 4 images, 12 per block.
    let fitting = (2 << 20) / (4 * 36 * (channels + outputs))
    let perShare = (tiles + workers - 1) / workers
    let block = max(1, min(perShare, max(12, fitting / 12 * 12)))
    let longest = min(perShare, block + 11)
    let filterSize = 36 * channels * outputs
    // A tile's 36 transformed inputs (and 36 products) are followed by 32 unused floats: rows of
    // the products' A (and C) are then not a multiple of 4 KB apart — at 36·256 or 36·512 floats
    // they were, every row of a 12-row micro-kernel fell in one L1 cache set and evicted the others
    // (the 256- and 512-channel layers ran at ~65–70% of the GEMM's speed, ~105% with the pad).
    let inputStride = 36 * channels + 32, productStride = 36 * outputs + 32
    let perWorker = longest * (inputStride + productStride) + 36 * max(channels, outputs) + channels + 4 * outputs
    // A constant filter is transformed once per layer: packed for keraslite's GEMM where it runs,
    // else as 36 plain matrices for OpenBLAS; any other filter on every call, into scratch.
    let panels = GEMM.packedAvailable && channels <= GEMM.packedDepthLimit && filterSize <= GEMM.packedElementLimit
        ? prepared?.form("winograd-packed") { WinogradPanels(weights, layout: layout, channels: channels, outputs: outputs) } : nil
    let cached = panels == nil ? prepared?.form("winograd") {
        let storage = FloatStorage(count: filterSize)
        Winograd.transformFilter(weights, layout: layout, channels: channels, outputs: outputs, into: .plain(storage.pointer))
        return storage
    } : nil
    let transformHere = panels == nil && cached == nil
    let scratch = workspace.scratch((transformHere ? filterSize : 0) + workers * perWorker)
    if transformHere { Winograd.transformFilter(weights, layout: layout, channels: channels, outputs: outputs, into: .plain(scratch)) }
    let u = UnsafePointer(cached?.pointer ?? scratch)
    let perWorkerBase = transformHere ? scratch + filterSize : scratch
    Parallel.forEachChunk(tiles, chunks: workers) { worker, share in
        OutputExtremes.gathering(into: note) { extremes in
            let v = perWorkerBase + worker * perWorker
            let m = v + longest * inputStride
            let half = m + longest * productStride     // one tile after its first axis: 6×6×C or 4×6×O
            let zeros = half + 36 * max(channels, outputs)
            let discard = zeros + channels             // 4 rows of O for pixels past the output's edge
            zeros.update(repeating: 0, count: channels)
            var sources = [UnsafePointer<Float>](repeating: UnsafePointer(zeros), count: 6)
            var targets = [UnsafeMutablePointer<Float>](repeating: discard, count: 6)
            sources.withUnsafeMutableBufferPointer { sources in
                targets.withUnsafeMutableBufferPointer { targets in
                    let s = sources.baseAddress!, t = targets.baseAddress!
                    var first = share.lowerBound
                    while first < share.upperBound {
                        let left = share.upperBound - first
                        let count = left - block < 12 ? left : block
                        defer { first += count }
                        // Bᵀ d B for every tile of the block: V[tile][k][c].
                        for index in 0..<count {
                            let tile = first + index
                            let tw = tile % tilesWide, rest = tile / tilesWide
                            let th = rest % tilesHigh, n = rest / tilesHigh
                            let top = th * 4 - g.padTop, left = tw * 4 - g.padLeft
                            let image = x + n * g.height * g.width * channels
                            for column in 0..<6 {
                                let iw = left + column
                                for row in 0..<6 {
                                    let ih = top + row
                                    s[row] = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                                        ? image + (ih * g.width + iw) * channels : UnsafePointer(zeros)
                                    t[row] = half + (row * 6 + column) * channels
                                }
                                Winograd.input(s, UnsafePointer(t), count: channels)
                            }
                            let transformed = v + index * inputStride
                            for row in 0..<6 {
                                for column in 0..<6 {
                                    s[column] = UnsafePointer(half + (row * 6 + column) * channels)
                                    t[column] = transformed + (row * 6 + column) * channels
                                }
                                Winograd.input(s, UnsafePointer(t), count: channels)
                            }
                        }
                        for k in 0..<36 {
                            if let panels {
                                GEMM.multiply(m: count, a: v + k * channels, lda: inputStride, packed: panels.matrices[k],
                                              c: m + k * outputs, ldc: productStride)
                            } else {
                                GEMM.multiply(m: count, n: outputs, k: channels, a: v + k * channels, lda: inputStride,
                                              b: u + k * channels * outputs, ldb: outputs, c: m + k * outputs, ldc: productStride)
                            }
                        }
                        // Aᵀ M A, bias and clip, into the output pixels the tile covers.
                        for index in 0..<count {
                            let tile = first + index
                            let tw = tile % tilesWide, rest = tile / tilesWide
                            let th = rest % tilesHigh, n = rest / tilesHigh
                            let product = m + index * productStride
                            for column in 0..<6 {
                                for row in 0..<6 { s[row] = UnsafePointer(product + (row * 6 + column) * outputs) }
                                for row in 0..<4 { t[row] = half + (row * 6 + column) * outputs }
                                Winograd.output(s, UnsafePointer(t), count: outputs, finish: false, bias: nil, clip: nil)
                            }
                            for row in 0..<4 {
                                let oh = th * 4 + row
                                for column in 0..<6 { s[column] = UnsafePointer(half + (row * 6 + column) * outputs) }
                                for column in 0..<4 {
                                    let ow = tw * 4 + column
                                    t[column] = oh < g.outputHeight && ow < g.outputWidth
                                        ? output + ((n * g.outputHeight + oh) * g.outputWidth + ow) * outputs : discard + column * outputs
                                }
                                // Only the pixels inside the output (a prefix of the four) count.
                                let inside = oh < g.outputHeight ? min(4, g.outputWidth - tw * 4) : 0
                                Winograd.output(s, UnsafePointer(t), count: outputs, finish: true, bias: bias, clip: clip,
                                                counted: inside, extremes: extremes)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Bias and clip over one pixel's `count` channels (a multiple of 8), 8 lanes at a time.
@inline(__always)
private func epilogue(_ values: UnsafeMutablePointer<Float>, count: Int, bias: UnsafePointer<Float>?,
                      bounds: (low: Winograd.Vector, high: Winograd.Vector)?) {
    for c in stride(from: 0, to: count, by: 8) {
        var value = Winograd.load(values, c)
        if let bias { value += Winograd.load(bias, c) }
        if let (low, high) = bounds {
            value.replace(with: low, where: value .< low)
            value.replace(with: high, where: value .> high)
        }
        Winograd.store(value, values, c)
    }
}

/// A layer's Winograd-transformed filter as 36 packed [C × O] matrices.
final class WinogradPanels {
    let matrices: [PackedMatrix]

    init(_ weights: UnsafePointer<Float>, layout: FilterLayout, channels: Int, outputs: Int) {
        matrices = (0..<36).map { _ in PackedMatrix(uninitializedK: channels, n: outputs) }
        Winograd.transformFilter(weights, layout: layout, channels: channels, outputs: outputs, into: .packed(matrices))
    }
}
