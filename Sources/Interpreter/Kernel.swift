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
    /// Set for ops with several outputs (the recurrent ops): computes all of them, in op order; `run` is unused.
    var runOutputs: ((_ inputs: inout [TensorValue], _ workspace: Workspace) throws -> [TensorValue])? = nil

    /// A kernel for an op with several outputs.
    static func outputs(_ body: @escaping (_ inputs: inout [TensorValue], _ workspace: Workspace) throws -> [TensorValue]) -> Kernel {
        Kernel(run: { inputs, workspace in try body(&inputs, workspace)[0] }, runOutputs: body)
    }
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

extension Op {
    /// How the interpreter's errors name an op: `'conv' (conv2d)`.
    var errorLocation: String { "'\(name)' (\(kind.rawValue))" }
}

/// What a kernel builder sees: the op, typed attribute accessors whose errors name the op, and
/// the values of constant inputs.
struct KernelContext {
    let op: Op
    let constantValue: (Tensor) throws -> TensorValue

    var name: String { op.name }

    func unsupported(_ detail: String) -> ExecutionError { .unsupported(.interpreter, at: op.errorLocation, detail) }

    func invalid(_ detail: String) -> ExecutionError { .invalidOperator(.interpreter, at: op.errorLocation, detail) }

    /// The attribute's value, or its schema default; a missing or mistyped one is an invalid op.
    func attribute<Value>(_ key: AttributeKey<Value>) throws -> Value {
        do { return try op.attribute(key) } catch let error as GraphError { throw invalid("\(error)") }
    }

    /// A list attribute that must hold `count` values (one per spatial axis).
    func attribute<Element>(_ key: AttributeKey<[Element]>, count: Int) throws -> [Element] {
        let values = try attribute(key)
        guard values.count == count else { throw invalid("attribute '\(key.name)' = \(values) needs \(count) values") }
        return values
    }

    /// An optional attribute without a default: nil when absent.
    func optionalAttribute<Value>(_ key: AttributeKey<Value>) throws -> Value? {
        op.attributes[key.name] == nil ? nil : try attribute(key)
    }

    func optionalAttribute<Element>(_ key: AttributeKey<[Element]>, count: Int) throws -> [Element]? {
        op.attributes[key.name] == nil ? nil : try attribute(key, count: count)
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
    func fusedActivation() throws -> ActivationFunction? { try optionalAttribute(.fusedActivation) }
}

/// IR op kind → kernel builder. Every `OpKind` has a row; the builders live in `Kernels+*.swift`.
enum KernelTable {
    typealias Builder = @Sendable (KernelContext) throws -> Kernel

    static func kernel(for op: Op, constantValue: @escaping (Tensor) throws -> TensorValue) throws -> Kernel {
        let context = KernelContext(op: op, constantValue: constantValue)
        guard let builder = table[op.kind] else { throw context.unsupported("no kernel for this op kind") }
        // Attributes the op kind does not declare fail loudly instead of being ignored.
        if let problem = OpSchema.of(op.kind).attributeProblems(of: op).first { throw context.unsupported(problem) }
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
        .batchMatmul: batchMatmulKernel,
        .l2Normalize: l2NormalizeKernel,
        .conv3d: convolution3DKernel,
        .transposeConv3d: transposeConvolution3DKernel,
        .maxPool3d: { try pool3DKernel($0, isMax: true) },
        .avgPool3d: { try pool3DKernel($0, isMax: false) },
        .upsample3d: upsample3DKernel,
        .simpleRnn: recurrentKernel, .gru: recurrentKernel, .lstm: recurrentKernel,
        .gather: gatherKernel, .cast: castKernel, .reverse: reverseKernel, .sequenceMask: sequenceMaskKernel,
        .convLstm2d: convLSTMKernel,
    ]
}
