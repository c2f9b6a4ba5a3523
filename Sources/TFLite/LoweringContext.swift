import FlatBuffers
import GraphIR

/// State while lowering one graph into a `TFLiteModel`: the IR tensor → TFLite tensor map and
/// helpers that add tensors, constants and operators. Lowering functions (see `LoweringTable`)
/// only talk to this.
final class LoweringContext {
    let model = TFLiteModel()
    let graph: Graph
    private var tensorIndex: [ObjectIdentifier: Int32] = [:]
    private var usedNames = Set<String>()
    /// Re-laid-out constants already written, so a shared layer's kernel is stored once.
    private var permutedIndex: [PermutedKey: Int32] = [:]
    private struct PermutedKey: Hashable {
        var tensor: ObjectIdentifier; var shape, permutation: [Int]; var outputShape: [Int]?; var block: Int? = nil; var rows: Range<Int>? = nil
    }
    /// Integer constants already written (shapes, axes, slice bounds), shared by value.
    private var int32Index: [Int32Key: Int32] = [:]
    private struct Int32Key: Hashable { var values: [Int32]; var shape: [Int] }
    private(set) var opsUsed: [BuiltinOperator] = []
    /// The Keras layers of the IR op being lowered, recorded on every operator it emits.
    var currentLayers: [String] = []

    init(graph: Graph) {
        self.graph = graph
    }

    private func uniqueName(_ base: String) -> String {
        var name = base, index = 1
        while usedNames.contains(name) { name = "\(base)_\(index)"; index += 1 }
        usedNames.insert(name)
        return name
    }

    static func tfliteShape(_ shape: Shape) -> (shape: [Int32], signature: [Int32]?) {
        let fixed = shape.map { Int32($0 ?? 1) }
        return shape.contains(where: { $0 == nil }) ? (fixed, shape.map { Int32($0 ?? -1) }) : (fixed, nil)
    }

    /// A new activation tensor (no buffer).
    func tensor(_ name: String, shape: Shape, type: TensorType = .FLOAT32) -> Int32 {
        let (fixed, signature) = Self.tfliteShape(shape)
        model.tensors.append(.init(name: uniqueName(name), shape: fixed, shapeSignature: signature, type: type, buffer: 0))
        return Int32(model.tensors.count - 1)
    }

    /// A constant tensor whose bytes are produced when the file is written.
    func constant(_ name: String, shape: [Int], type: TensorType, byteCount: Int,
                  contents: @escaping () throws -> TFLiteModel.Contents) -> Int32 {
        model.buffers.append(.init(byteCount: byteCount, contents: contents))
        model.tensors.append(.init(name: uniqueName(name), shape: shape.map(Int32.init), shapeSignature: nil, type: type,
                                   buffer: UInt32(model.buffers.count - 1)))
        return Int32(model.tensors.count - 1)
    }

    func constantFloats(_ name: String, shape: [Int], _ values: @escaping () throws -> [Float]) -> Int32 {
        constant(name, shape: shape, type: .FLOAT32, byteCount: shape.reduce(1, *) * 4) { .floats(try values()) }
    }

    func constantFloats(_ name: String, _ values: [Float], shape: [Int]? = nil) -> Int32 {
        constantFloats(name, shape: shape ?? [values.count]) { values }
    }

    /// An IR constant in a new layout: axis i of the result is axis `permutation[i]` of `shape`;
    /// `outputShape` overrides the resulting shape (same element order, e.g. an added unit axis).
    func constantPermuted(_ ir: Tensor, shape: [Int], _ permutation: [Int], as outputShape: [Int]? = nil) -> Int32 {
        let data = ir.constant!
        let key = PermutedKey(tensor: ObjectIdentifier(ir), shape: shape, permutation: permutation, outputShape: outputShape)
        if let index = permutedIndex[key] { return index }
        let index = constant(ir.name, shape: outputShape ?? permutation.map { shape[$0] }, type: .FLOAT32, byteCount: data.count * 4) {
            .permuted(try data.valuesWithoutCaching(), shape: shape, permutation: permutation)
        }
        permutedIndex[key] = index
        return index
    }

    /// Block `block` of an IR constant in a new layout, cut along the first axis of the permuted
    /// shape into blocks of `blockShape` — e.g. one gate's [U, F] weights of an LSTM kernel [F, 4U]
    /// seen as [F, 4, U] and permuted by [1, 2, 0]. Each block is stored once per constant.
    func constantBlock(_ ir: Tensor, shape: [Int], _ permutation: [Int], block: Int, blockShape: [Int], name: String) -> Int32 {
        let data = ir.constant!
        let key = PermutedKey(tensor: ObjectIdentifier(ir), shape: shape, permutation: permutation, outputShape: blockShape, block: block)
        if let index = permutedIndex[key] { return index }
        let count = blockShape.reduce(1, *)
        let index = constantFloats(name, shape: blockShape) {
            Array(permute(try data.valuesWithoutCaching(), shape: shape, permutation)[(block * count)..<((block + 1) * count)])
        }
        permutedIndex[key] = index
        return index
    }

