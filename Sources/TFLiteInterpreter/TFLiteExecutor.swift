import Foundation
import Kernels
import NumPy
import TFLite

/// The reference executor for `.tflite` files: runs the main subgraph (subgraph 0) of any
/// `TFLiteFile` operator by operator on NHWC float32 values, as LiteRT's reference kernels compute.
///
/// `init` prepares the file once: it decodes every constant the operators read (float32,
/// float16, int8/uint8/int16/int32/int64 with per-tensor or per-channel scales, sparse constants
/// densified), builds one kernel per operator (options read and checked, filters repacked) and
/// evaluates operators whose inputs are all constants (the DEQUANTIZE of float16 weights) right
/// away. An unsupported builtin, option or tensor type fails there, naming the operator index and
/// builtin — before any input is read.
///
/// Numerics:
/// - float32 models compute in float32 like LiteRT's float kernels (convolutions and dense layers
///   as im2col + OpenBLAS sgemm, so sums are ordered differently: expect agreement to ~1e-6
///   relative, not bit identity).
/// - float16 weights are widened exactly; DEQUANTIZE is then an identity.
/// - Dynamic-range (hybrid) CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED — float input, int8
///   filter — run as LiteRT's hybrid kernels do: each input row (one image for convolutions, one
///   row for dense layers) is quantized to int8 first, symmetrically or asymmetrically as LiteRT
///   chooses, so results match LiteRT rather than the float model (`Options.emulateHybridKernels`;
///   off: dequantized weights times float inputs); so do hybrid UNIDIRECTIONAL_SEQUENCE_LSTMs
///   (each step's input row and state row quantized before the gate products). Other ops with
///   int8 weights dequantize them.
/// - Variable tensors (UNIDIRECTIONAL_SEQUENCE_LSTM's states) start every `run` from their
///   initial value (zeros without a buffer), as LiteRT's first invoke does; LiteRT then keeps the
///   final states for the next invoke until `reset_all_variables`, the executor does not.
/// - Full-integer models are simulated: every quantized tensor holds real values on its grid.
///   Inputs are dequantized (scale · (q − zero point)), each operator computes in float, and each
///   quantized output is quantized with its own scale and zero point (round half away from zero,
///   clamp to the type; a fused RELU/RELU6 clamps as LiteRT's quantized activation range does)
///   and kept dequantized. LiteRT's integer kernels use fixed-point multipliers and lookup
///   tables, so an output may differ from LiteRT's by a quantization step where a value falls
///   near a rounding boundary.
///
/// Values of integer tensors without quantization (shapes, indices) are whole numbers held as
/// floats: exact up to 2^24.
///
/// Memory: every shape computed while running (TILE multiples, PAD amounts, RESIZE sizes, …) is
/// checked against `Options.maximumTensorElements` before anything is allocated, and constants
/// may decode to at most 16 values per byte of the file, so a hostile file is an error, not an
/// unbounded allocation. A value is released after its last reader.
///
/// `run` may be called from several threads at once (each call has its own scratch memory).
public final class TFLiteExecutor: @unchecked Sendable {
    /// Sees a tensor and its value: `(tensor index, tensor name, value)`. Called for every model
    /// input (after it is brought onto its type) and then for every output of every operator, in
    /// operator order — operators folded while preparing report their precomputed value. Values
    /// are real numbers: a quantized tensor's value is dequantized (on its grid), so a float model
    /// and its quantized conversion can be compared tensor by tensor by name. `noted` is the
    /// value's smallest and largest finite element — (+∞, −∞) when none is finite — when the
    /// kernel that computed it noted them while writing (float32 outputs of CONV_2D,
    /// DEPTHWISE_CONV_2D and same-shape ADD/SUB/MUL/…; see `OutputExtremes`), else nil.
    public typealias Observer = (_ tensorIndex: Int, _ name: String, _ value: TensorValue, _ noted: (low: Float, high: Float)?) -> Void

