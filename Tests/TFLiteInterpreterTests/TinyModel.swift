import FlatBuffers
import Foundation
import TFLite

/// Writes small `.tflite` files by hand, for operators keraslite's converter never emits
/// (TensorFlow's STRIDED_SLICE, GATHER, PACK, …), quantized graphs and broken models.
struct TinyModel {
    struct Tensor {
        var name: String
        var shape: [Int]
        var type: TensorType = .FLOAT32
        /// Constant data (little-endian bytes), nil for activations.
        var data: [UInt8]? = nil
        var scales: [Float] = []
        var zeroPoints: [Int64] = []
        var axis: Int = 0
        var shapeSignature: [Int]? = nil
        /// Points at the buffer of this earlier tensor instead of one of its own (as a hostile or
        /// deduplicated file may).
        var sharesBufferOf: Int? = nil
    }

    struct Operator {
        var code: BuiltinOperator
        var inputs: [Int]
        var outputs: [Int]
        var optionsType: BuiltinOptions = .NONE
        /// Adds the options table's fields between startTable and endTable.
        var options: ((inout FlatBufferBuilder) throws -> Void)? = nil
        var customCode: String? = nil
    }

    var tensors: [Tensor] = []
    var operators: [Operator] = []
    var inputs: [Int] = []
    var outputs: [Int] = []

    /// Adds a tensor and returns its index.
    @discardableResult
    mutating func tensor(_ name: String, _ shape: [Int], _ type: TensorType = .FLOAT32, data: [UInt8]? = nil,
                         scales: [Float] = [], zeroPoints: [Int64] = [], axis: Int = 0, signature: [Int]? = nil) -> Int {
        tensors.append(Tensor(name: name, shape: shape, type: type, data: data, scales: scales, zeroPoints: zeroPoints,
                              axis: axis, shapeSignature: signature))
        return tensors.count - 1
    }

    mutating func floats(_ name: String, _ shape: [Int], _ values: [Float]) -> Int {
        tensor(name, shape, data: values.withUnsafeBytes { Array($0) })
    }

    /// A constant reading the buffer of the earlier tensor `owner` (no bytes of its own).
    mutating func sharing(_ name: String, _ shape: [Int], bufferOf owner: Int) -> Int {
        tensors.append(Tensor(name: name, shape: shape, type: tensors[owner].type, sharesBufferOf: owner))
        return tensors.count - 1
    }

    mutating func ints(_ name: String, _ shape: [Int], _ values: [Int32]) -> Int {
        tensor(name, shape, .INT32, data: values.withUnsafeBytes { Array($0) })
    }

    mutating func op(_ code: BuiltinOperator, _ inputs: [Int], _ outputs: [Int], _ optionsType: BuiltinOptions = .NONE,
                     options: ((inout FlatBufferBuilder) throws -> Void)? = nil) {
        operators.append(Operator(code: code, inputs: inputs, outputs: outputs, optionsType: optionsType, options: options))
    }

