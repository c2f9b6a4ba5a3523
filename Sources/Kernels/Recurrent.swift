/// The cell of a recurrent layer, with Keras' gate order in the kernels' columns.
public enum RecurrentCell: Sendable, Equatable {
    /// h = act(x·W + h·R + b).
    case simple
    /// Gates z, r, h. `resetAfter`: the reset gate scales h·R + b_R (bias [2, 3U]); otherwise it scales h before R.
    case gru(resetAfter: Bool)
    /// Gates i, f, c, o; c = f·c + i·act(z_c), h = o·act(c).
    case lstm

    public var gates: Int {
        switch self {
        case .simple: return 1
        case .gru: return 3
        case .lstm: return 4
        }
    }
}

/// One recurrent layer over a whole sequence, as Keras' RNN computes it at inference.
public struct RecurrentLayer {
    public var cell: RecurrentCell
    public var units: Int
    /// [F, G·U] and [U, G·U], Keras layouts (x · W).
    public var kernel: [Float]
    public var recurrentKernel: [Float]
    /// [G·U], or for a reset-after GRU [2, G·U] (input bias, then recurrent bias); nil: no bias.
    public var bias: [Float]?
    /// Applied in place to U values: the cell activation, and the gate activation.
    public var activation: (UnsafeMutableBufferPointer<Float>) -> Void
    public var recurrentActivation: (UnsafeMutableBufferPointer<Float>) -> Void
    public var returnSequences = false
    public var goBackwards = false
    public var zeroOutputForMask = false
    /// LSTM: each new cell state is clipped to [−cellClip, cellClip] (LiteRT's `cell_clip`); 0: none.
    public var cellClip: Float = 0
    /// Called on what the kernels multiply — the input rows [N·T, F] (rows = N·T), then each
    /// step's state [N, U] (rows = N) — before the products; LiteRT's hybrid kernels quantize them
    /// to int8 row by row. nil: used as they are.
    public var transformRows: ((_ values: [Float], _ rows: Int) -> [Float])? = nil

