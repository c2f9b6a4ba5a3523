import Foundation
import Files
import HTML
import TFLite

extension SparsityReport {
    /// Sparsity of a `.tflite` file's weight tensors (main subgraph). Quantized weights are
    /// dequantized per tensor or per channel; a quantized weight is zero when it equals its zero point.
    public init(tflite file: TFLiteFile, threshold: Float) throws {
        self = try FileError.naming(file.path) { try SparsityReport(reading: file, threshold: threshold) }
    }

    private init(reading file: TFLiteFile, threshold: Float) throws {
        let report = TFLiteInspectReport(file: file)
        var sources: [Source] = []
        // Tensors may share buffers, and a sparse tensor expands to its dense shape: cap the
        // values decoded in all, so that a small hostile file cannot demand unbounded time or memory.
        let limit = Self.valueLimit(fileSize: file.sizeBytes)
        var decoded = 0
        for tensor in report.weightTensors {
            guard let data = file.bufferData(tensor.buffer), let decoder = TFLiteTensorDecoder(tensor: tensor) else { continue }
            decoded = saturatingAdd(decoded, decoder.valueCount(data))
            guard decoded <= limit else {
                throw TFLiteError.invalid(
                    "the weights would decode to more than \(limit) values, 16 per byte of the file (at tensor \(tensor.index): "
                    + "buffers shared by many tensors, or a sparse tensor far larger than its stored values)")
            }
            sources.append(Source(name: tensor.name, layer: tensor.name, shape: tensor.shape,
                                  values: { try decoder.values(data) },
                                  stored: { values, limit in Self.stored(decoder, data, values: values, zeroingBelow: limit) }))
        }
        try self.init(path: file.path, threshold: threshold, sources: sources)
    }

    /// Values the weights of a `fileSize`-byte file may decode to: 16 per byte plus 2^20.
    package static func valueLimit(fileSize: Int) -> Int { saturatingAdd(saturatingMultiply(max(fileSize, 0), 16), 1 << 20) }

    /// A weight's bytes as stored; with `limit`, the values with |w| ≤ it stored as zero (the
    /// zero point for quantized tensors). Sparse tensors keep their bytes.
    package static func stored(_ decoder: TFLiteTensorDecoder, _ data: Data, values: [Float], zeroingBelow limit: Float?) -> [UInt8] {
        let tensor = decoder.tensor
        guard let limit, tensor.sparsity == nil else { return Array(data) }
        switch tensor.type {
        case "float32": return SparsityReport.floatBytes(values, half: false, zeroingBelow: limit)
        case "float16": return SparsityReport.floatBytes(values, half: true, zeroingBelow: limit)
        default:
            var bytes = Array(data)
            let width = tensor.elementBytes
            for (index, value) in values.enumerated() where abs(value) <= limit {
                var zeroPoint = decoder.parameters(index).zeroPoint.littleEndian
                withUnsafeBytes(of: &zeroPoint) { point in
                    for byte in 0..<width { bytes[index * width + byte] = point[byte] }
                }
            }
            return bytes
        }
    }
}
