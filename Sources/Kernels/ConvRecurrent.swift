/// Keras' ConvLSTM2D at inference over a whole sequence of NHWC frames: the LSTM cell with
/// convolutions in place of the matrix products (gates i, f, c, o in the kernels' output channels).
///
/// The input convolution of every frame runs at once (the N·T frames as one im2col + GEMM batch);
/// each step then convolves the state h [N, H', W', F] with the recurrent kernel (stride 1, SAME).
public struct ConvLSTMLayer {
    public var filters: Int
    /// [KH, KW, C, 4F] and [RH, RW, F, 4F], Keras' HWIO layouts.
    public var kernel: [Float]
    public var kernelSize: (height: Int, width: Int)
    public var recurrentKernel: [Float]
    public var recurrentKernelSize: (height: Int, width: Int)
    /// [4F]; nil: no bias.
    public var bias: [Float]?
    /// The input convolution's windows over H and W (strides, dilations, padding).
    public var rows: AxisWindow
    public var columns: AxisWindow
    /// Applied in place to any number of values: the cell activation and the gate activation.
    public var activation: (UnsafeMutableBufferPointer<Float>) -> Void
    public var recurrentActivation: (UnsafeMutableBufferPointer<Float>) -> Void
    public var returnSequences = false
    public var goBackwards = false

    public init(filters: Int, kernel: [Float], kernelSize: (height: Int, width: Int), recurrentKernel: [Float],
                recurrentKernelSize: (height: Int, width: Int), bias: [Float]?, rows: AxisWindow, columns: AxisWindow,
                activation: @escaping (UnsafeMutableBufferPointer<Float>) -> Void,
                recurrentActivation: @escaping (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.filters = filters
        self.kernel = kernel
        self.kernelSize = kernelSize
        self.recurrentKernel = recurrentKernel
        self.recurrentKernelSize = recurrentKernelSize
        self.bias = bias
        self.rows = rows
        self.columns = columns
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// Runs the layer on x [N, T, H, W, C]. Returns the output sequence [N, T, H', W', F] (in
    /// processing order) or the last output [N, H', W', F], then the final h and c.
    public func run(_ x: TensorValue, workspace: Workspace) throws -> [TensorValue] {
        guard x.rank == 5 else { throw KernelError.invalidArgument("ConvLSTM input has shape \(shapeText(x.shape)), needs [N, T, H, W, C]") }
        let (batch, steps, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let width4 = 4 * filters
        guard kernel.count == kernelSize.height * kernelSize.width * channels * width4,
              recurrentKernel.count == recurrentKernelSize.height * recurrentKernelSize.width * filters * width4 else {
            throw KernelError.invalidArgument("kernels do not fit \(channels) channels and \(filters) filters")
        }
        if let bias, bias.count != width4 { throw KernelError.invalidArgument("bias has \(bias.count) values for \(width4)") }
        let frames = ConvGeometry(batch: batch * steps, height: height, width: width, channels: channels, rows: rows, columns: columns)
        let pixels = frames.outputHeight * frames.outputWidth
        let state = ConvGeometry(batch: batch, height: frames.outputHeight, width: frames.outputWidth, channels: filters,
                                 rows: AxisWindow(window: recurrentKernelSize.height, stride: 1, padding: .same),
                                 columns: AxisWindow(window: recurrentKernelSize.width, stride: 1, padding: .same))
        // Input convolutions of every frame: [N·T, H'·W', 4F], bias added.
        var projected = [Float](repeating: 0, count: batch * steps * pixels * width4)
        try x.values.withUnsafeBufferPointer { xs in
            try kernel.withUnsafeBufferPointer { w in
                try projected.withUnsafeMutableBufferPointer { out in
                    guard out.count > 0 else { return }
                    try convolve(xs.baseAddress!, frames, weights: w.baseAddress!, groups: 1, outputChannels: width4,
                                 output: out.baseAddress!, workspace: workspace)
                }
            }
        }
        if let bias {
            for row in 0..<(batch * steps * pixels) {
                for column in 0..<width4 { projected[row * width4 + column] += bias[column] }
            }
        }

        let stateCount = batch * pixels * filters
        var h = [Float](repeating: 0, count: stateCount), c = h
        var sequence = returnSequences ? [Float](repeating: 0, count: batch * steps * pixels * filters) : []
        var recurrent = [Float](repeating: 0, count: batch * pixels * width4)
        var gates = [[Float]](repeating: [Float](repeating: 0, count: stateCount), count: 4)
        for step in 0..<steps {
            let t = goBackwards ? steps - 1 - step : step
            if step > 0 {
                try h.withUnsafeBufferPointer { hs in
                    try recurrentKernel.withUnsafeBufferPointer { w in
                        try recurrent.withUnsafeMutableBufferPointer { out in
                            try convolve(hs.baseAddress!, state, weights: w.baseAddress!, groups: 1, outputChannels: width4,
                                         output: out.baseAddress!, workspace: workspace)
                        }
                    }
                }
            }
            // z = x_t ∗ W + h ∗ R + b, split into the four gate blocks [N·H'·W', F] each.
            for n in 0..<batch {
                for pixel in 0..<pixels {
                    let source = ((n * steps + t) * pixels + pixel) * width4, own = (n * pixels + pixel) * width4
                    let target = (n * pixels + pixel) * filters
                    for gate in 0..<4 {
                        for f in 0..<filters {
                            let column = gate * filters + f
                            gates[gate][target + f] = projected[source + column] + (step > 0 ? recurrent[own + column] : 0)
                        }
                    }
                }
            }
            gates[0].withUnsafeMutableBufferPointer { recurrentActivation($0) }
            gates[1].withUnsafeMutableBufferPointer { recurrentActivation($0) }
            gates[2].withUnsafeMutableBufferPointer { activation($0) }
            gates[3].withUnsafeMutableBufferPointer { recurrentActivation($0) }
            for index in 0..<stateCount { c[index] = gates[1][index] * c[index] + gates[0][index] * gates[2][index] }
            var activated = c
            activated.withUnsafeMutableBufferPointer { activation($0) }
            for index in 0..<stateCount { h[index] = gates[3][index] * activated[index] }
            if returnSequences {
                let block = pixels * filters
                for n in 0..<batch {
                    let to = (n * steps + step) * block
                    for index in 0..<block { sequence[to + index] = h[n * block + index] }
                }
            }
        }
        let stateShape = [batch, frames.outputHeight, frames.outputWidth, filters]
        let first = returnSequences
            ? TensorValue(unchecked: [batch, steps, frames.outputHeight, frames.outputWidth, filters], sequence)
            : TensorValue(unchecked: stateShape, h)
        return [first, TensorValue(unchecked: stateShape, h), TensorValue(unchecked: stateShape, c)]
    }
}
