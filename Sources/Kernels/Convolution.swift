import CKernels
// The convolution cores both interpreters call: im2col + GEMM for convolutions (either filter
// layout), a direct depthwise loop vectorized over channels, and GEMM + col2im for transposed
// convolutions. They see pointers, a `ConvGeometry` and explicit layouts, nothing of either model format.


/// Convolution as GEMM (3×3 stride-1 layers of enough channels by Winograd, Winograd.swift):
/// output[pixels, O] = patches[pixels, KH·KW·Cg] · filter per group (the
/// filter transposed for `.ohwi`). Each core takes a contiguous share of the output pixels and
/// builds their patches in its own tiles (together at most `Workspace.budget` floats), then
/// multiplies them single-threaded; a 1×1 stride-1 convolution multiplies the input itself.
/// `bias` (one value per output channel) and `clip` are applied to each tile as soon as it is
/// multiplied, while it is still in the core's cache. A kernel whose filter is constant passes its
/// `PreparedFilter`, so what the filter needs beyond its values is made once per layer. With
/// `extremes`, the output's finite extremes are noted as it is written (see `OutputExtremes`).
/// With `residual` (only where `convolutionAddsResidual` says so), the residual is added to each
/// value as it is stored, the sum clipped again (an ADD fused into the convolution before it):
/// `extremes` then notes the values before the addition, `residual.extremes` the sums.
public func convolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, layout: FilterLayout = .hwio,
                     groups: Int, outputChannels: Int, output: UnsafeMutablePointer<Float>, workspace: Workspace,
                     bias: UnsafePointer<Float>? = nil, clip: ActivationClip? = nil, prepared: PreparedFilter? = nil,
                     extremes note: OutputExtremes? = nil, residual: ConvolutionResidual? = nil) throws {
    let pixels = g.outputPixels
    // every path below merges all it writes (on a throw the output is dropped)
    defer { note?.complete(); residual?.extremes?.complete() }
    guard pixels > 0, outputChannels > 0 else { return }
    precondition(residual == nil || convolutionAddsResidual(g, groups: groups, outputChannels: outputChannels),
                 "a residual is added only on keraslite's GEMM paths")
    if Winograd.applies(g, groups: groups, outputChannels: outputChannels) {
        return try winogradConvolve(x, g, weights: weights, layout: layout, outputChannels: outputChannels, output: output,
                                    workspace: workspace, bias: bias, clip: clip, prepared: prepared, extremes: note)
    }
    let groupChannels = g.channels / groups, groupOutputs = outputChannels / groups
    let depth = g.kernelHeight * g.kernelWidth * groupChannels
    let transposed = layout == .ohwi
    let pointwise = g.isPointwise
    try GEMM.check(pixels, outputChannels, depth, g.channels)
    let workers = max(1, min(Parallel.workers, pixels / 16))
    // A constant filter is packed once per layer for keraslite's own GEMM where it runs (bias and
    // clip applied as each tile is stored); otherwise OpenBLAS multiplies, then the epilogue.
    let packed = groups == 1 && GEMM.packedAvailable && depth <= GEMM.packedDepthLimit && depth * outputChannels <= GEMM.packedElementLimit
        ? prepared?.form("gemm") {
            PackedMatrix(weights, k: depth, n: outputChannels, ldb: transposed ? depth : outputChannels, transposed: transposed)
        } : nil
    func product(rows: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, extremes: UnsafeMutablePointer<Float>?,
                 sums: UnsafeMutablePointer<Float>? = nil) {
        if let packed {
            // The residual's rows are the output's (`c` is the output at the same offset).
            let stored = residual.map { StoredResidual(values: $0.values + (c - output), clip: $0.clip, extremes: sums) }
            GEMM.multiply(m: rows, a: a, lda: lda, packed: packed, c: c, ldc: outputChannels, bias: bias, clip: clip, extremes: extremes,
                          residual: stored)
        } else {
            // OpenBLAS writes C whole: with a residual (which may be stored at C) the product
            // goes to a buffer of its own first.
            let count = rows * outputChannels
            let product = residual == nil ? c : UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { if product != c { product.deallocate() } }
            GEMM.multiply(m: rows, n: outputChannels, k: depth, a: a, lda: lda, b: weights,
                          ldb: transposed ? depth : outputChannels, transposeB: transposed, c: product, ldc: outputChannels)
            addBiasAndClip(product, rows: rows, channels: outputChannels, bias: bias, clip: clip)
            OutputExtremes.widen(extremes, scanning: product, count: count)
            if let residual {
                let r = residual.values + (c - output)
                let low = residual.clip?.low ?? -.infinity, high = residual.clip?.high ?? .infinity
                for i in 0..<count { c[i] = min(max(product[i] + r[i], low), high) }  // as the ADD computes it
                OutputExtremes.widen(sums, scanning: c, count: count)
            }
        }
    }
    if pointwise && groups == 1 && pixels < 16 * Parallel.workers {
        // Too few pixels to share out: the product splits by output channels instead.
        try GEMM.parallelMultiply(m: pixels, n: outputChannels, k: g.channels, a: x, lda: g.channels,
                                  b: weights, ldb: transposed ? g.channels : outputChannels, transposeB: transposed,
                                  c: output, ldc: outputChannels)
        addBiasAndClip(output, count: pixels * outputChannels, channels: outputChannels, bias: bias, clip: clip)
        note?.merge(scanning: output, count: pixels * outputChannels)
        return
    }
    if pointwise && groups == 1 {
        Parallel.forEachChunk(pixels, chunks: workers) { _, share in
            OutputExtremes.gathering(into: note) { extremes in
                OutputExtremes.gathering(into: residual?.extremes) { sums in
                    product(rows: share.count, a: x + share.lowerBound * g.channels, lda: g.channels,
                            c: output + share.lowerBound * outputChannels, extremes: extremes, sums: sums)
                }
            }
        }
        return
    }
    // Tiles of at most ~4 MB of patches per core (and at least 64 rows): the patches are still in
    // cache when OpenBLAS packs them (a whole layer's patches at batch 8 were ~60 MB).
    let tile = max(1, min((pixels + workers - 1) / workers, Workspace.budget / max(depth * workers, 1),
                          max(64, (1 << 20) / max(depth, 1))))
    let scratch = workspace.scratch(workers * tile * depth)
    Parallel.forEachChunk(pixels, chunks: workers) { worker, share in
        OutputExtremes.gathering(into: note) { extremes in
          OutputExtremes.gathering(into: residual?.extremes) { sums in
            let patches = scratch + worker * tile * depth
            for start in stride(from: share.lowerBound, to: share.upperBound, by: tile) {
                let rows = min(tile, share.upperBound - start)
                if groups == 1 {
                    im2col(x, g, channelOffset: 0, groupChannels: groupChannels, firstPixel: start, pixels: rows, into: patches)
                    product(rows: rows, a: patches, lda: depth, c: output + start * outputChannels, extremes: extremes, sums: sums)
                    continue
                }
                for group in 0..<groups {
                    im2col(x, g, channelOffset: group * groupChannels, groupChannels: groupChannels,
                           firstPixel: start, pixels: rows, into: patches)
                    GEMM.multiply(m: rows, n: groupOutputs, k: depth, a: patches, lda: depth,
                                  b: weights + group * groupOutputs * (transposed ? depth : 1),
                                  ldb: transposed ? depth : outputChannels, transposeB: transposed,
                                  c: output + start * outputChannels + group * groupOutputs, ldc: outputChannels)
                }
                addBiasAndClip(output + start * outputChannels, rows: rows, channels: outputChannels, bias: bias, clip: clip)
                OutputExtremes.widen(extremes, scanning: output + start * outputChannels, count: rows * outputChannels)
            }
          }
        }
    }
}

