import FlatBuffers
import Foundation
import Kernels
import TFLite

/// One operator, prepared to run: its options read and checked, constant inputs repacked where a
/// kernel wants another layout, once, when the executor is built.
struct Kernel {
    /// Computes the operator's outputs (in the operator's output order) from the values of its
    /// inputs, in the operator's input order; absent optional inputs (-1) are nil. Values are real
    /// numbers: quantized tensors arrive dequantized and the executor snaps the outputs onto
    /// their stored types afterwards. The list is the executor's own: a kernel may take out an
    /// input that `workspace.consumable` marks, leaving its value the only reference, and write
    /// its result into that storage.
    var run: (_ inputs: inout [TensorValue?], _ workspace: Workspace) throws -> [TensorValue]
}

/// A fused activation (`ActivationFunctionType`), applied in float as LiteRT's float kernels do;
/// for quantized outputs the clamp it implies follows from snapping onto the output's grid.
enum FusedActivation: Sendable {
    case none, relu, reluN1To1, relu6, tanh

    /// The clip the kernels apply with the bias, or nil (none, tanh).
    var clip: ActivationClip? {
        switch self {
        case .none, .tanh: return nil
        case .relu: return .relu
        case .reluN1To1: return .reluN1To1
        case .relu6: return .relu6
        }
    }

    /// Adds `bias` (one value per channel, channels last) and applies the activation, in place.
    func apply(_ buffer: UnsafeMutableBufferPointer<Float>, channels: Int = 1, bias: UnsafePointer<Float>? = nil) {
        guard let base = buffer.baseAddress else { return }
        addBiasAndClip(base, count: buffer.count, channels: channels, bias: bias, clip: clip)
        if case .tanh = self { transformEach(buffer) { Foundation.tanh($0) } }
    }

    func apply(_ values: inout [Float]) { values.withUnsafeMutableBufferPointer { apply($0) } }
}

extension TFLiteFile.OperatorInfo {
    /// How the executor's errors name an operator: `operator 3 (CONV_2D)`.
    var errorLocation: String { "operator \(index) (\(name))" }
}

/// What a kernel builder sees: the operator, its tensors, the values of constant inputs, typed
/// option accessors and checked helpers whose errors name the operator.
struct OperatorContext {
    let info: TFLiteFile.OperatorInfo
    let tensors: [TFLiteFile.TensorInfo]
    let storages: [TensorStorage]
    /// Values of this operator's inputs known while preparing (by tensor index): constants, and
    /// outputs of operators folded before this one.
    let constants: [Int: TensorValue]
    let options: TFLiteExecutor.Options

    var index: Int { info.index }
    var builtin: String { info.name }

    func unsupported(_ detail: String) -> ExecutionError { .unsupported(.executor, at: info.errorLocation, detail) }

    func invalid(_ detail: String) -> ExecutionError { .invalidOperator(.executor, at: info.errorLocation, detail) }

    // MARK: tensors

    /// The tensor index of input `i`, or nil when it is absent (-1, or past the input list).
    func inputIndex(_ i: Int) -> Int? {
        guard info.inputs.indices.contains(i), info.inputs[i] >= 0 else { return nil }
        return info.inputs[i]
    }

    func inputTensor(_ i: Int) -> TFLiteFile.TensorInfo? { inputIndex(i).map { tensors[$0] } }

    func inputStorage(_ i: Int) -> TensorStorage? { inputIndex(i).map { storages[$0] } }

    func outputTensor(_ i: Int) -> TFLiteFile.TensorInfo { tensors[info.outputs[i]] }

    func outputStorage(_ i: Int) -> TensorStorage { storages[info.outputs[i]] }

    /// The value of input `i` when it is known while preparing (a constant), else nil.
    func constant(_ i: Int) -> TensorValue? { inputIndex(i).flatMap { constants[$0] } }

    /// True when input `i` is present and known while preparing.
    func isConstant(_ i: Int) -> Bool { constant(i) != nil }

    /// Checks the number of inputs (listed, absent ones included) and that the required ones
    /// (the first `required`) are present; and the number of outputs.
    func expect(inputs range: ClosedRange<Int>, required: Int? = nil, outputs: Int = 1) throws {
        guard range.contains(info.inputs.count) else {
            let wanted = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
            throw invalid("has \(info.inputs.count) inputs, expected \(wanted)")
        }
        for i in 0..<min(required ?? range.lowerBound, info.inputs.count) where inputIndex(i) == nil {
            throw invalid("input \(i) is missing")
        }
        guard info.outputs.count == outputs else { throw invalid("has \(info.outputs.count) outputs, expected \(outputs)") }
        guard info.outputs.allSatisfy({ $0 >= 0 }) else { throw invalid("an output is missing (-1)") }
    }

    /// Rejects inputs and outputs of types the kernel does not compute (`allowed` lists
    /// `TensorStorage` kinds: "float" (float32/float16), "quantized", "integer", "bool").
    func expectTypes(_ allowed: Set<String>, inputs: [Int]? = nil, outputs: Bool = true) throws {
        func kind(_ storage: TensorStorage) -> String {
            switch storage {
            case .float32, .float16: return "float"
            case .quantized: return "quantized"
            case .integer: return "integer"
            case .bool: return "bool"
            }
        }
        for i in inputs ?? Array(info.inputs.indices) {
            guard let index = inputIndex(i) else { continue }
            guard allowed.contains(kind(storages[index])) else {
                throw unsupported("input \(i) has the type \(describe(index))")
            }
        }
        if outputs {
            for index in info.outputs where !allowed.contains(kind(storages[index])) {
                throw unsupported("output tensor \(index) has the type \(describe(index))")
            }
        }
    }

