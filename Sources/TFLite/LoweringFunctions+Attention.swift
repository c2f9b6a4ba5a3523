import FlatBuffers
import GraphIR

// Lowerings of the attention layers' ops: batch_matmul → BATCH_MATMUL, l2_normalize →
// L2_NORMALIZATION (which normalizes the last axis, so another axis is moved last and back).

func lowerBatchMatmul(_ context: LoweringContext, _ op: Op) throws {
    let adjointX = try op.attribute(.adjointX), adjointY = try op.attribute(.adjointY)
    context.emit(.BATCH_MATMUL, [context.tensor(for: op.inputs[0]), context.tensor(for: op.inputs[1])],
                 [context.tensor(for: op.outputs[0])], options: .BatchMatMulOptions, Options.table { builder in
                     try builder.add(Field.BatchMatMulOptions.adj_x, adjointX, default: false)
                     try builder.add(Field.BatchMatMulOptions.adj_y, adjointY, default: false)
                 })
}

func lowerL2Normalize(_ context: LoweringContext, _ op: Op) throws {
    let x = op.inputs[0]
    let rank = x.shape.count
    var axis = try op.attribute(.axis)
    if axis < 0 { axis += rank }
    if axis == rank - 1 {
        context.emit(.L2_NORMALIZATION, [context.tensor(for: x)], [context.tensor(for: op.outputs[0])],
                     options: .L2NormOptions, Options.table { _ in })
        return
    }
    var permutation = Array(0..<rank)
    permutation.swapAt(axis, rank - 1)
    let perm = context.constantInt32(op.name + "/perm", permutation.map(Int32.init))
    let movedShape = permutation.map { x.shape[$0] }
    let moved = context.emitTemporary(.TRANSPOSE, [context.tensor(for: x), perm], name: op.name + "/moved", shape: movedShape,
                                      options: .TransposeOptions, Options.table { _ in })
    let normalized = context.emitTemporary(.L2_NORMALIZATION, [moved], name: op.name + "/normalized", shape: movedShape,
                                           options: .L2NormOptions, Options.table { _ in })
    context.emit(.TRANSPOSE, [normalized, perm], [context.tensor(for: op.outputs[0])], options: .TransposeOptions, Options.table { _ in })
}