    /// Sees the range of every tensor an `Observer` would see, in the same order: its smallest
    /// and largest finite element (nil when none is finite) — noted by the kernel that wrote it,
    /// else scanned. Calibration needs no more, so a run observed this way fuses each residual
    /// ADD into the convolution before it (`fusingResiduals`), as an unobserved run does; the
    /// convolution's own output, never stored then, is still reported.
    public typealias RangeObserver = (_ tensorIndex: Int, _ name: String, _ range: (low: Float, high: Float)?) -> Void

    /// How a run is watched.
    private enum Observation {
        case values(Observer)
        case ranges(RangeObserver)
    }

    public struct Options: Sendable {
        /// Most elements any one tensor may have (constants and values computed while running).
        public var maximumTensorElements: Int
        /// Hybrid CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED quantize their float input the way
        /// LiteRT's hybrid kernels do (true), or multiply dequantized weights in float (false).
        public var emulateHybridKernels: Bool

        public init(maximumTensorElements: Int = 1 << 28, emulateHybridKernels: Bool = true) {
            self.maximumTensorElements = maximumTensorElements
            self.emulateHybridKernels = emulateHybridKernels
        }
    }

    /// A model input or output.
    public struct Port: Sendable {
        /// The signature's name for it (`serving_default`, else the first signature of the main
        /// subgraph), else the tensor name.
        public let name: String
        public let tensorIndex: Int
        public let tensorName: String
        /// The stored type as the schema spells it, lower case (`float32`, `int8`).
        public let type: String
        /// The shape in the file; `shapeSignature` marks dynamic dimensions with -1.
        public let shape: [Int]
        public let shapeSignature: [Int]?
        /// Per-tensor scale and zero point of a quantized input or output.
        public let scale: Float?
        public let zeroPoint: Int64?
        let storage: TensorStorage

        /// True for integer types with quantization parameters (int8/uint8/int16 model I/O).
        public var isQuantized: Bool { storage.isQuantized }

        /// True when the file leaves the first dimension dynamic (-1 in the shape signature).
        public var hasDynamicBatch: Bool { shapeSignature?.first == -1 }

        /// The `.npy` element type of the stored values (float16 widens to float32).
        public var storedElementType: NPYElementType {
            switch type {
            case "int8": return .int8
            case "uint8": return .uint8
            case "int16": return .int16
            case "int32", "uint16": return .int32
            case "int64", "uint32": return .int64
            case "bool": return .bool
            default: return .float32
            }
        }

        /// Real values from stored ones: q → scale · (q − zero point) for a quantized port;
        /// others are returned as they are. Throws when a value is not an integer of the type.
        public func dequantize(_ stored: TensorValue) throws -> TensorValue {
            guard case .quantized(let grid) = storage else { return stored }
            var values = stored.values
            let (inner, channels) = grid.channelLayout(stored.shape)
            for index in values.indices {
                let q = values[index]
                guard q == q.rounded(), Double(q) >= grid.minimum, Double(q) <= grid.maximum else {
                    throw ExecutionError.invalidInput(.executor,
                        "input '\(name)' is \(type): the value \(q) is not a whole number in \(Int(grid.minimum))…\(Int(grid.maximum)) "
                        + "(pass real numbers as float32 to have them quantized)")
                }
                let channel = min((index / inner) % channels, grid.scales.count - 1)
                values[index] = grid.dequantize(Double(q), channel: channel)
            }
            return try TensorValue(shape: stored.shape, values: values)
        }

        /// Stored values from real ones: q = round(x / scale) + zero point, clamped, for a
        /// quantized port; others are returned as they are.
        public func quantize(_ real: TensorValue) throws -> TensorValue {
            guard case .quantized(let grid) = storage else { return real }
            var values = real.values
            let (inner, channels) = grid.channelLayout(real.shape)
            for index in values.indices {
                let channel = min((index / inner) % channels, grid.scales.count - 1)
                values[index] = Float(grid.quantize(values[index], channel: channel))
            }
            return try TensorValue(shape: real.shape, values: values)
        }
    }