/// A residual added to a convolution's output as it is stored (the ADD after the convolution,
/// fused): `values` laid out as the output — it may be the output itself, each value is read
/// before its sum is written over it —, the sum clipped to `clip`, its finite extremes noted in
/// `extremes`.
public struct ConvolutionResidual {
    public let values: UnsafePointer<Float>
    public let clip: ActivationClip?
    public let extremes: OutputExtremes?

    public init(values: UnsafePointer<Float>, clip: ActivationClip?, extremes: OutputExtremes?) {
        self.values = values
        self.clip = clip
        self.extremes = extremes
    }
}

/// Whether `convolve` takes a `residual` for this layer: the paths that store the output tile by
/// tile after one product (ungrouped, not Winograd, enough pixels to split by rows) — in
/// keraslite's GEMM epilogue where it runs, else right after OpenBLAS's product, while the tile
/// is in cache. Elsewhere the caller adds the residual afterwards.
public func convolutionAddsResidual(_ g: ConvGeometry, groups: Int, outputChannels: Int) -> Bool {
    groups == 1 && !Winograd.applies(g, groups: groups, outputChannels: outputChannels)
        && !(g.isPointwise && g.outputPixels < 16 * Parallel.workers)
}

/// Writes the receptive fields of output pixels firstPixel..<firstPixel+pixels as rows of
/// KH·KW·groupChannels values (kh, kw, c order, zeros where the window leaves the input).
public func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, channelOffset: Int, groupChannels: Int,
            firstPixel: Int, pixels: Int, into patches: UnsafeMutablePointer<Float>) {
    let depth = g.kernelHeight * g.kernelWidth * groupChannels
    let contiguousRow = g.dilationWidth == 1 && groupChannels == g.channels
    let rowSpan = g.kernelWidth * groupChannels
    for index in 0..<pixels {
        let pixel = firstPixel + index
        let ow = pixel % g.outputWidth
        let rest = pixel / g.outputWidth
        let oh = rest % g.outputHeight, n = rest / g.outputHeight
        var destination = patches + index * depth
        let top = oh * g.strideHeight - g.padTop, left = ow * g.strideWidth - g.padLeft
        let image = x + n * g.height * g.width * g.channels
        for kh in 0..<g.kernelHeight {
            let ih = top + kh * g.dilationHeight
            if ih < 0 || ih >= g.height {
                destination.update(repeating: 0, count: rowSpan)
                destination += rowSpan
                continue
            }
            let inputRow = image + ih * g.width * g.channels
            if contiguousRow && left >= 0 && left + g.kernelWidth <= g.width {
                destination.update(from: inputRow + left * g.channels, count: rowSpan)
                destination += rowSpan
                continue
            }
            for kw in 0..<g.kernelWidth {
                let iw = left + kw * g.dilationWidth
                if iw < 0 || iw >= g.width {
                    destination.update(repeating: 0, count: groupChannels)
                } else {
                    destination.update(from: inputRow + iw * g.channels + channelOffset, count: groupChannels)
                }
                destination += groupChannels
            }
        }
    }
}