    func describe(_ tensorIndex: Int) -> String {
        let tensor = tensors[tensorIndex]
        return tensor.quantization.map { $0.scales.isEmpty ? tensor.type : "quantized \(tensor.type)" } ?? tensor.type
    }

    // MARK: options

    /// The operator's options table when it is of the type `expected` (`Conv2DOptions`); a
    /// missing or differently typed table reads as defaults, as LiteRT's parser does.
    func options(_ expected: String) -> OptionsReader {
        OptionsReader(table: info.optionsType == expected ? info.optionsTable : nil, context: self)
    }

    // MARK: checked helpers

    /// The element count of a shape computed from data, checked against the executor's limit so
    /// a hostile file cannot make it allocate without bound.
    func count(_ shape: [Int]) throws -> Int {
        guard let count = elementCount(shape) else { throw invalid("the shape \(shapeText(shape)) is not a valid tensor shape") }
        guard count <= options.maximumTensorElements else {
            throw invalid("the output shape \(shapeText(shape)) has \(count) elements, more than the executor allows (\(options.maximumTensorElements))")
        }
        return count
    }

    /// The values of an integer tensor (shapes, axes, indices) as Ints.
    func integers(_ value: TensorValue, _ what: String) throws -> [Int] {
        try value.values.map { element in
            guard element.isFinite, abs(element) < 9.0e15, element == element.rounded() else {
                throw invalid("\(what) holds \(element), not an integer")
            }
            return Int(element)
        }
    }

    /// A possibly negative axis of a rank-`rank` tensor, made non-negative.
    func axis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(normalized) else { throw invalid("\(what) \(axis) is outside a rank-\(rank) tensor") }
        return normalized
    }

    /// A new tensor of `shape`; `values.count` must match (kernels compute both).
    func tensor(_ shape: [Int], _ values: [Float]) throws -> TensorValue {
        do { return try TensorValue(shape: shape, values: values) } catch { throw invalid("\(error)") }
    }
}

/// Typed reads of an options table; absent fields (or an absent table) give the schema default.
struct OptionsReader {
    let table: FlatBufferReader.Table?
    let context: OperatorContext

    private func read<T>(_ body: (FlatBufferReader.Table) throws -> T, _ fallback: T) throws -> T {
        guard let table else { return fallback }
        do { return try body(table) } catch { throw context.invalid("cannot read its options: \(error)") }
    }

    func int(_ id: Int, default fallback: Int32 = 0) throws -> Int { Int(try read({ try $0.scalar(id, default: fallback) }, fallback)) }
    func byte(_ id: Int, default fallback: Int8 = 0) throws -> Int8 { try read({ try $0.scalar(id, default: fallback) }, fallback) }
    func float(_ id: Int, default fallback: Float = 0) throws -> Float { try read({ try $0.float(id, default: fallback) }, fallback) }
    func bool(_ id: Int, default fallback: Bool = false) throws -> Bool { try read({ try $0.bool(id, default: fallback) }, fallback) }
    func ints(_ id: Int) throws -> [Int]? {
        try read({ try $0.scalars(id, as: Int32.self)?.map(Int.init) }, nil)
    }

    func activation(_ id: Int) throws -> FusedActivation {
        let code = try byte(id)
        switch ActivationFunctionType(rawValue: code) {
        case .NONE?: return .none
        case .RELU?: return .relu
        case .RELU_N1_TO_1?: return .reluN1To1
        case .RELU6?: return .relu6
        case .TANH?: return .tanh
        default: throw context.unsupported("fused activation \(ActivationFunctionType(rawValue: code).map { "\($0)" } ?? "code \(code)")")
        }
    }

    func padding(_ id: Int) throws -> PaddingMode {
        switch Padding(rawValue: try byte(id)) {
        case .SAME?: return .same
        case .VALID?: return .valid
        default: throw context.unsupported("padding code \(try byte(id))")
        }
    }

    /// A stride, dilation or filter size: must be ≥ 1.
    func positive(_ id: Int, _ name: String, default fallback: Int32 = 0) throws -> Int {
        let value = try int(id, default: fallback)
        guard value >= 1, value <= 1 << 20 else { throw context.invalid("\(name) \(value) must be between 1 and 2^20") }
        return value
    }
}

/// Field ids of option tables that `Schema.swift` (keraslite's subset of schema.fbs) leaves out,
/// from the same upstream schema (vtable slot = 4 + 2 · id in the generated readers).
enum ExtraFields {
    enum GatherOptions { static let axis = 0, batch_dims = 1 }
    enum ShapeOptions { static let out_type = 0 }
    enum BatchMatMulOptions { static let adj_x = 0, adj_y = 1 }
    enum ArgMaxOptions { static let output_type = 0 }
    /// `mode: MirrorPadMode` (a byte): REFLECT = 0, SYMMETRIC = 1.
    enum MirrorPadOptions { static let mode = 0 }
    enum SpaceToDepthOptions { static let block_size = 0 }
    enum DepthToSpaceOptions { static let block_size = 0 }
    enum L2NormOptions { static let fused_activation_function = 0 }
    enum CumsumOptions { static let exclusive = 0, reverse = 1 }
    enum LocalResponseNormalizationOptions { static let radius = 0, bias = 1, alpha = 2, beta = 3 }
}
