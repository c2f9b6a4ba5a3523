extension Graph {
    /// Fixes the batch (first) dimension of every input to `batch`, or leaves it unknown when nil,
    /// and re-infers every op's output shapes in order.
    public func setBatch(_ batch: Int?) throws {
        for input in inputs where !input.shape.isEmpty { input.shape[0] = batch }
        try reinferShapes()
    }

    /// Recomputes all op output shapes from the inputs, in execution order.
    public func reinferShapes() throws {
        for op in ops {
            let shapes = try OpSchema.of(op.kind).inferShapes(op)
            for (output, shape) in zip(op.outputs, shapes) { output.shape = shape }
        }
    }
}