/// Direct depthwise convolution: output channel c·M + m = Σ x[c] · w[kh, kw, c, m] (+ bias),
/// clipped to `clip`, one output row per task, the inner loop over contiguous channels — with a
/// multiplier of 1 on AVX-512, 16 channels at a time in CKernels (`ck_depthwise_row`, the same
/// operations in the same order), else in Swift. With `extremes`, the output's finite extremes are
/// noted as each row is written (see `OutputExtremes`).
public func depthwiseConvolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, multiplier: Int,
                              bias: [Float]?, clip: ActivationClip? = nil, output: UnsafeMutablePointer<Float>,
                              extremes note: OutputExtremes? = nil) {
    depthwiseConvolve(x, g, weights: weights, multiplier: multiplier, bias: bias, clip: clip, output: output, extremes: note,
                      vectorized: GEMM.packedAvailable)
}

/// The same, the vectorized kernel used only when `vectorized` (tests compare the two).
func depthwiseConvolve(_ x: UnsafePointer<Float>, _ g: ConvGeometry, weights: UnsafePointer<Float>, multiplier: Int,
                       bias: [Float]?, clip: ActivationClip?, output: UnsafeMutablePointer<Float>,
                       extremes note: OutputExtremes?, vectorized: Bool) {
    defer { note?.complete() }  // every row below merges what it writes
    let channels = g.channels, outputChannels = channels * multiplier
    let rows = g.batch * g.outputHeight, rowCount = g.outputWidth * outputChannels
    var geometry = ck_depthwise_geometry(height: g.height, width: g.width, channels: channels, kernel_height: g.kernelHeight,
                                         kernel_width: g.kernelWidth, stride_width: g.strideWidth,
                                         dilation_height: g.dilationHeight, dilation_width: g.dilationWidth,
                                         output_width: g.outputWidth)
    let vectorized = vectorized && multiplier == 1
    let low = clip?.low ?? -.infinity, high = clip?.high ?? .infinity
    bias.withOptionalPointer { bias in
        Parallel.forEach(rows, grain: 1) { range in
            OutputExtremes.gathering(into: note) { extremes in
                for row in range {
                    let n = row / g.outputHeight, oh = row % g.outputHeight
                    let top = oh * g.strideHeight - g.padTop
                    let rowOutput = output + row * rowCount
                    if vectorized {
                        ck_depthwise_row(x + n * g.height * g.width * channels, &geometry, top, -g.padLeft, weights, bias, low, high,
                                         rowOutput, extremes)
                        continue
                    }
                    for ow in 0..<g.outputWidth {
                        let accumulator = rowOutput + ow * outputChannels
                        if let bias {
                            accumulator.update(from: bias, count: outputChannels)
                        } else {
                            accumulator.update(repeating: 0, count: outputChannels)
                        }
                        let left = ow * g.strideWidth - g.padLeft
                        for kh in 0..<g.kernelHeight {
                            let ih = top + kh * g.dilationHeight
                            if ih < 0 || ih >= g.height { continue }
                            for kw in 0..<g.kernelWidth {
                                let iw = left + kw * g.dilationWidth
                                if iw < 0 || iw >= g.width { continue }
                                let pixel = x + ((n * g.height + ih) * g.width + iw) * channels
                                let tap = weights + (kh * g.kernelWidth + kw) * outputChannels
                                if multiplier == 1 {
                                    for c in 0..<channels { accumulator[c] += pixel[c] * tap[c] }
                                } else {
                                    for c in 0..<channels {
                                        let value = pixel[c]
                                        let base = c * multiplier
                                        for m in 0..<multiplier { accumulator[base + m] += value * tap[base + m] }
                                    }
                                }
                            }
                        }
                    }
                    addBiasAndClip(rowOutput, rows: g.outputWidth, channels: outputChannels, bias: nil, clip: clip)
                    OutputExtremes.widen(extremes, scanning: rowOutput, count: rowCount)
                }
            }
        }
    }
}

