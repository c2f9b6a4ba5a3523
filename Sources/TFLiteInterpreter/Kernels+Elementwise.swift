import Foundation
import Kernels
import TFLite

// Elementwise builtins: binary operators with numpy broadcasting (ADD, SUB, MUL, DIV with their
// fused activation; MAXIMUM, MINIMUM, POW, SQUARED_DIFFERENCE, FLOOR_DIV, FLOOR_MOD, PRELU,
// comparisons, logical AND/OR), SELECT/SELECT_V2, and unary functions. Integer tensors compute in
// float and are truncated back by the executor (DIV then divides like C++ integers).

/// f(a, b) with numpy broadcasting; the error names the operator.
func broadcastBinary(_ a: TensorValue, _ b: TensorValue, _ context: OperatorContext,
                     _ function: (Float, Float) -> Float) throws -> TensorValue {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw context.invalid("the shapes \(shapeText(a.shape)) and \(shapeText(b.shape)) do not broadcast")
    }
    _ = try context.count(shape)
    return Kernels.broadcastBinary(a, b, shape: shape, function: function)
}

/// A binary builtin computing `function` with broadcasting; `activation` names the options
/// table and field of a fused activation (ADD, SUB, MUL, DIV), `operation` the specialized loop
/// computing the same function (operands of one shape in one pass, clip included).
func binaryKernel(_ context: OperatorContext, types: Set<String> = ["float", "quantized", "integer"],
                  outputTypes: Set<String>? = nil, activation: (options: String, field: Int)? = nil,
                  operation: BinaryOperator? = nil,
                  _ function: @escaping @Sendable (Float, Float) -> Float) throws -> Kernel {
    try context.expect(inputs: 2...2)
    try context.expectTypes(types, outputs: outputTypes == nil)
    if let outputTypes { try context.expectTypes(outputTypes, inputs: []) }
    let fused = try activation.map { try context.options($0.options).activation($0.field) } ?? FusedActivation.none
    return Kernel { inputs, workspace in
        var result: TensorValue
        if let operation, value(inputs, 0).shape == value(inputs, 1).shape {
            _ = try context.count(value(inputs, 0).shape)
            // The result goes into an operand that dies here, taken out of the argument list so
            // this is its only reference (see `Workspace.consumable`).
            let consumable = workspace.consumable
            let target: ElementwiseTarget = consumable.first == true ? .first : consumable.count > 1 && consumable[1] ? .second : .new
            let a = value(inputs, 0), b = value(inputs, 1)
            if target == .first { inputs[0] = nil } else if target == .second { inputs[1] = nil }
            if case .tanh = fused {
                result = elementwise(consume a, consume b, operation, clip: nil, into: target)
                result.withUnsafeMutableValues { fused.apply($0) }
            } else {
                result = elementwise(consume a, consume b, operation, clip: fused.clip, extremes: workspace.outputExtremes, into: target)
            }
            return [result]
        }
        let a = value(inputs, 0), b = value(inputs, 1)
        result = try broadcastBinary(a, b, context, function)
        if case .none = fused { return [result] }
        result.withUnsafeMutableValues { fused.apply($0) }
        return [result]
    }
}

/// C++'s std::fmod result moved to the divisor's sign (TensorFlow's FloorMod).
@inline(__always) func floorModulo(_ x: Float, _ y: Float) -> Float {
    let remainder = fmodf(x, y)
    return remainder != 0 && ((y < 0) != (remainder < 0)) ? remainder + y : remainder
}

func addKernel(_ c: OperatorContext) throws -> Kernel {
    try binaryKernel(c, activation: ("AddOptions", Field.AddOptions.fused_activation_function), operation: .add) { $0 + $1 }
}
func subtractKernel(_ c: OperatorContext) throws -> Kernel {
    try binaryKernel(c, activation: ("SubOptions", Field.SubOptions.fused_activation_function), operation: .subtract) { $0 - $1 }
}
func multiplyKernel(_ c: OperatorContext) throws -> Kernel {
    try binaryKernel(c, activation: ("MulOptions", Field.MulOptions.fused_activation_function), operation: .multiply) { $0 * $1 }
}
func divideKernel(_ c: OperatorContext) throws -> Kernel {
    try binaryKernel(c, activation: ("DivOptions", Field.DivOptions.fused_activation_function), operation: .divide) { $0 / $1 }
}

