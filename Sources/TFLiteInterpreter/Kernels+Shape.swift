import Foundation
import Kernels
import TFLite

// Shape and data movement: RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE, SLICE, STRIDED_SLICE, TILE,
// CONCATENATION, PACK, UNPACK, SPLIT, SPLIT_V, PAD, PADV2, MIRROR_PAD, SHAPE, RANK, FILL,
// BROADCAST_TO, ZEROS_LIKE, GATHER, DEPTH_TO_SPACE, SPACE_TO_DEPTH, REVERSE_V2, RANGE. Most are a
// selection of input elements per axis (`selectAlongAxes`).

/// The integer values of input `i` (shapes, axes, paddings).
func integerInput(_ inputs: [TensorValue?], _ i: Int, _ context: OperatorContext, _ what: String) throws -> [Int] {
    guard inputs.indices.contains(i), let tensor = inputs[i] else { throw context.invalid("\(what) (input \(i)) is missing") }
    return try context.integers(tensor, what)
}

// MARK: - reshaping

func reshapeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...2, required: 1)
    try context.expectTypes(["float", "quantized", "integer", "bool"], inputs: [0])
    let optionShape = try context.options("ReshapeOptions").ints(Field.ReshapeOptions.new_shape)
    let declared = context.outputTensor(0).shape
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        var requested: [Int]
        if inputs.count > 1, let shapeTensor = inputs[1], shapeTensor.rank == 1 {
            requested = try context.integers(shapeTensor, "the new shape")
        } else if let optionShape {
            requested = optionShape
        } else {
            requested = declared
        }
        let unknown = requested.indices.filter { requested[$0] == -1 }
        guard unknown.count <= 1, requested.allSatisfy({ $0 >= -1 }) else {
            throw context.invalid("the new shape \(requested) is not a shape")
        }
        if let axis = unknown.first {
            let known = requested.enumerated().filter { $0.offset != axis }.map(\.element)
            guard let product = elementCount(known), product > 0, x.count % product == 0 else {
                throw context.invalid("cannot reshape \(shapeText(x.shape)) to \(requested)")
            }
            requested[axis] = x.count / product
        }
        guard elementCount(requested) == x.count else { throw context.invalid("cannot reshape \(shapeText(x.shape)) to \(requested)") }
        return [try context.tensor(requested, x.values)]
    }
}

func squeezeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    let dimensions = try context.options("SqueezeOptions").ints(Field.SqueezeOptions.squeeze_dims) ?? []
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = Set(try dimensions.map { try context.axis($0, rank: x.rank, "squeeze dimension") })
        var shape: [Int] = []
        for (axis, size) in x.shape.enumerated() {
            if axes.isEmpty ? size == 1 : axes.contains(axis) {
                guard size == 1 else { throw context.invalid("cannot squeeze dimension \(axis) of size \(size)") }
            } else {
                shape.append(size)
            }
        }
        return [try context.tensor(shape, x.values)]
    }
}

func expandDimsKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = try integerInput(inputs, 1, context, "the axis")
        guard axes.count == 1 else { throw context.invalid("needs one axis, got \(axes)") }
        let axis = try context.axis(axes[0], rank: x.rank + 1)
        var shape = x.shape
        shape.insert(1, at: axis)
        return [try context.tensor(shape, x.values)]
    }
}

func transposeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let permutation = try integerInput(inputs, 1, context, "the permutation")
        guard permutation.count == x.rank, Set(permutation) == Set(0..<x.rank) else {
            throw context.invalid("\(permutation) is not a permutation of \(x.rank) axes")
        }
        return [try context.tensor(permutation.map { x.shape[$0] }, transposed(x, permutation).values)]
    }
}

// MARK: - slicing

func sliceKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 3...3)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let begin = try integerInput(inputs, 1, context, "begin"), size = try integerInput(inputs, 2, context, "size")
        guard begin.count == x.rank, size.count == x.rank else {
            throw context.invalid("begin \(begin) and size \(size) do not fit a rank-\(x.rank) input")
        }
        var lists: [[Int]] = []
        for axis in 0..<x.rank {
            let start = begin[axis], length = size[axis] == -1 ? x.shape[axis] - start : size[axis]
            guard start >= 0, length >= 0, start <= x.shape[axis], length <= x.shape[axis] - start else {
                throw context.invalid("begin \(begin) size \(size) leave the input's shape \(shapeText(x.shape))")
            }
            lists.append(Array(start..<(start + length)))
        }
        return [try context.tensor(lists.map(\.count), selectAlongAxes(x, lists))]
    }
}

func stridedSliceKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 4...4)
    let options = context.options("StridedSliceOptions")
    let beginMask = try options.int(Field.StridedSliceOptions.begin_mask)
    let endMask = try options.int(Field.StridedSliceOptions.end_mask)
    let ellipsisMask = try options.int(Field.StridedSliceOptions.ellipsis_mask)
    let newAxisMask = try options.int(Field.StridedSliceOptions.new_axis_mask)
    let shrinkMask = try options.int(Field.StridedSliceOptions.shrink_axis_mask)
    let offset = try options.bool(Field.StridedSliceOptions.offset)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let begin = try integerInput(inputs, 1, context, "begin")
        var end = try integerInput(inputs, 2, context, "end")
        let strides = try integerInput(inputs, 3, context, "strides")
        guard begin.count == end.count, end.count == strides.count, begin.count <= 32 else {
            throw context.invalid("begin, end and strides have \(begin.count), \(end.count) and \(strides.count) values")
        }
        if offset { end = zip(begin, end).map { $0 + $1 } }
        func bit(_ mask: Int, _ i: Int) -> Bool { i < 63 && (mask >> i) & 1 == 1 }
        // TensorFlow's BuildDenseSpec: expand the ellipsis (implicitly at the end when absent).
        var sparseCount = begin.count
        var ellipsis = ellipsisMask & ((1 << min(sparseCount, 62)) - 1)
        if ellipsis == 0 { ellipsis = 1 << sparseCount; sparseCount += 1 }
        let firstEllipsis = (0..<sparseCount).first { bit(ellipsis, $0) }!
        let newAxesAfterEllipsis = ((firstEllipsis + 1)..<sparseCount).filter { $0 < begin.count && bit(newAxisMask, $0) }.count
        struct DenseAxis { var begin = 0, end = 0, stride = 1, beginMasked = false, endMasked = false, shrink = false }
        var dense = [DenseAxis](repeating: DenseAxis(), count: x.rank)
        enum Gather { case axis(Int), newAxis }
        var finalShape: [Gather] = []
        var full = 0
        for i in 0..<sparseCount {
            if bit(ellipsis, i) {
                let next = min(x.rank - (sparseCount - i) + 1 + newAxesAfterEllipsis, x.rank)
                while full < next {
                    dense[full] = DenseAxis(beginMasked: true, endMasked: true)
                    finalShape.append(.axis(full))
                    full += 1
                }
            } else if bit(newAxisMask, i) {
                finalShape.append(.newAxis)
            } else {
                guard full < x.rank else { throw context.invalid("indexes more axes than the input's \(x.rank)") }
                dense[full] = DenseAxis(begin: begin[i], end: end[i], stride: strides[i], beginMasked: bit(beginMask, i),
                                        endMasked: bit(endMask, i), shrink: bit(shrinkMask, i))
                if !dense[full].shrink { finalShape.append(.axis(full)) }
                full += 1
            }
        }
        var lists: [[Int]] = []
        for (axis, spec) in dense.enumerated() {
            let size = x.shape[axis]
            guard spec.stride != 0 else { throw context.invalid("stride 0 on axis \(axis)") }
            if spec.shrink {
                let index = spec.begin < 0 ? spec.begin + size : spec.begin
                guard index >= 0, index < size else { throw context.invalid("index \(spec.begin) is outside axis \(axis) of size \(size)") }
                lists.append([index])
                continue
            }
            let range = spec.stride > 0 ? (0, size) : (-1, size - 1)
            func canonical(_ value: Int, masked: Bool, isEnd: Bool) -> Int {
                if masked { return (spec.stride > 0) != isEnd ? range.0 : range.1 }
                let forward = value < 0 ? size + value : value
                return min(max(forward, range.0), range.1)
            }
            let start = canonical(spec.begin, masked: spec.beginMasked, isEnd: false)
            let stop = canonical(spec.end, masked: spec.endMasked, isEnd: true)
            var list: [Int] = []
            var index = start
            while spec.stride > 0 ? index < stop : index > stop {
                list.append(index)
                index += spec.stride
            }
            lists.append(list)
        }
        let shape = finalShape.map { gather -> Int in
            if case .axis(let axis) = gather { return lists[axis].count }
            return 1
        }
        _ = try context.count(lists.map(\.count))
        return [try context.tensor(shape, selectAlongAxes(x, lists))]
    }
}

func tileKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let multiples = try integerInput(inputs, 1, context, "the multiples")
        guard multiples.count == x.rank, multiples.allSatisfy({ $0 >= 0 }) else {
            throw context.invalid("multiples \(multiples) do not fit a rank-\(x.rank) input")
        }
        let shape = zip(x.shape, multiples).map { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 }
        _ = try context.count(shape)
        let lists = x.shape.enumerated().map { axis, size in (0..<shape[axis]).map { $0 % max(size, 1) } }
        return [try context.tensor(shape, selectAlongAxes(x, lists))]
    }
}

func broadcastToKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let target = try integerInput(inputs, 1, context, "the shape")
        guard target.count >= x.rank, broadcastShape(x.shape, target) == target else {
            throw context.invalid("cannot broadcast \(shapeText(x.shape)) to \(target)")
        }
        _ = try context.count(target)
        let aligned = Array(repeating: 1, count: target.count - x.rank) + x.shape
        let lists = target.enumerated().map { axis, size in (0..<size).map { aligned[axis] == 1 ? 0 : $0 } }
        let expanded = try context.tensor(aligned, x.values)
        return [try context.tensor(target, selectAlongAxes(expanded, lists))]
    }
}

// MARK: - joining and splitting

/// Concatenates tensors that agree on every axis but `axis`.
func concatenate(_ parts: [TensorValue], axis: Int, _ context: OperatorContext) throws -> TensorValue {
    guard let first = parts.first, first.rank > axis else { throw context.invalid("has no inputs of rank above \(axis)") }
    for part in parts where part.rank != first.rank || (0..<first.rank).contains(where: { $0 != axis && part.shape[$0] != first.shape[$0] }) {
        throw context.invalid("cannot concatenate \(shapeText(first.shape)) and \(shapeText(part.shape)) along axis \(axis)")
    }
    var shape = first.shape
    shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    _ = try context.count(shape)
    return try context.tensor(shape, concatenated(parts, axis: axis, shape: shape))
}

func concatenationKernel(_ context: OperatorContext) throws -> Kernel {
    guard !context.info.inputs.isEmpty else { throw context.invalid("has no inputs") }
    try context.expect(inputs: 1...Int.max, required: context.info.inputs.count)
    let options = context.options("ConcatenationOptions")
    let axis = try options.int(Field.ConcatenationOptions.axis)
    let activation = try options.activation(Field.ConcatenationOptions.fused_activation_function)
    return Kernel { inputs, _ in
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw context.invalid("has no inputs") }
        var result = try concatenate(parts, axis: try context.axis(axis, rank: first.rank), context)
        if case .none = activation { return [result] }
        var values = result.values
        activation.apply(&values)
        result = try context.tensor(result.shape, values)
        return [result]
    }
}

func packKernel(_ context: OperatorContext) throws -> Kernel {
    guard !context.info.inputs.isEmpty else { throw context.invalid("has no inputs") }
    try context.expect(inputs: 1...Int.max, required: context.info.inputs.count)
    let options = context.options("PackOptions")
    let count = try options.int(Field.PackOptions.values_count)
    let axis = try options.int(Field.PackOptions.axis)
    guard count == context.info.inputs.count else { throw context.invalid("values_count \(count) but \(context.info.inputs.count) inputs") }
    return Kernel { inputs, _ in
        let parts = inputs.compactMap { $0 }
        guard let rank = parts.first?.rank else { throw context.invalid("has no inputs") }
        let normalized = try context.axis(axis, rank: rank + 1)
        let expanded = try parts.map { part -> TensorValue in
            guard part.shape == parts[0].shape else { throw context.invalid("cannot pack \(shapeText(parts[0].shape)) and \(shapeText(part.shape))") }
            var shape = part.shape
            shape.insert(1, at: normalized)
            return try context.tensor(shape, part.values)
        }
        return [try concatenate(expanded, axis: normalized, context)]
    }
}

