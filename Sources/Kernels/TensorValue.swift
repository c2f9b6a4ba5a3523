/// A concrete float32 tensor: a shape and its values in row-major (C) order, channels last.
///
/// The unit of data of both interpreters: model inputs, every intermediate tensor and the outputs.
/// Values are a copy-on-write array, so passing a `TensorValue` around (reshape, identity) never copies.
public struct TensorValue: Equatable, Sendable {
    public private(set) var shape: [Int]
    public private(set) var values: [Float]

    /// A tensor of `shape` holding `values`; throws when their counts disagree or a dimension is negative.
    public init(shape: [Int], values: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw KernelError.invalidArgument("shape \(shapeText(shape)) has a negative dimension")
        }
        guard let count = checkedCount(shape), count == values.count else {
            throw KernelError.invalidArgument("shape \(shapeText(shape)) needs \(checkedCount(shape).map(String.init) ?? "too many") values, got \(values.count)")
        }
        self.shape = shape
        self.values = values
    }

    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Float) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = checkedCount(shape) else {
            throw KernelError.invalidArgument("shape \(shapeText(shape)) is not a valid tensor shape")
        }
        self.shape = shape
        self.values = [Float](repeating: value, count: count)
    }

    /// A tensor whose caller guarantees `values.count == shape.product` (kernels that computed both).
    public init(unchecked shape: [Int], _ values: [Float]) {
        assert(shape.reduce(1, *) == values.count)
        self.shape = shape
        self.values = values
    }

    public var count: Int { values.count }
    public var rank: Int { shape.count }

    /// Runs `body` on the values in place (copy-on-write copies them first if they are shared).
    public mutating func withUnsafeMutableValues<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try values.withUnsafeMutableBufferPointer(body)
    }

    /// The same values under another shape with as many elements (no copy).
    public func reshaped(_ newShape: [Int]) throws -> TensorValue {
        try TensorValue(shape: newShape, values: values)
    }

    /// Rows `range` of the first (batch) dimension.
    public func rows(_ range: Range<Int>) throws -> TensorValue {
        guard let first = shape.first, range.lowerBound >= 0, range.upperBound <= first else {
            throw KernelError.invalidArgument("rows \(range) of a tensor of shape \(shapeText(shape))")
        }
        let inner = shape.dropFirst().reduce(1, *)
        return TensorValue(unchecked: [range.count] + shape.dropFirst(),
                           Array(values[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }

    /// Stacks tensors that agree on all but the first dimension along the first dimension.
    public static func concatenatingRows(_ parts: [TensorValue]) throws -> TensorValue {
        guard let first = parts.first else { throw KernelError.invalidArgument("nothing to concatenate") }
        guard !first.shape.isEmpty else { throw KernelError.invalidArgument("cannot concatenate scalars along rows") }
        let inner = Array(first.shape.dropFirst())
        var rows = 0
        var values: [Float] = []
        values.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            guard Array(part.shape.dropFirst()) == inner, !part.shape.isEmpty else {
                throw KernelError.invalidArgument("cannot concatenate shapes \(shapeText(first.shape)) and \(shapeText(part.shape))")
            }
            rows += part.shape[0]
            values += part.values
        }
        return TensorValue(unchecked: [rows] + inner, values)
    }
}

/// The element count of `shape`, or nil when it overflows Int.
public func checkedCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        count = product
    }
    return count
}

/// `[2,3,4]`, as the graph printer spells static shapes.
public func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