/// Comparisons and logical operators: bool outputs.
func comparisonKernel(_ context: OperatorContext, _ function: @escaping @Sendable (Float, Float) -> Bool) throws -> Kernel {
    try binaryKernel(context, types: ["float", "quantized", "integer", "bool"], outputTypes: ["bool"]) { function($0, $1) ? 1 : 0 }
}

// MARK: - SELECT / SELECT_V2

/// SELECT_V2: condition ? x : y with the three shapes broadcast together. SELECT (v1) also takes a
/// rank-1 condition selecting whole rows of x and y.
func selectKernel(_ context: OperatorContext, broadcasting: Bool) throws -> Kernel {
    try context.expect(inputs: 3...3)
    try context.expectTypes(["bool", "integer"], inputs: [0], outputs: false)
    try context.expectTypes(["float", "quantized", "integer", "bool"], inputs: [1, 2])
    return Kernel { inputs, _ in
        var condition = value(inputs, 0)
        let x = value(inputs, 1), y = value(inputs, 2)
        if !broadcasting, condition.rank == 1, x.rank > 1, x.shape == y.shape, condition.shape[0] == x.shape[0] {
            condition = try context.tensor([condition.count] + Array(repeating: 1, count: x.rank - 1), condition.values)
        }
        guard let partial = broadcastShape(condition.shape, x.shape), let shape = broadcastShape(partial, y.shape) else {
            throw context.invalid("the shapes \(shapeText(condition.shape)), \(shapeText(x.shape)) and \(shapeText(y.shape)) do not broadcast")
        }
        let count = try context.count(shape)
        let output: [Float] = condition.values.withUnsafeBufferPointer { c in
            x.values.withUnsafeBufferPointer { a in
                y.values.withUnsafeBufferPointer { b in
                    makeValues(count) { out in
                        forEachBroadcastRow(shape, operands: [condition.shape, x.shape, y.shape]) { start, offsets, steps in
                            for j in 0..<(shape.last ?? 1) {
                                out[start + j] = c[offsets[0] + j * steps[0]] != 0 ? a[offsets[1] + j * steps[1]] : b[offsets[2] + j * steps[2]]
                            }
                        }
                    }
                }
            }
        }
        return [try context.tensor(shape, output)]
    }
}

// MARK: - unary

/// A unary builtin: `function` on every element.
func unaryKernel(_ context: OperatorContext, types: Set<String> = ["float", "quantized"],
                 _ function: @escaping @Sendable (Float) -> Float) throws -> Kernel {
    try context.expect(inputs: 1...1)
    try context.expectTypes(types)
    return Kernel { inputs, _ in
        let x = value(inputs, 0)
        var values = x.values
        values.withUnsafeMutableBufferPointer { transformEach($0, function) }
        return [try context.tensor(x.shape, values)]
    }
}

@inline(__always) func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// Round half to even, as TFLite's ROUND (`RoundToNearest`).
@inline(__always) func roundHalfToEven(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }

func geluKernel(_ context: OperatorContext) throws -> Kernel {
    let approximate = try context.options("GeluOptions").bool(Field.GeluOptions.approximate)
    if approximate {
        let factor = Float(sqrt(2 / Double.pi))
        return try unaryKernel(context) { x in 0.5 * x * (1 + tanhf(factor * (x + 0.044715 * x * x * x))) }
    }
    return try unaryKernel(context) { x in 0.5 * x * (1 + erff(x * Float(1 / 2.0.squareRoot()))) }
}

func leakyReluKernel(_ context: OperatorContext) throws -> Kernel {
    let alpha = try context.options("LeakyReluOptions").float(Field.LeakyReluOptions.alpha)
    return try unaryKernel(context) { x in x > 0 ? x : x * alpha }
}

/// QUANTIZE, DEQUANTIZE and CAST: the value stays the same real number; the executor snaps it
/// onto the output's type (quantize: round/clamp onto the grid; cast to an integer: truncate).
func conversionKernel(_ context: OperatorContext, inputs inputTypes: Set<String>, outputs outputTypes: Set<String>) throws -> Kernel {
    try context.expect(inputs: 1...1)
    try context.expectTypes(inputTypes, outputs: false)
    try context.expectTypes(outputTypes, inputs: [])
    return Kernel { inputs, _ in [value(inputs, 0)] }
}