    func bytes() throws -> Data {
        var b = FlatBufferBuilder()
        // Buffers: 0 is the empty sentinel, then one per constant tensor.
        var bufferOffsets: [FlatBufferBuilder.Offset] = []
        var bufferIndex: [Int] = []
        b.startTable()
        bufferOffsets.append(try b.endTable())
        for tensor in tensors {
            if let owner = tensor.sharesBufferOf {
                bufferIndex.append(bufferIndex[owner])
            } else if let data = tensor.data {
                let vector = try b.createByteVector(data, alignment: 16)
                b.startTable()
                try b.add(Field.Buffer.data, vector)
                bufferOffsets.append(try b.endTable())
                bufferIndex.append(bufferOffsets.count - 1)
            } else {
                bufferIndex.append(0)
            }
        }
        var tensorOffsets: [FlatBufferBuilder.Offset] = []
        for (index, tensor) in tensors.enumerated() {
            let name = try b.createString(tensor.name)
            let shape = try b.createVector(tensor.shape.map(Int32.init))
            let signature = try tensor.shapeSignature.map { try b.createVector($0.map(Int32.init)) }
            var quantization: FlatBufferBuilder.Offset?
            if !tensor.scales.isEmpty {
                let scales = try b.createVector(tensor.scales)
                let zeroPoints = try b.createVector(tensor.zeroPoints)
                b.startTable()
                try b.add(Field.QuantizationParameters.scale, scales)
                try b.add(Field.QuantizationParameters.zero_point, zeroPoints)
                try b.add(Field.QuantizationParameters.quantized_dimension, Int32(tensor.axis), default: 0)
                quantization = try b.endTable()
            }
            b.startTable()
            try b.add(Field.Tensor.shape, shape)
            try b.add(Field.Tensor.type, tensor.type.rawValue, default: 0)
            try b.add(Field.Tensor.buffer, UInt32(bufferIndex[index]), default: 0)
            try b.add(Field.Tensor.name, name)
            try b.add(Field.Tensor.quantization, quantization)
            try b.add(Field.Tensor.shape_signature, signature)
            tensorOffsets.append(try b.endTable())
        }
        var codes: [String] = []
        var operatorOffsets: [FlatBufferBuilder.Offset] = []
        for op in operators {
            let key = op.customCode.map { "custom:" + $0 } ?? "\(op.code.rawValue)"
            if !codes.contains(key) { codes.append(key) }
            let inputs = try b.createVector(op.inputs.map(Int32.init))
            let outputs = try b.createVector(op.outputs.map(Int32.init))
            var options: FlatBufferBuilder.Offset?
            if let fill = op.options {
                b.startTable()
                try fill(&b)
                options = try b.endTable()
            }
            b.startTable()
            try b.add(Field.Operator.opcode_index, UInt32(codes.firstIndex(of: key)!), default: 0)
            try b.add(Field.Operator.inputs, inputs)
            try b.add(Field.Operator.outputs, outputs)
            try b.add(Field.Operator.builtin_options_type, op.optionsType.rawValue, default: 0)
            try b.add(Field.Operator.builtin_options, options)
            operatorOffsets.append(try b.endTable())
        }
        var codeOffsets: [FlatBufferBuilder.Offset] = []
        for key in codes {
            if key.hasPrefix("custom:") {
                let name = try b.createString(String(key.dropFirst(7)))
                b.startTable()
                try b.add(Field.OperatorCode.custom_code, name)
                try b.add(Field.OperatorCode.deprecated_builtin_code, Int8(32), default: 0)
                try b.add(Field.OperatorCode.builtin_code, Int32(32), default: 0)
                codeOffsets.append(try b.endTable())
            } else {
                let code = Int32(key)!
                b.startTable()
                try b.add(Field.OperatorCode.deprecated_builtin_code, Int8(min(code, 127)), default: 0)
                try b.add(Field.OperatorCode.builtin_code, code, default: 0)
                codeOffsets.append(try b.endTable())
            }
        }
        let tensorVector = try b.createVector(tensorOffsets)
        let inputVector = try b.createVector(inputs.map(Int32.init))
        let outputVector = try b.createVector(outputs.map(Int32.init))
        let operatorVector = try b.createVector(operatorOffsets)
        b.startTable()
        try b.add(Field.SubGraph.tensors, tensorVector)
        try b.add(Field.SubGraph.inputs, inputVector)
        try b.add(Field.SubGraph.outputs, outputVector)
        try b.add(Field.SubGraph.operators, operatorVector)
        let subgraph = try b.endTable()
        let subgraphs = try b.createVector([subgraph])
        let codeVector = try b.createVector(codeOffsets)
        let buffers = try b.createVector(bufferOffsets)
        b.startTable()
        try b.add(Field.Model.version, UInt32(3), default: 0)
        try b.add(Field.Model.operator_codes, codeVector)
        try b.add(Field.Model.subgraphs, subgraphs)
        try b.add(Field.Model.buffers, buffers)
        let model = try b.endTable()
        return Data(try b.finish(root: model, fileIdentifier: "TFL3"))
    }

    func file() throws -> TFLiteFile { try TFLiteFile(data: try bytes(), path: "tiny.tflite") }
}
