import FlatBuffers
import Foundation

extension TFLiteFile {
    /// A lowered model seen as the file it would serialize to, without serializing it: tensors,
    /// operators, signature and metadata are taken from the model as they are now (later rewrites
    /// of the model do not show), each operator's options are built as a small FlatBuffer table of
    /// their own, and constants are produced from the model's buffers when read. Calibration runs
    /// the float model this way, so its weights are never copied into a serialized file.
    init(model: TFLiteModel, path: String) throws {
        self.path = path
        version = 3
        description = model.description
        let buffers = model.buffers
        bufferStorage = .model(buffers)
        bufferBytes = buffers.reduce(0) { $0 + $1.byteCount }
        sizeBytes = bufferBytes
        let tensors = model.tensors.enumerated().map { index, tensor in
            TensorInfo(index: index, name: tensor.name, shape: tensor.shape.map(Int.init), shapeSignature: tensor.shapeSignature?.map(Int.init),
                       type: "\(tensor.type)".lowercased(), elementBytes: tensor.type.byteWidth, buffer: Int(tensor.buffer),
                       dataBytes: buffers.indices.contains(Int(tensor.buffer)) ? buffers[Int(tensor.buffer)].byteCount : 0,
                       quantization: tensor.quantization.map {
                           Quantization(scales: $0.scales, zeroPoints: $0.zeroPoints, quantizedDimension: $0.axis)
                       },
                       isVariable: tensor.isVariable, sparsity: nil)
        }
        var operators: [OperatorInfo] = []
        for (index, op) in model.operators.enumerated() {
            let (code, opVersion) = model.operatorCodes[Int(op.opcodeIndex)]
            var optionsType: String?
            var optionsTable: FlatBufferReader.Table?
            if let build = op.options {
                var builder = FlatBufferBuilder(initialCapacity: 128)
                let root = try build(&builder)
                optionsTable = try FlatBufferReader(bytes: try builder.finish(root: root)).root()
                optionsType = op.optionsType == .NONE ? nil : "\(op.optionsType)"
            }
            operators.append(OperatorInfo(index: index, name: "\(code)", isCustom: false, version: Int(opVersion),
                                          inputs: op.inputs.map(Int.init), outputs: op.outputs.map(Int.init), optionsType: optionsType,
                                          options: try OptionsDecoder.decode(optionsType, optionsTable), optionsTable: optionsTable))
        }
        subgraphs = [SubgraphInfo(name: "main", tensors: tensors, operators: operators,
                                  inputs: model.inputs.map(Int.init), outputs: model.outputs.map(Int.init))]
        signatures = [SignatureInfo(key: "serving_default", subgraph: 0,
                                    inputs: model.signatureInputs.map { ($0.name, Int($0.tensor)) },
                                    outputs: model.signatureOutputs.map { ($0.name, Int($0.tensor)) })]
        metadata = [("min_runtime_version", 16)]
        minRuntimeVersion = model.minRuntimeVersion
    }
}
