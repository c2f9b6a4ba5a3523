/// A 2-D window over an NHWC batch (1-D ops use height 1).
public struct ConvGeometry: Sendable {
    public var batch, height, width, channels: Int
    public var outputHeight, outputWidth: Int
    public var kernelHeight, kernelWidth: Int
    public var strideHeight, strideWidth: Int
    public var dilationHeight, dilationWidth: Int
    public var padTop, padLeft: Int

    public init(batch: Int, height: Int, width: Int, channels: Int, rows: AxisWindow, columns: AxisWindow) {
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        (outputHeight, padTop) = rows.plan(height)
        (outputWidth, padLeft) = columns.plan(width)
        kernelHeight = rows.window
        kernelWidth = columns.window
        strideHeight = rows.stride
        strideWidth = columns.stride
        dilationHeight = rows.dilation
        dilationWidth = columns.dilation
    }

    public var outputPixels: Int { batch * outputHeight * outputWidth }

    /// A 1×1, stride-1, unpadded convolution: its input rows are the GEMM's A as they are.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && outputHeight == height && outputWidth == width
    }
}

/// How a convolution's filter is laid out in memory.
public enum FilterLayout: Sendable {
    /// KH×KW×Cg×O (Keras, the graph IR): patches · filter.
    case hwio
    /// O×KH×KW×Cg (TFLite): patches · filterᵀ.
    case ohwi
}
