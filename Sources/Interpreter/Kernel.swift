import GraphIR
import Kernels

/// One op, prepared to run: attributes parsed and checked, constants loaded (and repacked where
/// a kernel wants another layout) once, when the interpreter is built.
struct Kernel {
    /// Computes the op's output from the values of all its inputs (constants included), in op
    /// order. A kernel may `take` an input to reuse its storage for the output: the interpreter
    /// has dropped its own reference when this op is the value's last reader, so that is free.
    var run: (_ inputs: inout [TensorValue], _ workspace: Workspace) throws -> TensorValue
    /// True when `run` applies the op's `fused_activation` itself (the convolution epilogue);
    /// otherwise the interpreter applies it to the output.
    var appliesFusedActivation = false
}

extension Array where Element == TensorValue {
    /// Moves element `index` out, leaving an empty tensor: the caller can then mutate it in place
    /// (copy-on-write copies only when someone else still holds the values).
    mutating func take(_ index: Int) -> TensorValue {
        let value = self[index]
        self[index] = TensorValue(unchecked: [0], [])
        return value
    }
}

/// What a kernel builder sees: the op, typed attribute accessors whose errors name the op, and
/// the values of constant inputs.
struct KernelContext {
    let op: Op
    let constantValue: (Tensor) throws -> TensorValue

    var name: String { op.name }

    func unsupported(_ detail: String) -> InterpreterError {
        .unsupported(op: op.name, kind: op.kind.rawValue, detail: detail)
    }

    func invalid(_ detail: String) -> InterpreterError {
        .invalidOp(op: op.name, kind: op.kind.rawValue, detail: detail)
    }

    /// Rejects attributes the kernel does not know, so a new attribute (a future pass, another
    /// frontend) fails loudly instead of being ignored. `fused_activation` is always understood.
    func expectAttributes(_ known: Set<String>) throws {
        for name in op.attributes.sortedNames where !known.contains(name) && name != fusedActivationAttribute {
            throw unsupported("attribute '\(name)' = \(op.attributes[name]!) is not understood")
        }
    }

    func ints(_ name: String, count: Int? = nil) throws -> [Int] {
        guard let value = op.attributes[name] else { throw invalid("missing attribute '\(name)'") }
        guard case .ints(let values) = value else { throw invalid("attribute '\(name)' = \(value) is not a list of integers") }
        if let count, values.count != count { throw invalid("attribute '\(name)' = \(value) needs \(count) values") }
        return values
    }

    func optionalInts(_ name: String, count: Int) throws -> [Int]? {
        op.attributes[name] == nil ? nil : try ints(name, count: count)
    }

