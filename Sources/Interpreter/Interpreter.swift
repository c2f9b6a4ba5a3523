import Foundation
import GraphIR
import Kernels

/// The reference interpreter: float32 execution of a graph IR, op by op, as Keras computes it.
///
/// `init` checks the graph, loads every constant once and prepares one kernel per op (attribute
/// parsing, weight preparation), so an op or attribute without a kernel fails there with an error
/// naming the op — before any input is read. `run` then executes the ops in order on NHWC
/// float32 values of any batch size; a value is released after its last reader, and an op that
/// is a value's last reader may overwrite it in place. Convolutions and dense layers run on
/// OpenBLAS' sgemm (its own threads); the other loops split over the cores.
///
/// The graph may or may not have been through the pass pipeline: the interpreter runs unfolded
/// batch norms, identities and pads as well as fused activations and folded weights.
/// The graph must not change while an interpreter for it exists. `run` may be called from
/// several threads at once (each call has its own scratch memory).
public final class Interpreter: @unchecked Sendable {
    public let graph: Graph

    private struct Step {
        let op: Op
        let kernel: Kernel
        let inputSlots: [Int]
        let outputSlots: [Int]
        /// Slots whose last reader is this step (never constants, graph inputs or outputs that are still needed).
        let releases: [Int]
        /// The op's fused activation when the kernel leaves it to the interpreter.
        let fusedActivation: ActivationFunction?
    }

    private let steps: [Step]
    private let inputSlots: [Int]
    private let outputSlots: [Int]
    /// Constant values by slot; nil for computed slots.
    private let initialValues: [TensorValue?]

    /// Prepares `graph` for execution; throws `ExecutionError` for an invalid graph, an op
    /// kind or attribute without a kernel, or a constant that cannot be read.
    public init(graph: Graph) throws {
        self.graph = graph
        if let problem = graph.verify().first { throw ExecutionError.invalidModel(.interpreter, problem) }

        var slots: [ObjectIdentifier: Int] = [:]
        var values: [TensorValue?] = []
        func slot(for tensor: Tensor) throws -> Int {
            if let existing = slots[ObjectIdentifier(tensor)] { return existing }
            let index = values.count
            slots[ObjectIdentifier(tensor)] = index
            if let constant = tensor.constant {
                guard tensor.shape.allSatisfy({ $0 != nil }) else {
                    throw ExecutionError.invalidModel(.interpreter, "constant '\(tensor.name)' has the unknown shape \(tensor.shape.text)")
                }
                do {
                    values.append(try TensorValue(shape: tensor.shape.map { $0! }, values: try constant.valuesWithoutCaching()))
                } catch {
                    throw ExecutionError.invalidModel(.interpreter, "cannot read constant '\(tensor.name)': \(error)")
                }
            } else {
                values.append(nil)
            }
            return index
        }

        let inputSlots = try graph.inputs.map(slot(for:))
        var pending: [(op: Op, kernel: Kernel, inputs: [Int], outputs: [Int], activation: ActivationFunction?)] = []
        for op in graph.ops {
            // Quantized tensors (a future quantization pass, a .tflite importer) would need
            // simulated quantization; running them as float would silently give other numbers.
            if let quantized = (op.inputs + op.outputs).first(where: { $0.quantization != nil }) {
                throw ExecutionError.unsupported(.interpreter, at: op.errorLocation,
                                                 "'\(quantized.name)' is quantized; the interpreter runs float32 only")
            }
            let inputs = try op.inputs.map(slot(for:))
            let constantValue: (Tensor) throws -> TensorValue = { tensor in
                guard let index = slots[ObjectIdentifier(tensor)], let value = values[index] else {
                    throw ExecutionError.invalidModel(.interpreter, "'\(tensor.name)' is not a constant")
                }
                return value
            }
            let kernel = try KernelTable.kernel(for: op, constantValue: constantValue)
            let activation = try KernelContext(op: op, constantValue: constantValue).fusedActivation()
            if op.outputs.count != 1 && kernel.runOutputs == nil {
                throw ExecutionError.unsupported(.interpreter, at: op.errorLocation, "\(op.outputs.count) outputs")
            }
            pending.append((op, kernel, inputs, try op.outputs.map(slot(for:)), kernel.appliesFusedActivation ? nil : activation))
        }
        let outputSlots = try graph.outputs.map(slot(for:))

        // Release each computed value after its last reader, unless the caller gets it back.
        var lastReader: [Int: Int] = [:]
        for (index, step) in pending.enumerated() {
            for input in step.inputs where values[input] == nil { lastReader[input] = index }
        }
        let kept = Set(outputSlots)
        var releases = [[Int]](repeating: [], count: pending.count)
        for (slot, reader) in lastReader where !kept.contains(slot) { releases[reader].append(slot) }

        self.steps = pending.enumerated().map { index, step in
            Step(op: step.op, kernel: step.kernel, inputSlots: step.inputs, outputSlots: step.outputs,
                 releases: releases[index], fusedActivation: step.activation)
        }
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        self.initialValues = values
    }

    /// The graph inputs' names, in order.
    public var inputNames: [String] { graph.inputs.map(\.name) }

    /// The names `run` gives the outputs: the model's output names (Keras output layers), in order.
    public var outputNames: [String] { graph.modelOutputNames }