/// Splits x along `axis` into pieces of `sizes`.
func split(_ x: TensorValue, axis: Int, sizes: [Int], _ context: OperatorContext) throws -> [TensorValue] {
    var start = 0
    return try sizes.map { size in
        let lists = x.shape.enumerated().map { index, length in index == axis ? Array(start..<(start + size)) : Array(0..<length) }
        start += size
        return try context.tensor(lists.map(\.count), selectAlongAxes(x, lists))
    }
}

func unpackKernel(_ context: OperatorContext) throws -> Kernel {
    let options = context.options("UnpackOptions")
    let number = try options.int(Field.UnpackOptions.num)
    let axis = try options.int(Field.UnpackOptions.axis)
    try context.expect(inputs: 1...1, outputs: context.info.outputs.count)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let normalized = try context.axis(axis, rank: x.rank)
        guard x.shape[normalized] == context.info.outputs.count, number == 0 || number == x.shape[normalized] else {
            throw context.invalid("cannot unpack axis \(normalized) of \(shapeText(x.shape)) into \(context.info.outputs.count) outputs")
        }
        var shape = x.shape
        shape.remove(at: normalized)
        return try split(x, axis: normalized, sizes: Array(repeating: 1, count: x.shape[normalized]), context).map {
            try context.tensor(shape, $0.values)
        }
    }
}

func splitKernel(_ context: OperatorContext) throws -> Kernel {
    let pieces = try context.options("SplitOptions").int(Field.SplitOptions.num_splits)
    try context.expect(inputs: 2...2, outputs: context.info.outputs.count)
    guard pieces == context.info.outputs.count, pieces >= 1 else { throw context.invalid("num_splits \(pieces) for \(context.info.outputs.count) outputs") }
    return Kernel { inputs, _ in
        let axes = try integerInput(inputs, 0, context, "the axis")
        let x = value(inputs, 1)
        guard axes.count == 1 else { throw context.invalid("needs one axis, got \(axes)") }
        let axis = try context.axis(axes[0], rank: x.rank)
        guard x.shape[axis] % pieces == 0 else { throw context.invalid("axis \(axis) of \(shapeText(x.shape)) does not split into \(pieces)") }
        return try split(x, axis: axis, sizes: Array(repeating: x.shape[axis] / pieces, count: pieces), context)
    }
}

func splitVKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 3...3, outputs: context.info.outputs.count)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        var sizes = try integerInput(inputs, 1, context, "the sizes")
        let axes = try integerInput(inputs, 2, context, "the axis")
        guard axes.count == 1 else { throw context.invalid("needs one axis, got \(axes)") }
        let axis = try context.axis(axes[0], rank: x.rank)
        let unknown = sizes.indices.filter { sizes[$0] == -1 }
        guard unknown.count <= 1, sizes.allSatisfy({ $0 >= -1 }), sizes.count == context.info.outputs.count else {
            throw context.invalid("sizes \(sizes) for \(context.info.outputs.count) outputs")
        }
        let known = sizes.filter { $0 >= 0 }.reduce(0, +)
        if let index = unknown.first { sizes[index] = x.shape[axis] - known }
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x.shape[axis] else {
            throw context.invalid("sizes \(sizes) do not add up to axis \(axis) of \(shapeText(x.shape))")
        }
        return try split(x, axis: axis, sizes: sizes, context)
    }
}

// MARK: - padding

