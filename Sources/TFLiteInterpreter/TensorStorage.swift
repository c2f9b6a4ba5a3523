import Foundation
import Kernels
import TFLite

/// How a tensor's values are stored in the file, and so which values it can hold. The executor
/// computes in float32 throughout; after each operator, every output is brought back onto what
/// its stored type can represent (`snap`): float16 rounding, the quantization grid of an int8 /
/// uint8 / int16 tensor (round half away from zero, clamp, dequantize), whole numbers for
/// integer tensors, 0/1 for bool.
enum TensorStorage: Sendable {
    case float32
    case float16
    /// An integer type with affine quantization: real = scale · (q − zero point).
    case quantized(QuantizationGrid)
    /// An integer type without quantization parameters (shapes, indices, counts).
    case integer(type: String, minimum: Double, maximum: Double)
    case bool

    /// The storage of `tensor`, or why the executor cannot hold it.
    static func of(_ tensor: TFLiteFile.TensorInfo) -> Result<TensorStorage, TensorStorageProblem> {
        switch tensor.type {
        case "float32": return .success(.float32)
        case "float16": return .success(.float16)
        case "bool": return .success(.bool)
        default: break
        }
        guard let range = integerRange(tensor.type) else {
            return .failure(TensorStorageProblem("tensor \(tensor.index) ('\(tensor.name)') has the type \(tensor.type), which the executor does not support"))
        }
        guard let quantization = tensor.quantization, !quantization.scales.isEmpty else {
            return .success(.integer(type: tensor.type, minimum: range.minimum, maximum: range.maximum))
        }
        let scales = quantization.scales
        guard scales.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            return .failure(TensorStorageProblem("tensor \(tensor.index) ('\(tensor.name)') has the quantization scale \(scales.first { !($0.isFinite && $0 >= 0) }!)"))
        }
        let zeroPoints: [Double]
        switch quantization.zeroPoints.count {
        case 0: zeroPoints = Array(repeating: 0, count: scales.count)
        case 1: zeroPoints = Array(repeating: Double(quantization.zeroPoints[0]), count: scales.count)
        case scales.count: zeroPoints = quantization.zeroPoints.map(Double.init)
        default:
            return .failure(TensorStorageProblem("tensor \(tensor.index) ('\(tensor.name)') has \(scales.count) scales but \(quantization.zeroPoints.count) zero points"))
        }
        var axis: Int?
        if scales.count > 1 {
            let dimension = quantization.quantizedDimension
            guard tensor.shape.indices.contains(dimension), tensor.shape[dimension] == scales.count else {
                return .failure(TensorStorageProblem("tensor \(tensor.index) ('\(tensor.name)') of shape \(shapeText(tensor.shape)) has \(scales.count) "
                                + "scales along dimension \(dimension)"))
            }
            axis = dimension
        }
        return .success(.quantized(QuantizationGrid(scales: scales, zeroPoints: zeroPoints, axis: axis,
                                                    minimum: range.minimum, maximum: range.maximum)))
    }

    /// The representable range of an integer tensor type.
    static func integerRange(_ type: String) -> (minimum: Double, maximum: Double)? {
        switch type {
        case "int8": return (-128, 127)
        case "uint8": return (0, 255)
        case "int16": return (-32768, 32767)
        case "uint16": return (0, 65535)
        case "int32": return (-2147483648, 2147483647)
        case "uint32": return (0, 4294967295)
        case "int64": return (Double(Int64.min), Double(Int64.max))
        default: return nil
        }
    }

    var isQuantized: Bool { if case .quantized = self { return true } else { return false } }

    /// Brings `values` (of a tensor of `shape`) onto what this storage holds, in place.
    func snap(_ values: inout [Float], shape: [Int]) {
        switch self {
        case .float32:
            return
        case .float16:
            for index in values.indices { values[index] = roundedToHalf(values[index]) }
        case .quantized(let grid):
            grid.snap(&values, shape: shape)
        case .integer(_, let minimum, let maximum):
            for index in values.indices {
                let value = values[index]
                // C++ conversions truncate; a NaN becomes the type's minimum (x86's cvttss2si).
                values[index] = value.isNaN ? Float(minimum) : Float(min(max(Double(value.rounded(.towardZero)), minimum), maximum))
            }
        case .bool:
            for index in values.indices { values[index] = values[index] != 0 ? 1 : 0 }
        }
    }
}

