/// What a pooling window computes over the input elements inside it.
public enum PoolFunction: Sendable, CaseIterable {
    case maximum, average
    /// √(mean of squares) (LiteRT's L2_POOL_2D).
    case l2
}

/// Pooling over an NHWC batch with TensorFlow's padding: a window at the border covers only the
/// input elements inside it (max ignores the padding, average and l2 divide by the elements
/// inside); a window with none gives 0. Output rows run in parallel, each window in (h, w) order.
public func pool(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ function: PoolFunction, output: UnsafeMutablePointer<Float>) {
    let channels = g.channels
    Parallel.forEach(g.batch * g.outputHeight, grain: 1) { range in
        for row in range {
            let n = row / g.outputHeight, oh = row % g.outputHeight
            let top = oh * g.strideHeight - g.padTop
            let rowStart = max(top, 0), rowEnd = min(top + g.kernelHeight, g.height)
            for ow in 0..<g.outputWidth {
                let left = ow * g.strideWidth - g.padLeft
                let columnStart = max(left, 0), columnEnd = min(left + g.kernelWidth, g.width)
                let accumulator = output + (row * g.outputWidth + ow) * channels
                accumulator.update(repeating: function == .maximum ? -.infinity : 0, count: channels)
                for ih in rowStart..<max(rowStart, rowEnd) {
                    for iw in columnStart..<max(columnStart, columnEnd) {
                        let pixel = x + ((n * g.height + ih) * g.width + iw) * channels
                        switch function {
                        case .maximum: for c in 0..<channels { accumulator[c] = max(accumulator[c], pixel[c]) }
                        case .average: for c in 0..<channels { accumulator[c] += pixel[c] }
                        case .l2: for c in 0..<channels { accumulator[c] += pixel[c] * pixel[c] }
                        }
                    }
                }
                let inside = max(rowEnd - rowStart, 0) * max(columnEnd - columnStart, 0)
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
