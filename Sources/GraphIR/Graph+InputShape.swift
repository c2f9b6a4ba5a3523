extension Graph {
    /// Fixes the dimensions after the batch of the named inputs — Keras' `Input(shape=…)`, the batch
    /// excluded (`setBatch` owns it) — and re-infers every op's output shapes. Each input must exist,
    /// get one size per non-batch dimension, positive, and equal to any size the model already fixes;
    /// otherwise nothing changes and the error names the input.
    public func setInputShapes(_ shapes: [String: [Int]]) throws {
        guard !shapes.isEmpty else { return }
        var planned: [(Tensor, Shape)] = []
        for (name, dimensions) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let input = inputs.first(where: { $0.name == name }) else {
                let known = inputs.map { "\($0.name) \($0.shape.text)" }.joined(separator: ", ")
                throw GraphError.invalid("--input-shape \(name)=…: the model has no input '\(name)' (its inputs: \(known))")
            }
            let given = "--input-shape \(name)=" + dimensions.map(String.init).joined(separator: ",")
            guard input.shape.count >= 1, dimensions.count == input.shape.count - 1 else {
                throw GraphError.invalid("\(given): input '\(name)' \(input.shape.text) has \(max(input.shape.count - 1, 0)) dimensions after the batch, "
                                         + "\(dimensions.count) given (the batch is not part of --input-shape)")
            }
            if let bad = dimensions.first(where: { $0 < 1 }) {
                throw GraphError.invalid("\(given): sizes must be positive, got \(bad)")
            }
            for (axis, size) in dimensions.enumerated() {
                if let fixed = input.shape[axis + 1], fixed != size {
                    throw GraphError.invalid("\(given): input '\(name)' \(input.shape.text) fixes dimension \(axis + 1) at \(fixed), not \(size)")
                }
            }
            planned.append((input, [input.shape[0]] + dimensions.map { Optional($0) }))
        }
        for (input, shape) in planned { input.shape = shape }
        try reinferShapes()
    }
}