/// The quantization grid of an integer tensor: per tensor or per channel along `axis`.
struct QuantizationGrid: Sendable {
    var scales: [Float]
    var zeroPoints: [Double]
    var axis: Int?
    /// The stored type's range.
    var minimum: Double
    var maximum: Double

    /// The quantized value of `real` in channel `channel`: round(real / scale) + zero point
    /// (half away from zero, as LiteRT's `TfLiteRound`), clamped to the type.
    @inline(__always) func quantize(_ real: Float, channel: Int = 0) -> Double {
        let rounded = (real / scales[channel]).rounded(.toNearestOrAwayFromZero)
        guard !rounded.isNaN else { return minimum }
        return min(max(Double(rounded) + zeroPoints[channel], minimum), maximum)
    }

    /// The real value of the quantized `q`: scale · (q − zero point), computed in double as
    /// LiteRT's DEQUANTIZE does.
    @inline(__always) func dequantize(_ q: Double, channel: Int = 0) -> Float {
        Float(Double(scales[channel]) * (q - zeroPoints[channel]))
    }

    /// For each element of a tensor of `shape`, its channel: `(index / inner) % channels`.
    func channelLayout(_ shape: [Int]) -> (inner: Int, channels: Int) {
        guard let axis, shape.indices.contains(axis) else { return (1, 1) }
        return (max(shape[(axis + 1)...].reduce(1, *), 1), max(shape[axis], 1))
    }

    func snap(_ values: inout [Float], shape: [Int]) {
        let (inner, channels) = channelLayout(shape)
        if channels == 1 || scales.count == 1 {
            for index in values.indices { values[index] = dequantize(quantize(values[index])) }
        } else {
            let usable = min(channels, scales.count)
            for index in values.indices {
                let channel = min((index / inner) % channels, usable - 1)
                values[index] = dequantize(quantize(values[index], channel: channel), channel: channel)
            }
        }
    }
}

/// `x` rounded to the nearest float16 value (ties to even), ±infinity beyond float16's range.
func roundedToHalf(_ x: Float) -> Float {
    guard x.isFinite, x != 0 else { return x }
    let exponent = max(Int(abs(x).exponent), -14)
    let ulp = Float(sign: .plus, exponent: exponent - 10, significand: 1)
    let rounded = (x / ulp).rounded(.toNearestOrEven) * ulp
    return abs(rounded) > 65504 ? (x < 0 ? -.infinity : .infinity) : rounded
}

/// `[2,3,4]`.
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

/// The element count of `shape`, or nil when a dimension is negative or the product overflows.
func elementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard dimension >= 0, !overflow else { return nil }
        count = product
    }
    return count
}

// MARK: - constants

/// Decodes constant tensors from their buffers into float values (dequantized for quantized
/// types), once, while the executor is prepared. Sparse constants are densified through
/// `TFLiteSparsity`. Every count is checked against the buffer and the executor's limits.
struct ConstantDecoder {
    let file: TFLiteFile
    /// Most elements one tensor may have.
    let elementLimit: Int
    /// Elements all constants together may decode to (buffers can be shared by many tensors).
    private(set) var remaining: Int

    init(file: TFLiteFile, elementLimit: Int) {
        self.file = file
        self.elementLimit = elementLimit
        // 16 values per byte of the file, as `SparsityReport` allows, plus room for small files.
        let (budget, overflow) = max(file.sizeBytes, 0).multipliedReportingOverflow(by: 16)
        remaining = overflow ? Int.max : budget + (1 << 20)
    }

    /// The values of constant `tensor` stored as `storage`, or a description of the problem.
    mutating func decode(_ tensor: TFLiteFile.TensorInfo, storage: TensorStorage) throws -> [Float] {
        try values(tensor, storage: storage, count: try reserve(tensor))
    }