    func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        guard let value = op.attributes[name] else {
            if let fallback { return fallback }
            throw invalid("missing attribute '\(name)'")
        }
        guard case .int(let int) = value else { throw invalid("attribute '\(name)' = \(value) is not an integer") }
        return int
    }

    func string(_ name: String) throws -> String {
        guard let value = op.attributes[name] else { throw invalid("missing attribute '\(name)'") }
        guard case .string(let string) = value else { throw invalid("attribute '\(name)' = \(value) is not a string") }
        return string
    }

    func float(_ name: String, default fallback: Float? = nil) throws -> Float {
        switch op.attributes[name] {
        case .float(let value)?: return value
        case .int(let value)?: return Float(value)
        case nil:
            if let fallback { return fallback }
            throw invalid("missing attribute '\(name)'")
        case let value?: throw invalid("attribute '\(name)' = \(value) is not a number")
        }
    }

    func optionalFloat(_ name: String) throws -> Float? {
        op.attributes[name] == nil ? nil : try float(name)
    }

    func floats(_ name: String) throws -> [Float] {
        switch op.attributes[name] {
        case .floats(let values)?: return values
        case .float(let value)?: return [value]
        case nil: throw invalid("missing attribute '\(name)'")
        case let value?: throw invalid("attribute '\(name)' = \(value) is not a list of numbers")
        }
    }

    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        switch op.attributes[name] {
        case .bool(let value)?: return value
        case nil: return fallback
        case let value?: throw invalid("attribute '\(name)' = \(value) is not a boolean")
        }
    }

    /// The element count of an output shape computed from attributes, checked for overflow.
    func elementCount(_ shape: [Int]) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }), let count = checkedCount(shape) else {
            throw invalid("output shape \(shapeText(shape)) is not a valid tensor shape")
        }
        return count
    }

    /// The values of input `index`, which must be a constant (weights).
    func constant(_ index: Int) throws -> TensorValue {
        guard index < op.inputs.count else { throw invalid("missing input \(index)") }
        let tensor = op.inputs[index]
        guard tensor.isConstant else {
            throw unsupported("input \(index) ('\(tensor.name)') must be a constant; computed weights are not supported")
        }
        return try constantValue(tensor)
    }

    /// The optional bias (input 2), checked to hold `channels` values.
    func bias(channels: Int) throws -> [Float]? {
        guard op.inputs.count > 2 else { return nil }
        let bias = try constant(2)
        guard bias.count == channels else { throw invalid("bias has \(bias.count) values for \(channels) channels") }
        return bias.values
    }

    /// The op's `fused_activation`, if any.
    func fusedActivation() throws -> ActivationFunction? {
        guard let value = op.attributes[fusedActivationAttribute] else { return nil }
        guard case .string(let name) = value, let function = ActivationFunction(rawValue: name) else {
            throw unsupported("fused activation \(value)")
        }
        return function
    }
}

/// The attribute fuse-activation leaves on the op it merged an activation into.
let fusedActivationAttribute = "fused_activation"

/// IR op kind → kernel builder. Every `OpKind` has a row; the builders live in `Kernels+*.swift`.
enum KernelTable {
    typealias Builder = @Sendable (KernelContext) throws -> Kernel

    static func kernel(for op: Op, constantValue: @escaping (Tensor) throws -> TensorValue) throws -> Kernel {
        let context = KernelContext(op: op, constantValue: constantValue)
        guard let builder = table[op.kind] else { throw context.unsupported("no kernel for this op kind") }
        return try builder(context)
    }

    static let table: [OpKind: Builder] = [
        .conv1d: { try convolutionKernel($0, spatialRank: 1) },
        .conv2d: { try convolutionKernel($0, spatialRank: 2) },
        .depthwiseConv2d: depthwiseKernel,
        .transposeConv2d: transposeConvolutionKernel,
        .fullyConnected: fullyConnectedKernel,
        .batchNorm: batchNormKernel,
        .layerNorm: layerNormKernel,
        .activation: activationKernel,
        .relu: reluKernel,
        .leakyRelu: leakyReluKernel,
        .prelu: preluKernel,
        .elu: eluKernel,
        .softmax: softmaxKernel,
        .maxPool1d: { try poolKernel($0, spatialRank: 1, isMax: true) },
        .maxPool2d: { try poolKernel($0, spatialRank: 2, isMax: true) },
        .avgPool1d: { try poolKernel($0, spatialRank: 1, isMax: false) },
        .avgPool2d: { try poolKernel($0, spatialRank: 2, isMax: false) },
        .globalAvgPool: { try globalPoolKernel($0, isMax: false) },
        .globalMaxPool: { try globalPoolKernel($0, isMax: true) },
        .reshape: reshapeKernel,
        .transpose: transposeKernel,
        .repeatVector: repeatVectorKernel,
        .pad: padKernel,
        .slice: sliceKernel,
        .resize: resizeKernel,
        .add: { try elementwiseKernel($0, .add) },
        .subtract: { try elementwiseKernel($0, .subtract) },
        .multiply: { try elementwiseKernel($0, .multiply) },
        .maximum: { try elementwiseKernel($0, .maximum) },
        .minimum: { try elementwiseKernel($0, .minimum) },
        .average: averageKernel,
        .concatenate: concatenateKernel,
        .identity: identityKernel,
        .rescale: rescaleKernel,
        .normalize: normalizeKernel,
    ]
}