/// How a transposed convolution's filter is laid out in memory.
public enum TransposeFilterLayout: Sendable {
    /// KH×KW×O×I (Keras, the graph IR): already the GEMM operand [KH·KW·O, I].
    case hwoi
    /// O×KH×KW×I (TFLite): reordered to KH×KW×O×I before the product.
    case ohwi
}

/// The shape of a transposed convolution over an NHWC batch: input and requested output sizes,
/// filter taps, strides, dilations and the padding of the forward convolution it is the gradient of.
public struct TransposeConvGeometry: Sendable {
    public var batch, height, width, inputChannels: Int
    public var outputHeight, outputWidth, outputChannels: Int
    public var kernelHeight, kernelWidth: Int
    public var strideHeight, strideWidth: Int
    public var dilationHeight, dilationWidth: Int
    public var padTop, padLeft: Int

    public init(batch: Int, height: Int, width: Int, inputChannels: Int, outputHeight: Int, outputWidth: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                dilationHeight: Int = 1, dilationWidth: Int = 1, padTop: Int, padLeft: Int) {
        self.batch = batch
        self.height = height
        self.width = width
        self.inputChannels = inputChannels
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
    }

    /// Columns per input pixel: one value per filter tap and output channel.
    public var columnCount: Int { kernelHeight * kernelWidth * outputChannels }

