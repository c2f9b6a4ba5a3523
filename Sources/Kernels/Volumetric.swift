// The volumetric (NDHWC) cores both interpreters call: 3-D convolution as im2col + GEMM, 3-D
// transposed convolution as GEMM + col2im, and 3-D max/average pooling. Filters are D×H×W×I×O
// (convolution) and D×H×W×O×I (transposed), the layouts of Keras and of LiteRT's CONV_3D /
// CONV_3D_TRANSPOSE alike, so neither interpreter reorders them.

/// A 3-D window over an NDHWC batch: input sizes, and per spatial axis (depth, height, width) the
/// window and the planned output length and padding before the first element.
public struct VolumeGeometry: Sendable {
    public var batch, channels: Int
    /// Input depth, height, width.
    public var sizes: [Int]
    public var windows: [AxisWindow]
    /// Output depth, height, width.
    public var outputSizes: [Int]
    /// Padding before the first element, per spatial axis.
    public var padBefore: [Int]

    public init(batch: Int, sizes: [Int], channels: Int, windows: [AxisWindow]) {
        precondition(sizes.count == 3 && windows.count == 3, "a volume has three spatial axes")
        self.batch = batch
        self.sizes = sizes
        self.channels = channels
        self.windows = windows
        let plans = zip(windows, sizes).map { $0.plan($1) }
        outputSizes = plans.map(\.output)
        padBefore = plans.map(\.before)
    }

    /// Output positions over the batch: N·D'·H'·W'.
    public var outputPositions: Int { batch * outputSizes.reduce(1, *) }

    /// Filter taps: KD·KH·KW.
    public var taps: Int { windows.reduce(1) { $0 * $1.window } }
}

/// 3-D convolution as GEMM: output[positions, O] = patches[positions, KD·KH·KW·C] · filter, the
/// D×H×W×C×O filter being that [KD·KH·KW·C, O] operand. Each core takes a contiguous share of the
/// output positions and builds their patches in its own tiles (together at most `Workspace.budget`
/// floats), then multiplies them single-threaded.
public func convolve3D(_ x: UnsafePointer<Float>, _ g: VolumeGeometry, weights: UnsafePointer<Float>, outputChannels: Int,
                       output: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
    let positions = g.outputPositions
    guard positions > 0, outputChannels > 0 else { return }
    let depth = g.taps * g.channels
    try GEMM.check(positions, outputChannels, depth)
    let workers = max(1, min(Parallel.workers, positions / 16))
    let tile = max(1, min((positions + workers - 1) / workers, Workspace.budget / max(depth * workers, 1)))
    let scratch = workspace.scratch(workers * tile * depth)
    Parallel.forEachChunk(positions, chunks: workers) { worker, share in
        let patches = scratch + worker * tile * depth
        for start in stride(from: share.lowerBound, to: share.upperBound, by: tile) {
            let rows = min(tile, share.upperBound - start)
            im2col3D(x, g, firstPosition: start, positions: rows, into: patches)
            GEMM.multiply(m: rows, n: outputChannels, k: depth, a: patches, lda: depth, b: weights, ldb: outputChannels,
                          transposeB: false, c: output + start * outputChannels, ldc: outputChannels)
        }
    }
}

/// Writes the receptive fields of output positions firstPosition..<firstPosition+positions as rows
/// of KD·KH·KW·C values (kd, kh, kw, c order, zeros where the window leaves the input).
public func im2col3D(_ x: UnsafePointer<Float>, _ g: VolumeGeometry, firstPosition: Int, positions: Int,
                     into patches: UnsafeMutablePointer<Float>) {
    let (d, h, w) = (g.windows[0], g.windows[1], g.windows[2])
    let (outputHeight, outputWidth) = (g.outputSizes[1], g.outputSizes[2])
    let (depth, height, width, channels) = (g.sizes[0], g.sizes[1], g.sizes[2], g.channels)
    var destination = patches
    for index in 0..<positions {
        let position = firstPosition + index
        let ow = position % outputWidth
        let oh = (position / outputWidth) % outputHeight
        let rest = position / (outputWidth * outputHeight)
        let od = rest % g.outputSizes[0], n = rest / g.outputSizes[0]
        let front = od * d.stride - g.padBefore[0], top = oh * h.stride - g.padBefore[1], left = ow * w.stride - g.padBefore[2]
        let volume = x + n * depth * height * width * channels
        for kd in 0..<d.window {
            let id = front + kd * d.dilation
            for kh in 0..<h.window {
                let ih = top + kh * h.dilation
                for kw in 0..<w.window {
                    let iw = left + kw * w.dilation
                    if id < 0 || id >= depth || ih < 0 || ih >= height || iw < 0 || iw >= width {
                        destination.update(repeating: 0, count: channels)
                    } else {
                        destination.update(from: volume + ((id * height + ih) * width + iw) * channels, count: channels)
                    }
                    destination += channels
                }
            }
        }
    }
}