    public init(cell: RecurrentCell, units: Int, kernel: [Float], recurrentKernel: [Float], bias: [Float]?,
                activation: @escaping (UnsafeMutableBufferPointer<Float>) -> Void,
                recurrentActivation: @escaping (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.cell = cell
        self.units = units
        self.kernel = kernel
        self.recurrentKernel = recurrentKernel
        self.bias = bias
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// Runs the layer on x [N, T, F] with an optional 0/1 mask [N, T] (a masked step keeps the
    /// states and outputs the previous output, or zeros with `zeroOutputForMask`), from zero
    /// states or `initialStates` (h, and c for LSTM, each [N, U]). Returns the output sequence
    /// [N, T, U] (in processing order) or the last output [N, U], the final h and, for LSTM, the
    /// final c.
    public func run(_ x: TensorValue, mask: TensorValue?, initialStates: [TensorValue] = []) throws -> [TensorValue] {
        guard x.rank == 3 else { throw KernelError.invalidArgument("recurrent input has shape \(shapeText(x.shape)), needs [N, T, F]") }
        let (batch, steps, features) = (x.shape[0], x.shape[1], x.shape[2])
        let gates = cell.gates, width = gates * units
        guard kernel.count == features * width, recurrentKernel.count == units * width else {
            throw KernelError.invalidArgument("kernels do not fit \(features) features and \(units) units")
        }
        if let mask, mask.shape != [batch, steps] {
            throw KernelError.invalidArgument("mask has shape \(shapeText(mask.shape)), needs \(shapeText([batch, steps]))")
        }
        var inputBias = [Float](repeating: 0, count: width)
        var recurrentBias: [Float]? = nil
        if let bias {
            if case .gru(true) = cell, bias.count == 2 * width {
                inputBias = Array(bias[0..<width])
                recurrentBias = Array(bias[width...])
            } else {
                guard bias.count == width else { throw KernelError.invalidArgument("bias has \(bias.count) values for \(width)") }
                inputBias = bias
            }
        }
        for state in initialStates where state.count != batch * units {
            throw KernelError.invalidArgument("an initial state has shape \(shapeText(state.shape)), needs \(shapeText([batch, units]))")
        }
        // Input projections of every step at once: [N·T, G·U].
        var projected = [Float](repeating: 0, count: batch * steps * width)
        try (transformRows?(x.values, batch * steps) ?? x.values).withUnsafeBufferPointer { xs in
            try kernel.withUnsafeBufferPointer { w in
                try projected.withUnsafeMutableBufferPointer { out in
                    guard batch * steps > 0 else { return }
                    try dense(xs.baseAddress!, rows: batch * steps, inputs: features, outputs: width, weights: w.baseAddress!,
                              layout: .io, output: out.baseAddress!)
                }
            }
        }
        for row in 0..<(batch * steps) {
            for column in 0..<width { projected[row * width + column] += inputBias[column] }
        }

        var h = initialStates.first?.values ?? [Float](repeating: 0, count: batch * units)
        var c = initialStates.count > 1 ? initialStates[1].values : [Float](repeating: 0, count: batch * units)
        var sequence = returnSequences ? [Float](repeating: 0, count: batch * steps * units) : []
        var last = h
        var recurrent = [Float](repeating: 0, count: batch * width)
        var gate = [Float](repeating: 0, count: width)
        var scaled = [Float](repeating: 0, count: batch * units)
        var candidate = [Float](repeating: 0, count: batch * units)
        for step in 0..<steps {
            let t = goBackwards ? steps - 1 - step : step
            try multiply(transformRows?(h, batch) ?? h, by: recurrentKernel, rows: batch, inner: units, columns: width, into: &recurrent)
            if case .gru(false) = cell {
                // (r ⊙ h) · R_h needs r first: gates z and r come from h · R[:, :2U].
                for b in 0..<batch {
                    for u in 0..<units {
                        let index = (b * steps + t) * width + units + u
                        gate[u] = projected[index] + recurrent[b * width + units + u]
                    }
                    gate.withUnsafeMutableBufferPointer { recurrentActivation(UnsafeMutableBufferPointer(rebasing: $0[0..<units])) }
                    for u in 0..<units { scaled[b * units + u] = gate[u] * h[b * units + u] }
                }
                var candidateProjection = [Float](repeating: 0, count: batch * width)
                try multiply(transformRows?(scaled, batch) ?? scaled, by: recurrentKernel, rows: batch, inner: units, columns: width, into: &candidateProjection)
                for b in 0..<batch {
                    for u in 0..<units { candidate[b * units + u] = candidateProjection[b * width + 2 * units + u] }
                }
            }
            for b in 0..<batch {
                let keep = mask.map { $0.values[b * steps + t] != 0 } ?? true
                let row = (b * steps + t) * width
                gate.withUnsafeMutableBufferPointer { z in
                    let base = z.baseAddress!
                    func block(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
                        UnsafeMutableBufferPointer(start: base + index * units, count: units)
                    }
                    switch cell {
                    case .simple:
                        for column in 0..<width { base[column] = projected[row + column] + recurrent[b * width + column] }
                        activation(block(0))
                        if keep { for u in 0..<units { h[b * units + u] = base[u] } }
                    case .lstm:
                        for column in 0..<width { base[column] = projected[row + column] + recurrent[b * width + column] }
                        recurrentActivation(block(0))
                        recurrentActivation(block(1))
                        activation(block(2))
                        recurrentActivation(block(3))
                        guard keep else { return }
                        for u in 0..<units { c[b * units + u] = base[units + u] * c[b * units + u] + base[u] * base[2 * units + u] }
                        if cellClip > 0 { for u in 0..<units { c[b * units + u] = min(max(c[b * units + u], -cellClip), cellClip) } }
                        for u in 0..<units { base[2 * units + u] = c[b * units + u] }
                        activation(block(2))
                        for u in 0..<units { h[b * units + u] = base[3 * units + u] * base[2 * units + u] }
                    case .gru(let resetAfter):
                        var rec = Array(recurrent[(b * width)..<((b + 1) * width)])
                        if let recurrentBias { for column in 0..<width { rec[column] += recurrentBias[column] } }
                        for column in 0..<(2 * units) { base[column] = projected[row + column] + rec[column] }
                        recurrentActivation(block(0))
                        recurrentActivation(block(1))
                        for u in 0..<units {
                            let inner = resetAfter ? base[units + u] * rec[2 * units + u] : candidate[b * units + u]
                            base[2 * units + u] = projected[row + 2 * units + u] + inner
                        }
                        activation(block(2))
                        guard keep else { return }
                        for u in 0..<units {
                            let z = base[u]
                            h[b * units + u] = z * h[b * units + u] + (1 - z) * base[2 * units + u]
                        }
                    }
                }
                for u in 0..<units {
                    let output = (keep || !zeroOutputForMask) ? h[b * units + u] : 0
                    if returnSequences { sequence[(b * steps + step) * units + u] = output }
                    if step == steps - 1 { last[b * units + u] = output }
                }
            }
        }
        let first = returnSequences ? TensorValue(unchecked: [batch, steps, units], sequence) : TensorValue(unchecked: [batch, units], last)
        var outputs = [first, TensorValue(unchecked: [batch, units], h)]
        if cell == .lstm { outputs.append(TensorValue(unchecked: [batch, units], c)) }
        return outputs
    }

    private func multiply(_ a: [Float], by matrix: [Float], rows: Int, inner: Int, columns: Int, into output: inout [Float]) throws {
        guard rows > 0, inner > 0 else {
            for index in output.indices { output[index] = 0 }
            return
        }
        try a.withUnsafeBufferPointer { x in
            try matrix.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBufferPointer { out in
                    try dense(x.baseAddress!, rows: rows, inputs: inner, outputs: columns, weights: w.baseAddress!, layout: .io,
                              output: out.baseAddress!)
                }
            }
        }
    }
}