    /// Charges constant `tensor`'s elements to the budget (in the order the executor meets the
    /// constants, so a file over it fails at the same tensor) and returns their count.
    mutating func reserve(_ tensor: TFLiteFile.TensorInfo) throws -> Int {
        guard file.hasBufferData(tensor.buffer) else {
            throw DecodeProblem("tensor \(tensor.index) has no data")
        }
        guard tensor.elementBytes > 0 else { throw DecodeProblem("constant tensor \(tensor.index) has the type \(tensor.type)") }
        guard let count = elementCount(tensor.shape), count <= elementLimit else {
            throw DecodeProblem("constant tensor \(tensor.index) of shape \(shapeText(tensor.shape)) has more than \(elementLimit) elements")
        }
        guard count <= remaining else {
            throw DecodeProblem("the constants would decode to more values than the executor allows for a "
                                + "\(file.sizeBytes)-byte file (at tensor \(tensor.index): buffers shared by many tensors?)")
        }
        remaining -= count
        return count
    }

    /// The `count` values of constant `tensor` (reserved), decoded; safe to call from several threads.
    func values(_ tensor: TFLiteFile.TensorInfo, storage: TensorStorage, count: Int) throws -> [Float] {
        // A lowered model's float weights come as floats, reordered once, with no byte copy.
        if tensor.type == "float32", tensor.sparsity == nil, let floats = file.modelFloats(tensor.buffer) {
            guard floats.count >= count else {
                throw DecodeProblem("constant tensor \(tensor.index) of shape \(shapeText(tensor.shape)) needs \(count) values, "
                                    + "its buffer holds \(floats.count)")
            }
            return floats.count == count ? floats : Array(floats[..<count])
        }
        guard let data = file.bufferData(tensor.buffer) else { throw DecodeProblem("tensor \(tensor.index) has no data") }
        let width = tensor.elementBytes
        let stored = data.count / width
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> [Float] in
            let read = TFLiteTensorDecoder.elementReader(raw, type: tensor.type)
            var values = [Float](repeating: 0, count: count)
            if tensor.sparsity != nil {
                let positions: [Int]
                do { positions = try TFLiteTensorDecoder.densePositions(tensor, storedCount: stored) } catch {
                    throw DecodeProblem("\(error)")
                }
                // Elements the encoding leaves out are zero (the zero point of a quantized tensor).
                for (k, position) in positions.enumerated() {
                    values[position] = Self.value(read(k), at: position, storage: storage, shape: tensor.shape)
                }
                return values
            }
            guard stored >= count else {
                throw DecodeProblem("constant tensor \(tensor.index) of shape \(shapeText(tensor.shape)) needs \(count) values, "
                                    + "its buffer holds \(stored)")
            }
            if tensor.type == "float32", count > 0, 1.littleEndian == 1 {
                values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)])) }
                return values
            }
            if case .quantized(let grid) = storage, grid.scales.count > 1 {
                let (inner, channels) = grid.channelLayout(tensor.shape)
                let usable = min(channels, grid.scales.count)
                for index in 0..<count {
                    let channel = min((index / inner) % channels, usable - 1)
                    values[index] = grid.dequantize(read(index), channel: channel)
                }
                return values
            }
            for index in 0..<count { values[index] = Self.value(read(index), at: index, storage: storage, shape: tensor.shape) }
            return values
        }
    }

    /// The real value of a stored element.
    private static func value(_ raw: Double, at index: Int, storage: TensorStorage, shape: [Int]) -> Float {
        switch storage {
        case .quantized(let grid):
            guard grid.scales.count > 1 else { return grid.dequantize(raw) }
            let (inner, channels) = grid.channelLayout(shape)
            return grid.dequantize(raw, channel: min((index / inner) % channels, grid.scales.count - 1))
        case .bool:
            return raw != 0 ? 1 : 0
        default:
            return Float(raw)
        }
    }
}

/// Why a constant cannot be decoded (the executor adds the operator).
struct DecodeProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