    /// Runs the graph on one value per graph input (by name) and returns the outputs by
    /// `outputNames`. The first dimension of every input is the batch and may be any size; the
    /// others must equal the graph's where the graph knows them.
    ///
    /// `observe`, when given, sees every graph input and every op's output tensor with its value,
    /// in execution order (calibration ranges, per-layer errors).
    public func run(_ inputs: [String: TensorValue], observe: ((Tensor, TensorValue) -> Void)? = nil) throws -> [String: TensorValue] {
        let expected = Set(inputNames)
        if let unknown = inputs.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ExecutionError.invalidInput(.interpreter, "the model has no input '\(unknown)' (inputs: \(inputNames.joined(separator: ", ")))")
        }
        let ordered = try graph.inputs.map { input -> TensorValue in
            guard let value = inputs[input.name] else {
                throw ExecutionError.invalidInput(.interpreter, "no value for the model input '\(input.name)' (inputs: \(inputNames.joined(separator: ", ")))")
            }
            return value
        }
        let outputs = try run(ordered, observe: observe)
        return Dictionary(zip(outputNames, outputs), uniquingKeysWith: { first, _ in first })
    }

    /// Runs the graph on values in `graph.inputs` order; returns values in `graph.outputs` order.
    public func run(_ inputs: [TensorValue], observe: ((Tensor, TensorValue) -> Void)? = nil) throws -> [TensorValue] {
        guard inputs.count == graph.inputs.count else {
            throw ExecutionError.invalidInput(.interpreter, "the model takes \(graph.inputs.count) inputs, got \(inputs.count)")
        }
        var environment = initialValues
        for (index, (tensor, value)) in zip(graph.inputs, inputs).enumerated() {
            try check(value, against: tensor)
            environment[inputSlots[index]] = value
            observe?(tensor, value)
        }
        let workspace = Workspace()
        for step in steps {
            var arguments = step.inputSlots.map { environment[$0]! }
            for slot in step.releases { environment[slot] = nil }
            var output: TensorValue
            do {
                if let runOutputs = step.kernel.runOutputs {
                    let results = try runOutputs(&arguments, workspace)
                    for (index, (slot, value)) in zip(step.outputSlots, results).enumerated() {
                        environment[slot] = value
                        observe?(step.op.outputs[index], value)
                    }
                    continue
                }
                output = try step.kernel.run(&arguments, workspace)
            } catch let error as ExecutionError where error.problem == .invalidInput {
                throw ExecutionError.invalidOperator(.interpreter, at: step.op.errorLocation, error.detail)
            }
            arguments = []
            if let function = step.fusedActivation {
                let lastAxis = output.shape.last ?? 1
                output.withUnsafeMutableValues { buffer in
                    guard let base = buffer.baseAddress else { return }
                    finishChannels(base, count: buffer.count, channels: lastAxis, bias: nil, activation: function)
                }
            }
            environment[step.outputSlots[0]] = output
            observe?(step.op.outputs[0], output)
        }
        return outputSlots.map { environment[$0]! }
    }

    /// Runs `inputs` in batches of at most `batchSize` rows (the first dimension) and stacks the
    /// outputs: bounded memory for many samples. `observe` sees each batch separately.
    public func run(_ inputs: [String: TensorValue], batchSize: Int,
                    observe: ((Tensor, TensorValue) -> Void)? = nil) throws -> [String: TensorValue] {
        guard batchSize >= 1 else { throw ExecutionError.invalidInput(.interpreter, "batch size \(batchSize) must be ≥ 1") }
        let rows = Set(inputs.values.map { $0.shape.first ?? 0 })
        guard rows.count <= 1 else {
            throw ExecutionError.invalidInput(.interpreter, "the inputs have different numbers of rows: \(inputs.mapValues { $0.shape.first ?? 0 })")
        }
        let total = rows.first ?? 0
        if total <= batchSize && (observe != nil || total < 2 * Parallel.cores) { return try run(inputs, observe: observe) }
        // Without an observer, one chunk of batchSize / cores samples per core at once (as many
        // samples in flight), each run with single-threaded kernels; with one, chunk after chunk.
        let chunks = observe == nil
            ? Parallel.balancedChunks(total, chunk: (batchSize + Parallel.cores - 1) / Parallel.cores)
            : stride(from: 0, to: total, by: batchSize).map { $0..<min($0 + batchSize, total) }
        let parts = try Parallel.map(chunks.count, concurrently: observe == nil) { number in
            try run(try inputs.mapValues { try $0.rows(chunks[number]) }, observe: observe)
        }
        return try Dictionary(uniqueKeysWithValues: (parts.first ?? [:]).keys.map { name in
            (name, try TensorValue.concatenatingRows(parts.map { $0[name]! }))
        })
    }

    private func check(_ value: TensorValue, against tensor: Tensor) throws {
        let problem: String? = {
            guard value.rank == tensor.shape.count else { return "has rank \(value.rank)" }
            for (axis, dimension) in tensor.shape.enumerated().dropFirst() {
                if let dimension, dimension != value.shape[axis] { return "differs on axis \(axis)" }
            }
            return nil
        }()
        if let problem {
            throw ExecutionError.invalidInput(.interpreter, "input '\(tensor.name)' of shape \(shapeText(value.shape)) \(problem); "
                                                            + "the model expects \(tensor.shape.text) (any batch size)")
        }
    }
}