func padKernel(_ context: OperatorContext, withValue: Bool) throws -> Kernel {
    try context.expect(inputs: withValue ? 2...3 : 2...2, required: 2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let paddings = try integerInput(inputs, 1, context, "the paddings")
        guard paddings.count == 2 * x.rank, paddings.allSatisfy({ $0 >= 0 && $0 <= 1 << 30 }) else {
            throw context.invalid("paddings \(paddings) do not fit a rank-\(x.rank) input")
        }
        var fill: Float = 0
        if withValue, inputs.count > 2, let constant = inputs[2] {
            guard constant.count == 1 else { throw context.invalid("the pad value has \(constant.count) elements") }
            fill = constant.values[0]
        }
        let shape = x.shape.enumerated().map { $1 + paddings[2 * $0] + paddings[2 * $0 + 1] }
        _ = try context.count(shape)
        let lists = x.shape.enumerated().map { axis, size in
            (0..<shape[axis]).map { $0 - paddings[2 * axis] < 0 || $0 - paddings[2 * axis] >= size ? -1 : $0 - paddings[2 * axis] }
        }
        return [try context.tensor(shape, selectAlongAxes(x, lists, fill: fill))]
    }
}

func mirrorPadKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    let mode = try context.options("MirrorPadOptions").byte(ExtraFields.MirrorPadOptions.mode)
    guard mode == 0 || mode == 1 else { throw context.unsupported("mirror pad mode \(mode)") }
    let symmetric = mode == 1
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let paddings = try integerInput(inputs, 1, context, "the paddings")
        guard paddings.count == 2 * x.rank else { throw context.invalid("paddings \(paddings) do not fit a rank-\(x.rank) input") }
        var lists: [[Int]] = []
        for (axis, size) in x.shape.enumerated() {
            let before = paddings[2 * axis], after = paddings[2 * axis + 1], limit = symmetric ? size : size - 1
            guard before >= 0, after >= 0, before <= limit, after <= limit else {
                throw context.invalid("paddings \(before), \(after) exceed axis \(axis) of size \(size)")
            }
            lists.append((-before..<(size + after)).map { i in
                if i < 0 { return symmetric ? -i - 1 : -i }
                if i >= size { return symmetric ? 2 * size - 1 - i : 2 * (size - 1) - i }
                return i
            })
        }
        _ = try context.count(lists.map(\.count))
        return [try context.tensor(lists.map(\.count), selectAlongAxes(x, lists))]
    }
}

// MARK: - shapes and constants

func shapeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    try context.expectTypes(["integer"], inputs: [])
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        return [try context.tensor([x.rank], x.shape.map(Float.init))]
    }
}

func rankKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    return Kernel { inputs, _ in [try context.tensor([], [Float(value(inputs, 0).rank)])] }
}

func fillKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let shape = try integerInput(inputs, 0, context, "the shape")
        let filler = value(inputs, 1)
        guard filler.count == 1 else { throw context.invalid("the fill value has \(filler.count) elements") }
        return [try context.tensor(shape, [Float](repeating: filler.values[0], count: try context.count(shape)))]
    }
}

func zerosLikeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 1...1)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        return [try context.tensor(x.shape, [Float](repeating: 0, count: x.count))]
    }
}

func rangeKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 3...3)
    return Kernel { inputs, _ in
        let scalars = try (0..<3).map { i -> Float in
            let tensor = value(inputs, i)
            guard tensor.count == 1 else { throw context.invalid("input \(i) is not a scalar") }
            return tensor.values[0]
        }
        let (start, limit, delta) = (scalars[0], scalars[1], scalars[2])
        guard delta != 0, delta.isFinite, start.isFinite, limit.isFinite, (limit - start) / delta >= 0 || start == limit else {
            throw context.invalid("range(\(start), \(limit), \(delta)) is empty or unbounded")
        }
        let length = Double(((limit - start) / delta).rounded(.up))
        guard length < Double(context.options.maximumTensorElements) else { throw context.invalid("range(\(start), \(limit), \(delta)) is too long") }
        let count = max(Int(length), 0)
        return [try context.tensor([count], (0..<count).map { start + Float($0) * delta })]
    }
}

// MARK: - gathering and rearranging

func gatherKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    let options = context.options("GatherOptions")
    let axisOption = try options.int(ExtraFields.GatherOptions.axis)
    let batchDimensions = try options.int(ExtraFields.GatherOptions.batch_dims)
    return Kernel { inputs, _ in
        let parameters = value(inputs, 0)
        let indices = try integerInput(inputs, 1, context, "the indices")
        let indexShape = value(inputs, 1).shape
        let axis = try context.axis(axisOption, rank: parameters.rank)
        let batchDims = batchDimensions < 0 ? batchDimensions + indexShape.count : batchDimensions
        guard batchDims >= 0, batchDims <= axis, batchDims <= indexShape.count,
              Array(parameters.shape.prefix(batchDims)) == Array(indexShape.prefix(batchDims)) else {
            throw context.invalid("batch_dims \(batchDimensions) does not fit \(shapeText(parameters.shape)) and indices \(shapeText(indexShape))")
        }
        let batch = parameters.shape.prefix(batchDims).reduce(1, *)
        let outer = parameters.shape[batchDims..<axis].reduce(1, *)
        let axisSize = parameters.shape[axis], inner = parameters.shape[(axis + 1)...].reduce(1, *)
        let perBatch = indexShape[batchDims...].reduce(1, *)
        let shape = Array(parameters.shape[..<axis]) + Array(indexShape[batchDims...]) + Array(parameters.shape[(axis + 1)...])
        let count = try context.count(shape)
        if let bad = indices.first(where: { $0 < 0 || $0 >= axisSize }) {
            throw context.invalid("index \(bad) is outside axis \(axis) of size \(axisSize)")
        }
        var output: [Float] = []
        output.reserveCapacity(count)
        for b in 0..<batch {
            for o in 0..<outer {
                for k in 0..<perBatch {
                    let start = ((b * outer + o) * axisSize + indices[b * perBatch + k]) * inner
                    output += parameters.values[start..<(start + inner)]
                }
            }
        }
        return [try context.tensor(shape, output)]
    }
}

/// DEPTH_TO_SPACE (toDepth false) and SPACE_TO_DEPTH (true) on NHWC tensors.
func depthSpaceKernel(_ context: OperatorContext, toDepth: Bool) throws -> Kernel {
    try context.expect(inputs: 1...1)
    let block = toDepth ? try context.options("SpaceToDepthOptions").int(ExtraFields.SpaceToDepthOptions.block_size)
                        : try context.options("DepthToSpaceOptions").int(ExtraFields.DepthToSpaceOptions.block_size)
    guard block >= 1, block <= 1 << 10 else { throw context.invalid("block size \(block)") }
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        guard x.rank == 4 else { throw context.invalid("the input of shape \(shapeText(x.shape)) is not N×H×W×C") }
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        if toDepth {
            guard h % block == 0, w % block == 0 else { throw context.invalid("\(h)×\(w) is not divisible by the block size \(block)") }
            // [n, h/b, b, w/b, b, c] → [n, h/b, w/b, b, b, c]
            let split = try context.tensor([n, h / block, block, w / block, block, c], x.values)
            return [try context.tensor([n, h / block, w / block, block * block * c], transposed(split, [0, 1, 3, 2, 4, 5]).values)]
        }
        guard c % (block * block) == 0 else { throw context.invalid("\(c) channels are not divisible by \(block * block)") }
        // [n, h, w, b, b, c'] → [n, h, b, w, b, c']
        let split = try context.tensor([n, h, w, block, block, c / (block * block)], x.values)
        return [try context.tensor([n, h * block, w * block, c / (block * block)], transposed(split, [0, 1, 3, 2, 4, 5]).values)]
    }
}

func reverseKernel(_ context: OperatorContext) throws -> Kernel {
    try context.expect(inputs: 2...2)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        let axes = Set(try integerInput(inputs, 1, context, "the axes").map { try context.axis($0, rank: x.rank) })
        let lists = x.shape.enumerated().map { axis, size in axes.contains(axis) ? Array((0..<size).reversed()) : Array(0..<size) }
        return [try context.tensor(x.shape, selectAlongAxes(x, lists))]
    }
}