    struct Step {
        let index: Int
        let builtin: String
        let kernel: Kernel
        let inputs: [Int]
        let outputs: [Int]
        /// Computed values whose last reader this step is.
        let releases: [Int]
        /// Per input: released here and passed once, so the argument list holds its only reference.
        var consumable: [Bool] = []
        /// Evaluated while preparing: its outputs are among the initial values.
        let folded: Bool
        /// An ADD fused into this CONV_2D: its other operand is the last input, its output this
        /// step's output (`fusingResiduals`).
        var residual: FusedResidual? = nil
    }

    public let file: TFLiteFile
    public let options: Options
    public let inputs: [Port]
    public let outputs: [Port]
    private let tensors: [TFLiteFile.TensorInfo]
    private let storages: [TensorStorage]
    private let initialValues: [TensorValue?]
    private let steps: [Step]
    /// `steps` with residual ADDs fused into their convolutions: what runs unless an `Observer`
    /// needs every value.
    private let fusedSteps: [Step]

    /// Reads and prepares the file at `path`.
    public convenience init(path: String, options: Options = Options()) throws {
        try self.init(file: try TFLiteFile(path: path), options: options)
    }

    /// Prepares the main subgraph of `file`; throws `ExecutionError` for anything it cannot run.
    public init(file: TFLiteFile, options: Options = Options()) throws {
        self.file = file
        self.options = options
        guard let subgraph = file.subgraphs.first else { throw ExecutionError.invalidModel(.executor, "the file has no subgraph") }
        let tensors = subgraph.tensors
        self.tensors = tensors
        let storageResults = tensors.map(TensorStorage.of)
        // Unsupported types only matter for tensors the model uses; those fail where they are used.
        storages = storageResults.map { (try? $0.get()) ?? .float32 }
        func storage(_ index: Int) throws(TensorStorageProblem) -> TensorStorage {
            switch storageResults[index] {
            case .success(let storage): return storage
            case .failure(let problem): throw problem
            }
        }

        var values = [TensorValue?](repeating: nil, count: tensors.count)
        var available = [Bool](repeating: false, count: tensors.count)
        var decoder = ConstantDecoder(file: file, elementLimit: options.maximumTensorElements)

        // The signature names of the main subgraph's inputs and outputs, when they are consistent.
        let signature = file.signatures.first { $0.subgraph == 0 && $0.key == "serving_default" }
            ?? file.signatures.first { $0.subgraph == 0 }
        func names(_ entries: [(name: String, tensor: Int)]?, for indices: [Int]) -> [Int: String] {
            guard let entries, Set(entries.map(\.tensor)) == Set(indices), entries.count == indices.count else { return [:] }
            return Dictionary(entries.map { ($0.tensor, $0.name) }, uniquingKeysWith: { first, _ in first })
        }
        func port(_ index: Int, _ what: String, names: [Int: String]) throws -> Port {
            guard tensors.indices.contains(index) else { throw ExecutionError.invalidModel(.executor, "the subgraph's \(what) is missing (-1)") }
            let tensor = tensors[index]
            let stored: TensorStorage
            do { stored = try storage(index) } catch { throw ExecutionError.invalidModel(.executor, "\(what) \(error.description)") }
            return Port(name: names[index] ?? tensor.name, tensorIndex: index, tensorName: tensor.name, type: tensor.type,
                        shape: tensor.shape, shapeSignature: tensor.shapeSignature,
                        scale: tensor.quantization?.scales.first, zeroPoint: tensor.quantization?.zeroPoints.first, storage: stored)
        }
        let inputNames = names(signature?.inputs, for: subgraph.inputs)
        inputs = try subgraph.inputs.map { try port($0, "input", names: inputNames) }
        for input in inputs {
            guard let count = elementCount(input.shape), count <= options.maximumTensorElements else {
                throw ExecutionError.invalidModel(.executor, "input '\(input.name)' has the shape \(shapeText(input.shape)), "
                                                             + "more than \(options.maximumTensorElements) elements")
            }
            guard !available[input.tensorIndex] else {
                throw ExecutionError.invalidModel(.executor, "tensor \(input.tensorIndex) is listed twice as an input")
            }
            available[input.tensorIndex] = true
        }

        let constants = Self.decodeConstants(subgraph.operators, tensors: tensors, storages: storageResults,
                                             available: available, decoder: &decoder)
        var prepared: [(step: Step, readers: [Int])] = []
        for op in subgraph.operators {
            func unsupported(_ detail: String) -> ExecutionError { .unsupported(.executor, at: op.errorLocation, detail) }
            func invalid(_ detail: String) -> ExecutionError { .invalidOperator(.executor, at: op.errorLocation, detail) }
            if op.isCustom { throw unsupported("custom operators are not supported") }
            guard let builder = OperatorTable.builders[op.name] else { throw unsupported("no kernel for this builtin") }
            for index in op.inputs where index >= 0 {
                let tensor = tensors[index]
                do { _ = try storage(index) } catch { throw unsupported(error.description) }
                if available[index] { continue }
                if tensor.isVariable {
                    // A state (UNIDIRECTIONAL_SEQUENCE_LSTM's h and c): every run starts from its initial
                    // value, as LiteRT's first invoke after allocation (or reset_all_variables) does.
                    guard tensor.elementCount <= options.maximumTensorElements else {
                        throw invalid("its variable input tensor \(index) ('\(tensor.name)') has more than \(options.maximumTensorElements) elements")
                    }
                    do {
                        let initial = tensor.isConstant ? try constants[index, default: .failure(DecodeProblem("tensor \(index) was not decoded"))].get()
                                                        : [Float](repeating: 0, count: tensor.elementCount)
                        values[index] = try TensorValue(shape: tensor.shape, values: initial)
                    } catch {
                        throw invalid("cannot decode its variable input tensor \(index) ('\(tensor.name)'): \(error)")
                    }
                    available[index] = true
                    continue
                }
                if tensor.isConstant || tensor.elementCount == 0 {
                    do {
                        let decoded = tensor.isConstant ? try constants[index, default: .failure(DecodeProblem("tensor \(index) was not decoded"))].get() : []
                        values[index] = try TensorValue(shape: tensor.shape, values: decoded)
                    } catch {
                        throw invalid("cannot decode its input tensor \(index) ('\(tensor.name)'): \(error)")
                    }
                    available[index] = true
                    continue
                }
                throw ExecutionError.invalidModel(.executor,
                    "operator \(op.index) (\(op.name)) reads tensor \(index) ('\(tensor.name)'), which no earlier operator writes")
            }
            for index in op.outputs {
                guard index >= 0 else { throw invalid("an output is missing (-1)") }
                if available[index] { throw invalid("writes tensor \(index) ('\(tensors[index].name)'), which already has a value") }
                let stored: TensorStorage
                do { stored = try storage(index) } catch { throw unsupported(error.description) }
                if case .quantized(let grid) = stored {
                    guard grid.scales.allSatisfy({ $0 > 0 }), grid.zeroPoints.allSatisfy({ $0 >= grid.minimum && $0 <= grid.maximum }) else {
                        throw invalid("output tensor \(index) ('\(tensors[index].name)') has a zero scale or a zero point outside its type")
                    }
                }
            }
            guard Set(op.outputs).count == op.outputs.count else { throw invalid("lists an output twice") }

            var known: [Int: TensorValue] = [:]
            for index in op.inputs where index >= 0 { known[index] = values[index] }
            let context = OperatorContext(info: op, tensors: tensors, storages: storages, constants: known, options: options)
            let kernel = try builder(context)
            let present = op.inputs.filter { $0 >= 0 }
            var folded = false
            if present.allSatisfy({ values[$0] != nil }) && !OperatorTable.neverFolded.contains(op.name) {
                // All inputs are constants: compute the outputs once, now.
                var arguments = op.inputs.map { $0 >= 0 ? values[$0] : nil }
                let results = try Self.execute(kernel, inputs: &arguments, outputs: op.outputs,
                                               storages: storages, workspace: Workspace(), context: context)
                for (index, value) in zip(op.outputs, results) { values[index] = value }
                folded = true
            }
            for index in op.outputs { available[index] = true }
            prepared.append((Step(index: op.index, builtin: op.name, kernel: kernel, inputs: op.inputs, outputs: op.outputs,
                                  releases: [], folded: folded), present))
        }

        let outputNames = names(signature?.outputs, for: subgraph.outputs)
        outputs = try subgraph.outputs.map { try port($0, "output", names: outputNames) }
        for output in outputs where !available[output.tensorIndex] {
            let tensor = tensors[output.tensorIndex]
            guard tensor.isConstant && !tensor.isVariable else {
                throw ExecutionError.invalidModel(.executor, "output tensor \(output.tensorIndex) ('\(output.tensorName)') is never written")
            }
            do {
                values[output.tensorIndex] = try TensorValue(shape: tensor.shape, values: try decoder.decode(tensor, storage: output.storage))
            } catch {
                throw ExecutionError.invalidModel(.executor, "cannot decode the constant output tensor \(output.tensorIndex): \(error)")
            }
            available[output.tensorIndex] = true
        }

        // Release each computed value after its last reader, unless it is a model output.
        var lastReader: [Int: Int] = [:]
        for (position, entry) in prepared.enumerated() where !entry.step.folded {
            for index in entry.readers where values[index] == nil { lastReader[index] = position }
        }
        let kept = Set(outputs.map(\.tensorIndex))
        var releases = [[Int]](repeating: [], count: prepared.count)
        for (index, reader) in lastReader where !kept.contains(index) { releases[reader].append(index) }
        steps = prepared.enumerated().map { position, entry in
            let released = Set(releases[position]), inputs = entry.step.inputs
            return Step(index: entry.step.index, builtin: entry.step.builtin, kernel: entry.step.kernel, inputs: inputs,
                        outputs: entry.step.outputs, releases: releases[position].sorted(), consumable: inputs.map { index in
                            released.contains(index) && inputs.filter { $0 == index }.count == 1
                        }, folded: entry.step.folded)
        }
        fusedSteps = Self.fusingResiduals(steps, file: file, tensors: tensors, storages: storages, kept: kept, options: options)
        initialValues = values
    }