    /// Images whose columns are computed together, so their scratch stays within `Workspace.budget`.
    public var imagesPerTile: Int { max(1, min(batch, Workspace.budget / max(height * width * columnCount, 1))) }

    public var outputCount: Int { batch * outputHeight * outputWidth * outputChannels }
}

/// Transposed convolution as GEMM + col2im into `output`, which must hold zeros:
/// columns[pixel, (kh, kw, o)] = Σ_i x[pixel, i] · filter[kh, kw, o, i], then each input pixel's
/// columns add into its strided output window (images in parallel, each image in pixel order).
public func transposeConvolve(_ x: UnsafePointer<Float>, _ g: TransposeConvGeometry, weights: UnsafePointer<Float>,
                              layout: TransposeFilterLayout, output: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
    let imagePixels = g.height * g.width, columnCount = g.columnCount
    guard imagePixels > 0, g.outputCount > 0 else { return }
    let reordered: [Float]?
    switch layout {
    case .hwoi:
        reordered = nil
    case .ohwi:
        let taps = g.kernelHeight * g.kernelWidth, inputChannels = g.inputChannels, outputChannels = g.outputChannels
        var filter = [Float](repeating: 0, count: outputChannels * taps * inputChannels)
        for o in 0..<outputChannels {
            for tap in 0..<taps {
                let from = (o * taps + tap) * inputChannels, to = (tap * outputChannels + o) * inputChannels
                for i in 0..<inputChannels { filter[to + i] = weights[from + i] }
            }
        }
        reordered = filter
    }
    let imagesPerTile = g.imagesPerTile
    let columns = workspace.scratch(imagesPerTile * imagePixels * columnCount)
    try reordered.withOptionalPointer { reordered in
        let filter = reordered ?? weights
        for first in stride(from: 0, to: g.batch, by: imagesPerTile) {
            let images = min(imagesPerTile, g.batch - first)
            try GEMM.parallelMultiply(m: images * imagePixels, n: columnCount, k: g.inputChannels,
                                      a: x + first * imagePixels * g.inputChannels, lda: g.inputChannels,
                                      b: filter, ldb: g.inputChannels, transposeB: true, c: columns, ldc: columnCount)
            Parallel.forEach(images, grain: 1) { range in
                for image in range {
                    let target = output + (first + image) * g.outputHeight * g.outputWidth * g.outputChannels
                    for ih in 0..<g.height {
                        for iw in 0..<g.width {
                            let source = columns + ((image * g.height + ih) * g.width + iw) * columnCount
                            for kh in 0..<g.kernelHeight {
                                let oh = ih * g.strideHeight - g.padTop + kh * g.dilationHeight
                                if oh < 0 || oh >= g.outputHeight { continue }
                                for kw in 0..<g.kernelWidth {
                                    let ow = iw * g.strideWidth - g.padLeft + kw * g.dilationWidth
                                    if ow < 0 || ow >= g.outputWidth { continue }
                                    let to = target + (oh * g.outputWidth + ow) * g.outputChannels
                                    let from = source + (kh * g.kernelWidth + kw) * g.outputChannels
                                    for o in 0..<g.outputChannels { to[o] += from[o] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