    /// Rows `rows` of a 2-D IR constant transposed (its columns become rows): one gate block of a
    /// recurrent kernel [I, G·U] as TFLite's [rows, I]. Stored once per constant and range.
    func constantTransposedRows(_ ir: Tensor, _ rows: Range<Int>, name: String) -> Int32 {
        let data = ir.constant!
        let shape = ir.shape.map { $0 ?? 1 }
        guard rows != 0..<shape[1] else { return constantPermuted(ir, shape: shape, [1, 0]) }
        let key = PermutedKey(tensor: ObjectIdentifier(ir), shape: shape, permutation: [1, 0], outputShape: nil, rows: rows)
        if let index = permutedIndex[key] { return index }
        let index = constantFloats(name, shape: [rows.count, shape[0]]) {
            Array(permute(try data.valuesWithoutCaching(), shape: shape, [1, 0])[(rows.lowerBound * shape[0])..<(rows.upperBound * shape[0])])
        }
        permutedIndex[key] = index
        return index
    }

    /// An int32 constant; one tensor per distinct value and shape (the first name is kept).
    func constantInt32(_ name: String, _ values: [Int32], shape: [Int]? = nil) -> Int32 {
        let key = Int32Key(values: values, shape: shape ?? [values.count])
        if let index = int32Index[key] { return index }
        let index = constant(name, shape: key.shape, type: .INT32, byteCount: values.count * 4) { .int32s(values) }
        int32Index[key] = index
        return index
    }

    /// The TFLite tensor of an IR tensor: graph inputs and op outputs are created on first use,
    /// IR constants are written as they are (ops whose weights need a new layout use `constantFloats`).
    func tensor(for ir: Tensor) -> Int32 {
        if let index = tensorIndex[ObjectIdentifier(ir)] { return index }
        let index: Int32
        if let data = ir.constant {
            let shape = ir.shape.map { $0 ?? 1 }
            index = constantFloats(ir.name, shape: shape) { try data.valuesWithoutCaching() }
        } else {
            index = tensor(ir.name, shape: ir.shape, type: Self.tensorType(ir.dtype))
        }
        tensorIndex[ObjectIdentifier(ir)] = index
        return index
    }

    /// Whether the graph reads `tensor` (an op input or a model output).
    func isUsed(_ tensor: Tensor) -> Bool {
        graph.outputs.contains { $0 === tensor } || !graph.consumers(of: tensor).isEmpty
    }

    /// `value` into the TFLite tensor of `tensor`, reshaped to its shape (one RESHAPE).
    func copy(_ value: Int32, to tensor: Tensor) throws {
        try reshape(value, to: tensor.shape, output: self.tensor(for: tensor), name: tensor.name, in: self)
    }

    /// Appends an operator.
    func emit(_ code: BuiltinOperator, _ inputs: [Int32], _ outputs: [Int32], version: Int32 = 1,
              options: BuiltinOptions = .NONE,
              _ build: ((inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset)? = nil) {
        opsUsed.append(code)
        model.operators.append(.init(opcodeIndex: model.opcodeIndex(code, version: version), inputs: inputs, outputs: outputs,
                                     optionsType: options, options: build, layers: currentLayers))
    }

    /// Appends an operator writing a new intermediate tensor and returns that tensor.
    func emitTemporary(_ code: BuiltinOperator, _ inputs: [Int32], name: String, shape: Shape,
                       options: BuiltinOptions = .NONE,
                       _ build: ((inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset)? = nil) -> Int32 {
        let output = tensor(name, shape: shape)
        emit(code, inputs, [output], options: options, build)
        return output
    }
}

/// Options tables, written with the schema's field ids.
enum Options {
    static func table(_ fields: @escaping (inout FlatBufferBuilder) throws -> Void) -> (inout FlatBufferBuilder) throws -> FlatBufferBuilder.Offset {
        { builder in
            builder.startTable()
            try fields(&builder)
            return try builder.endTable()
        }
    }

    static func padding(_ value: String) -> Padding { value == "same" ? .SAME : .VALID }

    static func activation(_ op: Op) -> ActivationFunctionType {
        switch op.attributes[.fusedActivation] {
        case .relu?: return .RELU
        case .relu6?: return .RELU6
        default: return .NONE
        }
    }
}
