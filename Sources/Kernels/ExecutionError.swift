/// Why an interpreter cannot prepare or run a model: one line naming the operator or the input at
/// fault. Both interpreters throw it, each as its `Engine` and with its own way of naming an
/// operator; kernels throw the narrower `KernelError`, which the interpreters wrap or forward.
public struct ExecutionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem stops the execution.
    public enum Problem: Equatable, Sendable {
        /// The operator, one of its attributes or options, or one of its tensor types has no kernel.
        case unsupported
        /// The operator's inputs, attributes or options are inconsistent (shapes, counts, indices),
        /// found while preparing or while running.
        case invalidOperator
        /// The model itself cannot be executed (fails verification, no subgraph, a tensor read
        /// before it is written, …).
        case invalidModel
        /// A model input is missing, unknown, has the wrong shape or holds values its type cannot
        /// represent.
        case invalidInput
    }

    /// Who executes: its name in "the <name> cannot run …", and the words that open a problem of
    /// the whole model.
    public enum Engine: String, Equatable, Sendable {
        /// The graph-IR interpreter (Sources/Interpreter).
        case interpreter
        /// The `.tflite` executor (Sources/TFLiteInterpreter).
        case executor

        var modelProblem: String {
            switch self {
            case .interpreter: return "invalid graph"
            case .executor: return "cannot execute the model"
            }
        }
    }

    public let problem: Problem
    public let engine: Engine
    /// The operator as the engine names it (`'conv' (conv2d)`, `operator 3 (CONV_2D)`); empty for
    /// problems of the model or of an input.
    public let location: String
    public let detail: String

    public init(_ problem: Problem, engine: Engine, location: String = "", detail: String) {
        self.problem = problem
        self.engine = engine
        self.location = location
        self.detail = detail
    }

    public static func unsupported(_ engine: Engine, at location: String, _ detail: String) -> ExecutionError {
        ExecutionError(.unsupported, engine: engine, location: location, detail: detail)
    }

    public static func invalidOperator(_ engine: Engine, at location: String, _ detail: String) -> ExecutionError {
        ExecutionError(.invalidOperator, engine: engine, location: location, detail: detail)
    }

    public static func invalidModel(_ engine: Engine, _ detail: String) -> ExecutionError {
        ExecutionError(.invalidModel, engine: engine, detail: detail)
    }

    public static func invalidInput(_ engine: Engine, _ detail: String) -> ExecutionError {
        ExecutionError(.invalidInput, engine: engine, detail: detail)
    }

    public var description: String {
        switch problem {
        case .unsupported: return "the \(engine.rawValue) cannot run \(location): \(detail)"
        case .invalidOperator: return "\(location): \(detail)"
        case .invalidModel: return "\(engine.modelProblem): \(detail)"
        case .invalidInput: return detail
        }
    }
}
