/// Where one output index of a bilinear resize reads: the two input indices and the weight of
/// the upper one. Each interpreter fills these by its reference's rule (half-pixel centres,
/// align_corners, clamping).
public struct BilinearTap: Sendable {
    public var low: Int
    public var high: Int
    public var fraction: Float

    public init(low: Int, high: Int, fraction: Float) {
        self.low = low
        self.high = high
        self.fraction = fraction
    }
}

/// How a bilinear resize blends its four input pixels, in its reference's float32 order.
public enum BilinearBlend: Sendable {
    /// tf.image.resize: lerp along x on the top and bottom rows, then along y.
    case lerp
    /// LiteRT's ResizeBilinear: the four corners weighted by (1 − dy)(1 − dx), dy(1 − dx), (1 − dy)dx, dy·dx.
    case weightedCorners
}

/// Bilinear resize of an NHWC batch to rows.count × columns.count, output rows in parallel.
public func resizeBilinear(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                           rows: [BilinearTap], columns: [BilinearTap], blend: BilinearBlend,
                           output: UnsafeMutablePointer<Float>) {
    let outputHeight = rows.count, outputWidth = columns.count
    Parallel.forEach(batch * outputHeight, grain: 1) { range in
        for row in range {
            let n = row / outputHeight, oh = row % outputHeight
            let image = x + n * height * width * channels
            let y = rows[oh]
            for ow in 0..<outputWidth {
                let target = output + (row * outputWidth + ow) * channels
                let column = columns[ow]
                let topLeft = image + (y.low * width + column.low) * channels, topRight = image + (y.low * width + column.high) * channels
                let bottomLeft = image + (y.high * width + column.low) * channels
                let bottomRight = image + (y.high * width + column.high) * channels
                switch blend {
                case .lerp:
                    for c in 0..<channels {
                        let top = topLeft[c] + (topRight[c] - topLeft[c]) * column.fraction
                        let bottom = bottomLeft[c] + (bottomRight[c] - bottomLeft[c]) * column.fraction
                        target[c] = top + (bottom - top) * y.fraction
                    }
                case .weightedCorners:
                    let dy = y.fraction, dx = column.fraction
                    for c in 0..<channels {
                        target[c] = topLeft[c] * (1 - dy) * (1 - dx) + bottomLeft[c] * dy * (1 - dx)
                            + topRight[c] * (1 - dy) * dx + bottomRight[c] * dy * dx
                    }
                }
            }
        }
    }
}
