import Foundation
import Kernels
import TFLite

// UNIDIRECTIONAL_SEQUENCE_LSTM on the recurrent core both interpreters share (`RecurrentLayer`,
// Sources/Kernels/Recurrent.swift): the per-gate weights are put back into Keras' [F, 4U] / [U, 4U]
// layouts (gate order i, f, c, o), sigmoid gates and the fused activation for the cell, as LiteRT's
// float kernel computes. Hybrid files (int8 weights, float input) quantize each step's input row
// and state row as LiteRT's hybrid kernel does. Peepholes, projection, layer normalization and
// coupled input/forget gates (CIFG) — which no Keras layer writes — are refused.

/// LiteRT's input positions (lstm_shared.h).
private enum SequenceLSTMInput {
    static let input = 0
    static let inputWeights = 1...4  // input-to-{input, forget, cell, output} [U, F]
    static let recurrentWeights = 5...8  // recurrent-to-{input, forget, cell, output} [U, U]
    static let peepholes = 9...11
    static let biases = 12...15  // {input, forget, cell, output} gate bias [U]
    static let projection = 16...17
    static let outputState = 18, cellState = 19
    static let layerNorm = 20...23
}

func unidirectionalSequenceLSTMKernel(_ context: OperatorContext) throws -> Kernel {
    typealias In = SequenceLSTMInput
    try context.expect(inputs: 20...24, required: 1)
    try context.expectTypes(["float"], inputs: [In.input])
    try context.expectTypes(["float", "quantized"])
    for i in In.inputWeights.dropFirst().map({ $0 }) + In.recurrentWeights.dropFirst() + In.biases.dropFirst()
        + [In.outputState, In.cellState] where context.inputIndex(i) == nil {
        throw context.invalid("input \(i) is missing")
    }
    if [In.inputWeights.lowerBound, In.recurrentWeights.lowerBound, In.biases.lowerBound].contains(where: { context.inputIndex($0) == nil }) {
        throw context.unsupported("coupled input and forget gates (CIFG)")
    }
    let absent: [(ClosedRange<Int>, String)] = [(In.peepholes, "peephole connections"), (In.projection, "a projection"),
                                                (In.layerNorm, "layer normalization")]
    for (range, what) in absent where range.contains(where: { context.inputIndex($0) != nil }) {
        throw context.unsupported(what)
    }
    for i in [In.outputState, In.cellState] where context.inputTensor(i)?.isVariable != true {
        throw context.invalid("input \(i) (a state) is not a variable tensor")
    }
    let options = context.options("UnidirectionalSequenceLSTMOptions")
    let activation = try options.activation(Field.UnidirectionalSequenceLSTMOptions.fused_activation_function)
    let cellClip = try options.float(Field.UnidirectionalSequenceLSTMOptions.cell_clip)
    let timeMajor = try options.bool(Field.UnidirectionalSequenceLSTMOptions.time_major)
    let asymmetric = try options.bool(Field.UnidirectionalSequenceLSTMOptions.asymmetric_quantize_inputs)
    if try options.bool(Field.UnidirectionalSequenceLSTMOptions.diagonal_recurrent_tensors) {
        throw context.unsupported("diagonal recurrent weights")
    }
    guard cellClip >= 0, cellClip.isFinite else { throw context.invalid("cell_clip \(cellClip) must be ≥ 0") }
    // LiteRT's hybrid kernel: float input, int8 weights (input 2 decides, as op_version.cc reads it).
    var hybrid: HybridInputQuantization? = nil
    if context.options.emulateHybridKernels, context.inputTensor(2)?.type == "int8", case .quantized? = context.inputStorage(2) {
        hybrid = asymmetric ? .asymmetric : .symmetric
    }

    /// The layer from the weight inputs' values (once while preparing when they are constants).
    func layer(_ inputs: [TensorValue?]) throws -> RecurrentLayer {
        let inputWeights = In.inputWeights.map { inputs[$0]! }, recurrentWeights = In.recurrentWeights.map { inputs[$0]! }
        let biases = In.biases.map { inputs[$0]! }
        guard let units = inputWeights.first?.shape.first, let features = inputWeights.first?.shape.last,
              inputWeights.allSatisfy({ $0.shape == [units, features] }), recurrentWeights.allSatisfy({ $0.shape == [units, units] }),
              biases.allSatisfy({ $0.count == units }) else {
            throw context.invalid("the gate weights and biases do not fit one [U, F] / [U, U] / [U] layout")
        }
        // Keras layouts: kernel[f, g·U + u] = W_g[u, f], recurrent[k, g·U + u] = R_g[u, k].
        let width = 4 * units
        var kernel = [Float](repeating: 0, count: features * width)
        var recurrent = [Float](repeating: 0, count: units * width)
        for gate in 0..<4 {
            let w = inputWeights[gate].values, r = recurrentWeights[gate].values
            for u in 0..<units {
                for f in 0..<features { kernel[f * width + gate * units + u] = w[u * features + f] }
                for k in 0..<units { recurrent[k * width + gate * units + u] = r[u * units + k] }
            }
        }
        var layer = RecurrentLayer(cell: .lstm, units: units, kernel: kernel, recurrentKernel: recurrent,
                                   bias: biases.flatMap(\.values), activation: { activation.apply($0) },
                                   recurrentActivation: { transformEach($0) { logistic($0) } })
        layer.returnSequences = true
        layer.cellClip = cellClip
        if let hybrid { layer.transformRows = { hybrid.apply($0, rows: $1) } }
        return layer
    }
    let weightInputs = Array(In.inputWeights) + Array(In.recurrentWeights) + Array(In.biases)
    let prepared: RecurrentLayer?
    if weightInputs.allSatisfy(context.isConstant) {
        var known = [TensorValue?](repeating: nil, count: context.info.inputs.count)
        for i in weightInputs { known[i] = context.constant(i) }
        prepared = try layer(known)
    } else {
        prepared = nil
    }

    return Kernel { inputs, _ in
        var x = value(inputs, In.input)
        guard x.rank == 3 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not [batch, time, features]") }
        if timeMajor { x = transposed(x, [1, 0, 2]) }
        let lstm = try prepared ?? layer(inputs)
        let states = [value(inputs, In.outputState), value(inputs, In.cellState)]
        _ = try context.count([x.shape[0], x.shape[1], lstm.units])
        var output: TensorValue
        do {
            output = try lstm.run(x, mask: nil, initialStates: states)[0]
        } catch let error as KernelError {
            throw context.invalid("\(error)")
        }
        if timeMajor { output = transposed(output, [1, 0, 2]) }
        return [output]
    }
}