/// 3-D transposed convolution as GEMM + col2im into `output`, which must hold zeros: `g` describes
/// the forward convolution it is the gradient of — `sizes` the transposed output's D×H×W,
/// `outputSizes` the input's, `channels` the output channels — and `inputChannels` the channels of
/// `x`. columns[position, (kd, kh, kw, o)] = Σ_i x[position, i] · filter[kd, kh, kw, o, i], then each
/// input position's columns add into its strided output window (images in parallel).
public func transposeConvolve3D(_ x: UnsafePointer<Float>, _ g: VolumeGeometry, inputChannels: Int, weights: UnsafePointer<Float>,
                                output: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
    let imagePositions = g.outputSizes.reduce(1, *), outputChannels = g.channels
    let columnCount = g.taps * outputChannels
    let volume = g.sizes.reduce(1, *) * outputChannels
    guard imagePositions > 0, volume > 0, g.batch > 0 else { return }
    let imagesPerTile = max(1, min(g.batch, Workspace.budget / max(imagePositions * columnCount, 1)))
    try GEMM.check(imagesPerTile * imagePositions, columnCount, inputChannels)
    let columns = workspace.scratch(imagesPerTile * imagePositions * columnCount)
    let (d, h, w) = (g.windows[0], g.windows[1], g.windows[2])
    for first in stride(from: 0, to: g.batch, by: imagesPerTile) {
        let images = min(imagesPerTile, g.batch - first)
        try GEMM.parallelMultiply(m: images * imagePositions, n: columnCount, k: inputChannels,
                                  a: x + first * imagePositions * inputChannels, lda: inputChannels,
                                  b: weights, ldb: inputChannels, transposeB: true, c: columns, ldc: columnCount)
        Parallel.forEach(images, grain: 1) { range in
            for image in range {
                let target = output + (first + image) * volume
                for position in 0..<imagePositions {
                    let iw = position % g.outputSizes[2], ih = (position / g.outputSizes[2]) % g.outputSizes[1]
                    let id = position / (g.outputSizes[2] * g.outputSizes[1])
                    let source = columns + (image * imagePositions + position) * columnCount
                    for kd in 0..<d.window {
                        let od = id * d.stride - g.padBefore[0] + kd * d.dilation
                        if od < 0 || od >= g.sizes[0] { continue }
                        for kh in 0..<h.window {
                            let oh = ih * h.stride - g.padBefore[1] + kh * h.dilation
                            if oh < 0 || oh >= g.sizes[1] { continue }
                            for kw in 0..<w.window {
                                let ow = iw * w.stride - g.padBefore[2] + kw * w.dilation
                                if ow < 0 || ow >= g.sizes[2] { continue }
                                let to = target + ((od * g.sizes[1] + oh) * g.sizes[2] + ow) * outputChannels
                                let from = source + ((kd * h.window + kh) * w.window + kw) * outputChannels
                                for o in 0..<outputChannels { to[o] += from[o] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 3-D max or average pooling with TensorFlow's padding: a window at the border covers only the
/// input elements inside it (max ignores the padding, average divides by the elements inside); a
/// window with none gives 0. Output rows (n, d', h') run in parallel.
public func pool3D(_ x: UnsafePointer<Float>, _ g: VolumeGeometry, _ function: PoolFunction, output: UnsafeMutablePointer<Float>) {
    let channels = g.channels
    let (depth, height, width) = (g.sizes[0], g.sizes[1], g.sizes[2])
    let (outputDepth, outputHeight, outputWidth) = (g.outputSizes[0], g.outputSizes[1], g.outputSizes[2])
    func span(_ axis: Int, _ index: Int) -> Range<Int> {
        let start = index * g.windows[axis].stride - g.padBefore[axis]
        let low = max(start, 0), high = min(start + g.windows[axis].window, g.sizes[axis])
        return low..<max(low, high)
    }
    Parallel.forEach(g.batch * outputDepth * outputHeight, grain: 1) { range in
        for row in range {
            let oh = row % outputHeight, od = (row / outputHeight) % outputDepth, n = row / (outputHeight * outputDepth)
            let depths = span(0, od), rows = span(1, oh)
            for ow in 0..<outputWidth {
                let columns = span(2, ow)
                let accumulator = output + (row * outputWidth + ow) * channels
                accumulator.update(repeating: function == .maximum ? -.infinity : 0, count: channels)
                for id in depths {
                    for ih in rows {
                        for iw in columns {
                            let element = x + (((n * depth + id) * height + ih) * width + iw) * channels
                            switch function {
                            case .maximum: for c in 0..<channels { accumulator[c] = max(accumulator[c], element[c]) }
                            case .average: for c in 0..<channels { accumulator[c] += element[c] }
                            case .l2: for c in 0..<channels { accumulator[c] += element[c] * element[c] }
                            }
                        }
                    }
                }
                let inside = depths.count * rows.count * columns.count
                if inside == 0 {
                    accumulator.update(repeating: 0, count: channels)
                    continue
                }
                let divisor = Float(inside)
                switch function {
                case .maximum: break
                case .average: for c in 0..<channels { accumulator[c] /= divisor }
                case .l2: for c in 0..<channels { accumulator[c] = (accumulator[c] / divisor).squareRoot() }
                }
            }
        }
    }
}
