import Foundation
import GraphIR
import Kernels

// Recurrent and text ops: simple_rnn / gru / lstm (Kernels' RecurrentLayer), gather, cast,
// reverse and sequence_mask. Integer tensors (ids) are held as exact float values.

func recurrentKernel(_ context: KernelContext) throws -> Kernel {
    let op = context.op
    let cell: RecurrentCell
    switch op.kind {
    case .simpleRnn: cell = .simple
    case .gru: cell = .gru(resetAfter: try context.attribute(.resetAfter))
    default: cell = .lstm
    }
    let masked = try context.attribute(.masked)
    let kernel = try context.constant(1), recurrent = try context.constant(2)
    guard recurrent.rank == 2, recurrent.shape[1] == cell.gates * recurrent.shape[0] else {
        throw context.invalid("recurrent kernel \(shapeText(recurrent.shape)) does not have \(cell.gates) gate blocks")
    }
    let hasBias = op.inputs.count - (masked ? 1 : 0) == 4
    let bias = hasBias ? try context.constant(3).values : nil
    let activation = try context.attribute(.cellActivation)
    let gateActivation = cell == .simple ? activation : try context.attribute(.recurrentActivation)
    let units = recurrent.shape[0]
    var layer = RecurrentLayer(cell: cell, units: units, kernel: kernel.values, recurrentKernel: recurrent.values, bias: bias,
                               activation: { applyActivation(activation, to: $0, lastAxis: units) },
                               recurrentActivation: { applyActivation(gateActivation, to: $0, lastAxis: units) })
    layer.returnSequences = try context.attribute(.returnSequences)
    layer.goBackwards = try context.attribute(.goBackwards)
    layer.zeroOutputForMask = try context.attribute(.zeroOutputForMask)
    let frozen = layer
    return .outputs { inputs, _ in
        do {
            return try frozen.run(inputs[0], mask: masked ? inputs[inputs.count - 1] : nil)
        } catch let error as KernelError {
            throw context.invalid("\(error)")
        }
    }
}

/// Rows of the table (input 0) by integer ids (input 1).
func gatherKernel(_ context: KernelContext) throws -> Kernel {
    Kernel(run: { inputs, _ in
        let table = inputs[0], ids = inputs[1]
        guard let rows = table.shape.first else { throw context.invalid("the table is a scalar") }
        let inner = table.shape.dropFirst().reduce(1, *)
        var values = [Float]()
        values.reserveCapacity(ids.count * inner)
        for id in ids.values {
            let row = Int(id)
            guard Float(row) == id, row >= 0, row < rows else {
                throw ExecutionError.invalidInput(.interpreter, "id \(id) is not an index of the \(rows) rows")
            }
            values += table.values[(row * inner)..<((row + 1) * inner)]
        }
        return TensorValue(unchecked: ids.shape + table.shape.dropFirst(), values)
    })
}

/// float → integer truncates toward zero; → bool is x ≠ 0; → float leaves the values.
func castKernel(_ context: KernelContext) throws -> Kernel {
    let target = try context.attribute(.targetType)
    return Kernel(run: { inputs, _ in
        var x = inputs.take(0)
        switch target {
        case .float32, .float16, .float64: break
        case .bool: x.withUnsafeMutableValues { transformEach($0) { $0 != 0 ? 1 : 0 } }
        default: x.withUnsafeMutableValues { transformEach($0) { $0.rounded(.towardZero) } }
        }
        return x
    })
}

func reverseKernel(_ context: KernelContext) throws -> Kernel {
    let axisAttribute = try context.attribute(.axis)
    return Kernel(run: { inputs, _ in
        let x = inputs.take(0)
        let axis = axisAttribute < 0 ? axisAttribute + x.rank : axisAttribute
        guard (0..<x.rank).contains(axis) else { throw context.invalid("axis \(axisAttribute) does not fit \(shapeText(x.shape))") }
        let lists = x.shape.enumerated().map { index, size in index == axis ? Array((0..<size).reversed()) : Array(0..<size) }
        return TensorValue(unchecked: x.shape, selectAlongAxes(x, lists))
    })
}

/// 1 where a step is kept: ids ≠ mask_value (rank 2), or some feature ≠ mask_value (rank 3).
func sequenceMaskKernel(_ context: KernelContext) throws -> Kernel {
    let maskValue = try context.attribute(.maskValue)
    return Kernel(run: { inputs, _ in
        let x = inputs[0]
        guard x.rank == 2 || x.rank == 3 else { throw context.invalid("input \(shapeText(x.shape)) needs rank 2 or 3") }
        let steps = x.shape[0] * x.shape[1], features = x.rank == 3 ? x.shape[2] : 1
        var mask = [Float](repeating: 0, count: steps)
        for step in 0..<steps where x.values[(step * features)..<((step + 1) * features)].contains(where: { $0 != maskValue }) {
            mask[step] = 1
        }
        return TensorValue(unchecked: Array(x.shape.prefix(2)), mask)
    })
}
