extension Verification {
    /// `verify`: loads the model files at `pathA` and `pathB` (`configA`/`configB`: architecture
    /// JSON of a weights-only `.h5`), runs both on the samples file `input`, `batchSize` samples
    /// at a time, and compares their outputs. Errors name their file.
    public init(pathA: String, configA: String? = nil, pathB: String, configB: String? = nil, input: String,
                batchSize: Int, tolerance: Double?) throws {
        let modelA = try ReferenceModel.load(path: pathA, config: configA)
        let modelB = try ReferenceModel.load(path: pathB, config: configB)
        let inputsA = try modelA.loadInputs(input)
        let inputsB = try modelB.loadInputs(input)
        let outputsA = try modelA.run(inputsA, batchSize: batchSize)
        let outputsB = try modelB.run(inputsB, batchSize: batchSize)
        try self.init(a: modelA, outputsA: outputsA, b: modelB, outputsB: outputsB,
                      samples: inputsA.first?.shape.first ?? 0, input: input, tolerance: tolerance)
    }
}