    /// How many residual ADDs runs without a value observer fuse into their convolutions.
    public var fusedResidualCount: Int { fusedSteps.count(where: { $0.residual != nil }) }

    /// The constants the operators read (variables' initial values included), by tensor index.
    /// The element budget is charged in the order the operators meet them — a file over it fails at
    /// the same tensor as when each was decoded in turn — then all are decoded on every core (a
    /// lowered model's weights are reordered as they are decoded): tensors of a million elements
    /// or more one after the other, each split over the cores, the others one per core. A failure
    /// is kept for the operator that reads the tensor.
    private static func decodeConstants(_ operators: [TFLiteFile.OperatorInfo], tensors: [TFLiteFile.TensorInfo],
                                        storages: [Result<TensorStorage, TensorStorageProblem>], available: [Bool],
                                        decoder: inout ConstantDecoder) -> [Int: Result<[Float], Error>] {
        var seen = available
        var reserved: [(index: Int, count: Int, storage: TensorStorage)] = []
        var results: [Int: Result<[Float], Error>] = [:]
        scan: for op in operators {
            for index in op.inputs where tensors.indices.contains(index) && !seen[index] {
                seen[index] = true
                guard tensors[index].isConstant, case .success(let storage) = storages[index] else { continue }
                do {
                    reserved.append((index, try decoder.reserve(tensors[index]), storage))
                } catch {
                    results[index] = .failure(error)
                    break scan
                }
            }
            for index in op.outputs where tensors.indices.contains(index) { seen[index] = true }
        }
        var decoded = [Result<[Float], Error>](repeating: .success([]), count: reserved.count)
        let reader = decoder
        // Large tensors one at a time, each reordered on every core; the rest one per core at once.
        let large = reserved.indices.filter { reserved[$0].count >= 1 << 20 }
        for position in large {
            let (index, count, storage) = reserved[position]
            decoded[position] = Result { try reader.values(tensors[index], storage: storage, count: count) }
        }
        let small = reserved.indices.filter { reserved[$0].count < 1 << 20 }
        decoded.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            // Each index writes its own slot; the body never throws.
            try? Parallel.forEachIndexOnAllCores(small.count) { position in
                let (index, count, storage) = reserved[small[position]]
                slots[small[position]] = Result { try reader.values(tensors[index], storage: storage, count: count) }
            }
        }
        for (entry, result) in zip(reserved, decoded) { results[entry.index] = result }
        return results
    }

    /// Runs a kernel and brings its outputs onto their stored types.
    private static func execute(_ kernel: Kernel, inputs: inout [TensorValue?], outputs: [Int], storages: [TensorStorage],
                                workspace: Workspace, context: @autoclosure () -> OperatorContext) throws -> [TensorValue] {
        var results: [TensorValue]
        do {
            results = try kernel.run(&inputs, workspace)
        } catch let error as ExecutionError {
            throw error
        } catch {
            throw context().invalid("\(error)")
        }
        guard results.count == outputs.count else {
            throw context().invalid("computed \(results.count) outputs for \(outputs.count) output tensors")
        }
        for (k, index) in outputs.enumerated() {
            switch storages[index] {
            case .float32: continue
            default:
                var values = results[k].values
                storages[index].snap(&values, shape: results[k].shape)
                results[k] = try TensorValue(shape: results[k].shape, values: values)
            }
        }
        return results
    }

    /// The number of operators in the main subgraph, and how many were evaluated while preparing.
    public var operatorCount: Int { steps.count }
    public var foldedOperatorCount: Int { steps.filter(\.folded).count }

    /// Runs the model once on one value per input, in `inputs` order, as real numbers (a
    /// quantized input is quantized onto its grid here; use `Port.dequantize` for stored integers).
    /// Each value's shape must equal the input's, except dimensions the file leaves dynamic (-1 in
    /// the shape signature). Returns one value per output, in `outputs` order, as real numbers.
    public func run(_ values: [TensorValue], observe: Observer? = nil) throws -> [TensorValue] {
        try run(values, observation: observe.map { .values($0) })
    }

    /// Runs the model once, reporting each tensor's range to `observeRanges` (see `RangeObserver`).
    public func run(_ values: [TensorValue], observeRanges: @escaping RangeObserver) throws -> [TensorValue] {
        try run(values, observation: .ranges(observeRanges))
    }

    private func run(_ values: [TensorValue], observation: Observation?) throws -> [TensorValue] {
        // A tensor and its value (nil: a fused convolution's output, never stored) to the observer.
        func report(_ index: Int, _ value: TensorValue?, noted: (low: Float, high: Float)?) throws {
            switch observation {
            case nil: return
            case .values(let observe):
                guard let value else { preconditionFailure("a value observer runs the unfused steps") }
                observe(index, tensors[index].name, value, noted)
            case .ranges(let observe):
                guard let range = noted ?? value.map({ value in
                    value.values.withUnsafeBufferPointer { finiteExtremes($0) } ?? (.infinity, -.infinity)
                }) else {
                    throw ExecutionError.invalidModel(.executor, "the range of tensor \(index) ('\(tensors[index].name)') was not noted")
                }
                observe(index, tensors[index].name, range.low <= range.high ? range : nil)
            }
        }
        guard values.count == inputs.count else {
            throw ExecutionError.invalidInput(.executor, "the model takes \(inputs.count) inputs, got \(values.count)")
        }
        var environment = initialValues
        for (input, value) in zip(inputs, values) {
            let signature = input.shapeSignature ?? input.shape
            let fits = value.shape.count == input.shape.count && value.shape.indices.allSatisfy { axis in
                value.shape[axis] == input.shape[axis] || (signature.indices.contains(axis) && signature[axis] == -1)
            }
            guard fits else {
                throw ExecutionError.invalidInput(.executor, "input '\(input.name)' has the shape \(shapeText(value.shape)); the model expects "
                                                             + shapeText(signature) + (signature.contains(-1) ? " (-1: any size)" : ""))
            }
            guard value.count <= options.maximumTensorElements else {
                throw ExecutionError.invalidInput(.executor, "input '\(input.name)' has more than \(options.maximumTensorElements) elements")
            }
            var snapped = value
            if case .float32 = input.storage {} else {
                var stored = value.values
                input.storage.snap(&stored, shape: value.shape)
                snapped = try TensorValue(shape: value.shape, values: stored)
            }
            environment[input.tensorIndex] = snapped
            try report(input.tensorIndex, snapped, noted: nil)
        }
        let workspace = Workspace()
        let plan = if case .values = observation { steps } else { fusedSteps }
        for step in plan {
            if step.folded {
                for index in step.outputs { try report(index, environment[index]!, noted: nil) }
                continue
            }
            var arguments = step.inputs.map { $0 >= 0 ? environment[$0] : nil }
            for index in step.releases { environment[index] = nil }
            // An observer is given the extremes a kernel notes of its one float32 output (an
            // output snapped onto another type afterwards has other values).
            var noting = false
            if observation != nil, step.outputs.count == 1, case .float32 = storages[step.outputs[0]] { noting = true }
            workspace.outputExtremes = noting ? OutputExtremes() : nil
            var consumable = step.consumable
            if let fused = step.residual {
                // The ADD's other operand leaves the argument list (its only reference when the
                // tensor dies here) for the convolution to store the sums over.
                consumable.removeLast()
                workspace.residual = Workspace.Residual(value: arguments.removeLast()!, clip: fused.clip,
                                                        extremes: noting ? OutputExtremes() : nil)
            }
            workspace.consumable = consumable
            let sums = workspace.residual?.extremes
            defer { workspace.residual = nil }
            let results = try Self.execute(step.kernel, inputs: &arguments, outputs: step.outputs, storages: storages,
                                           workspace: workspace, context: self.context(for: step))
            var noted = workspace.outputExtremes?.value
            workspace.outputExtremes = nil
            workspace.consumable = []
            if let fused = step.residual {
                try report(fused.convolutionOutput, nil, noted: noted)
                noted = sums?.value
            }
            for (index, value) in zip(step.outputs, results) {
                environment[index] = value
                try report(index, value, noted: noted)
            }
        }
        return outputs.map { environment[$0.tensorIndex]! }
    }

    private func context(for step: Step) -> OperatorContext {
        OperatorContext(info: file.subgraphs[0].operators[step.index], tensors: tensors, storages: storages, constants: [:],
                        options: options)
    }

    /// Runs `values` (each with the samples along the first dimension) in chunks and stacks the
    /// outputs along the first dimension. A file whose inputs have a dynamic batch (-1 in the
    /// shape signature, as TensorFlow's converter writes) runs `batchSize` samples at a time —
    /// without an observer, as one chunk of batchSize / cores samples per core at once, so as many
    /// samples are in flight; a file with a fixed batch B (keraslite writes B = 1 by default) runs
    /// B samples at a time, the last chunk padded with zeros whose outputs are dropped. `observe`
    /// sees each chunk separately, one chunk at a time.
    public func run(_ values: [TensorValue], batchSize: Int, observe: Observer? = nil) throws -> [TensorValue] {
        try run(values, batchSize: batchSize, observation: observe.map { .values($0) })
    }

    /// The same with each chunk's tensor ranges reported to `observeRanges` (see `RangeObserver`).
    public func run(_ values: [TensorValue], batchSize: Int, observeRanges: @escaping RangeObserver) throws -> [TensorValue] {
        try run(values, batchSize: batchSize, observation: .ranges(observeRanges))
    }

    private func run(_ values: [TensorValue], batchSize: Int, observation: Observation?) throws -> [TensorValue] {
        let observed = observation != nil
        guard batchSize >= 1 else { throw ExecutionError.invalidInput(.executor, "batch size \(batchSize) must be ≥ 1") }
        guard values.count == inputs.count, !inputs.isEmpty, values.allSatisfy({ $0.rank > 0 }) else {
            return try run(values, observation: observation)
        }
        let rows = Set(values.map { $0.shape.first ?? -1 })
        guard rows.count == 1, let total = rows.first, total >= 0 else {
            throw ExecutionError.invalidInput(.executor, "the inputs have different numbers of samples: \(values.map { $0.shape.first ?? 0 })")
        }
        let dynamic = inputs.allSatisfy(\.hasDynamicBatch)
        let declared = Set(inputs.map { $0.shape.first ?? 1 })
        guard dynamic || declared.count == 1, let fixed = declared.first else {
            throw ExecutionError.invalidInput(.executor, "the model's inputs have different batch sizes \(inputs.map { $0.shape.first ?? 1 })")
        }
        var chunk = dynamic ? batchSize : fixed
        if (dynamic && total <= chunk && (observed || total < 2 * Parallel.cores)) || (!dynamic && total == chunk) {
            return try run(values, observation: observation)
        }
        guard chunk >= 1 else { throw ExecutionError.invalidInput(.executor, "the model's inputs have batch size 0") }
        if dynamic && !observed { chunk = max(1, (chunk + Parallel.cores - 1) / Parallel.cores) }
        // A dynamic batch's last round is split evenly over the cores; a fixed batch runs whole
        // (padded) batches.
        let chunks = dynamic && !observed ? Parallel.balancedChunks(total, chunk: chunk)
            : stride(from: 0, to: total, by: chunk).map { $0..<min($0 + chunk, total) }
        func batch(_ number: Int) throws -> (batch: [TensorValue], count: Int) {
            let range = chunks[number]
            var batch = try values.map { try $0.rows(range) }
            if !dynamic && range.count < chunk {
                batch = try batch.map { part in
                    let padding = try TensorValue(shape: [chunk - range.count] + part.shape.dropFirst(), repeating: 0)
                    return try TensorValue.concatenatingRows([part, padding])
                }
            }
            return (batch, range.count)
        }
        func kept(_ results: [TensorValue], samples: Int, of batchRows: Int) throws -> [TensorValue] {
            try results.enumerated().map { k, result in
                guard result.shape.first == batchRows else {
                    throw ExecutionError.invalidInput(.executor,
                        "output '\(outputs[k].name)' of shape \(shapeText(result.shape)) has no batch dimension to stack chunks along; "
                        + "pass \(chunk) sample\(chunk == 1 ? "" : "s") at a time")
                }
                return samples < result.shape[0] ? try result.rows(0..<samples) : result
            }
        }
        // Observed chunks run in turn (the observer sees one batch at a time), others one per core.
        let parts = try Parallel.map(chunks.count, concurrently: !observed) { number in
            let (values, samples) = try batch(number)
            return try kept(run(values, observation: observation), samples: samples, of: values[0].shape[0])
        }
        return try outputs.indices.map { k in try TensorValue.concatenatingRows(parts.map { $0[k] }) }
    }
}

/// Why a tensor's type cannot be held (the executor adds the operator or port).
struct TensorStorageProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
