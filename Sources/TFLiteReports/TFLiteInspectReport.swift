import HTML
import JSON
import TFLite

/// What `keraslite inspect model.tflite` reports: operators in execution order with options and
/// tensors, per-op MACs, totals by op and by dtype, size breakdown, an activation-memory estimate,
/// signature defs, runtime version and warnings. Reads no weight bytes.
public struct TFLiteInspectReport {
    public let file: TFLiteFile

    public init(file: TFLiteFile) { self.file = file }

    package var main: TFLiteFile.SubgraphInfo? { file.subgraphs.first }

    /// Elements of constant weight tensors in the main subgraph (integer constants without
    /// quantization — shapes, axes, permutations — are not weights).
    public var params: Int { weightTensors.reduce(0) { saturatingAdd($0, $1.elementCount) } }

    package var weightTensors: [TFLiteFile.TensorInfo] {
        (main?.tensors ?? []).filter { $0.isConstant && ($0.quantization != nil || !["int32", "int64"].contains($0.type)) }
    }

    public var opCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for op in main?.operators ?? [] { counts[op.name, default: 0] += 1 }
        return counts
    }

    /// Multiply-accumulates of an operator, for the ops where the count is standard.
    public func macs(_ op: TFLiteFile.OperatorInfo, in subgraph: TFLiteFile.SubgraphInfo) -> Int? {
        func shape(_ index: Int) -> [Int]? { subgraph.tensors.indices.contains(index) ? subgraph.tensors[index].shape : nil }
        guard let output = op.outputs.first.flatMap(shape) else { return nil }
        // Shapes come from the file: a product that overflows is "not known", never a trap.
        switch op.name {
        case "CONV_2D":  // weights O×H×W×I
            guard op.inputs.count > 1, let filter = shape(op.inputs[1]), filter.count == 4 else { return nil }
            return TFLiteFile.elementCount(output + filter[1...3])
        case "DEPTHWISE_CONV_2D":  // weights 1×H×W×C
            guard op.inputs.count > 1, let filter = shape(op.inputs[1]), filter.count == 4 else { return nil }
            return TFLiteFile.elementCount(output + filter[1...2])
        case "FULLY_CONNECTED":  // weights O×I
            guard op.inputs.count > 1, let weights = shape(op.inputs[1]), weights.count == 2 else { return nil }
            return TFLiteFile.elementCount(output + [weights[1]])
        case "TRANSPOSE_CONV":  // weights O×H×W×I, input N×h×w×I
            guard op.inputs.count > 2, let weights = shape(op.inputs[1]), let input = shape(op.inputs[2]), weights.count == 4 else { return nil }
            return TFLiteFile.elementCount(input + weights[0...2])
        case "CONV_3D":  // weights D×H×W×I×O
            guard op.inputs.count > 1, let filter = shape(op.inputs[1]), filter.count == 5 else { return nil }
            return TFLiteFile.elementCount(output + filter[0...3])
        case "CONV_3D_TRANSPOSE":  // weights D×H×W×O×I, input N×d×h×w×I
            guard op.inputs.count > 2, let weights = shape(op.inputs[1]), let input = shape(op.inputs[2]), weights.count == 5 else { return nil }
            return TFLiteFile.elementCount(input + weights[0...3])
        case "UNIDIRECTIONAL_SEQUENCE_LSTM":  // output N×T×U; four gates of input weights U×F and recurrent weights U×U
            guard op.inputs.count > 5, let input = shape(op.inputs[1]), let recurrent = shape(op.inputs[5]),
                  input.count == 2, recurrent.count == 2 else { return nil }
            return TFLiteFile.elementCount(output + [4, input[1] + recurrent[1]])
        default: return nil
        }
    }

    /// Peak bytes of activation tensors alive at once when the ops run in order (each tensor lives
    /// from its producer to its last reader; inputs from the start, outputs to the end).
    public func peakActivationBytes(_ subgraph: TFLiteFile.SubgraphInfo) -> Int {
        let count = subgraph.operators.count
        var first = [Int: Int](), last = [Int: Int]()
        for index in subgraph.inputs where index >= 0 { first[index] = 0; last[index] = 0 }
        for op in subgraph.operators {
            for index in op.outputs where index >= 0 && !subgraph.tensors[index].isConstant { first[index] = first[index] ?? op.index; last[index] = max(last[index] ?? op.index, op.index) }
            for index in op.inputs where index >= 0 && !subgraph.tensors[index].isConstant { last[index] = max(last[index] ?? op.index, op.index) }
        }
        for index in subgraph.outputs where index >= 0 { last[index] = count }
        // One sweep over the steps: a tensor adds its bytes where it starts and takes them off
        // after its last step (steps × tensors would hang on a hostile file's 10^5 of each).
        var delta = [Int](repeating: 0, count: count + 2)
        var total = 0
        for (index, start) in first {
            let tensor = subgraph.tensors[index]
            let bytes = saturatingMultiply(tensor.elementCount, tensor.elementBytes)
            total = saturatingAdd(total, bytes)
            guard total < Int.max else { return Int.max }  // no partial sum can overflow below this
            delta[start] += bytes
            delta[max(last[index] ?? start, start) + 1] -= bytes
        }
        var peak = 0, live = 0
        for step in 0...count {
            live += delta[step]
            peak = max(peak, live)
        }
        return peak
    }

    public var warnings: [String] {
        var result: [String] = []
        let custom = Set((main?.operators ?? []).filter(\.isCustom).map(\.name)).sorted()
        if !custom.isEmpty {
            result.append("custom or Flex operators \(custom.joined(separator: ", ")): the runtime needs their kernels linked in")
        }
        let halfWeights = (main?.tensors ?? []).filter { $0.isConstant && $0.type == "float16" }
        if !halfWeights.isEmpty, opCounts["DEQUANTIZE"] != nil {
            result.append("\(halfWeights.count) float16 weight tensors are dequantized to float32 at start-up: half the file size, no faster on CPU")
        }
        if main?.tensors.contains(where: \.isSparse) == true {
            result.append("sparse tensors: only some kernels and delegates run them sparse")
        }
        return result
    }
}

extension TFLiteInspectReport {
    private func quantizationJSON(_ quantization: TFLiteFile.Quantization?) -> JSON {
        guard let quantization else { return .null }
        var object: [String: JSON] = ["count": .number(Double(quantization.scales.count))]
        if quantization.scales.count == 1 {
            object["scale"] = .number(Double(quantization.scales[0]))
            object["zero_point"] = .number(Double(quantization.zeroPoints.first ?? 0))
        } else {
            object["axis"] = .number(Double(quantization.quantizedDimension))
        }
        return .object(object)
    }

    private func subgraphJSON(_ subgraph: TFLiteFile.SubgraphInfo) -> [String: JSON] {
        [
            "operators": .array(subgraph.operators.map { op in
                var object: [String: JSON] = [
                    "index": .number(Double(op.index)), "op": .string(op.name), "version": .number(Double(op.version)),
                    "inputs": .array(op.inputs.map { .number(Double($0)) }), "outputs": .array(op.outputs.map { .number(Double($0)) }),
                    "options": .object(Dictionary(op.options.map { ($0.0, JSON.string($0.1)) }, uniquingKeysWith: { $1 })),
                ]
                if let macs = macs(op, in: subgraph) { object["macs"] = .number(Double(macs)) }
                return .object(object)
            }),
            "tensors": .array(subgraph.tensors.map { tensor in
                var object: [String: JSON] = [
                    "index": .number(Double(tensor.index)), "name": .string(tensor.name),
                    "shape": .array(tensor.shape.map { .number(Double($0)) }), "dtype": .string(tensor.type),
                    "bytes": .number(Double(tensor.dataBytes)), "quantization": quantizationJSON(tensor.quantization),
                ]
                if let signature = tensor.shapeSignature { object["shape_signature"] = .array(signature.map { .number(Double($0)) }) }
                return .object(object)
            }),
            "inputs": .array(subgraph.inputs.map { .number(Double($0)) }),
            "outputs": .array(subgraph.outputs.map { .number(Double($0)) }),
            "peak_activation_bytes": .number(Double(peakActivationBytes(subgraph))),
        ]
    }

    package var metadataBytes: Int { file.metadata.reduce(0) { saturatingAdd($0, $1.bytes) } }
    /// Buffer bytes that are not metadata (never negative: metadata entries may share a buffer).
    package var weightBytes: Int { max(file.bufferBytes - metadataBytes, 0) }
    /// Bytes of the FlatBuffer itself (never negative: buffers may overlap).
    package var graphBytes: Int { max(file.sizeBytes - file.bufferBytes, 0) }

    package func totalMACs(_ subgraph: TFLiteFile.SubgraphInfo) -> Int {
        subgraph.operators.compactMap { macs($0, in: subgraph) }.reduce(0, saturatingAdd)
    }

    /// The `--json` form; keys documented in docs/json.md and stable.
    public var json: JSON {
        var object: [String: JSON] = [
            "file": .string(file.path), "format": "tflite", "size_bytes": .number(Double(file.sizeBytes)),
            "schema_version": .number(Double(file.version)), "description": file.description.map(JSON.string) ?? .null,
            "min_runtime_version": file.minRuntimeVersion.map(JSON.string) ?? .null,
            "params": .number(Double(params)),
            "op_counts": .object(opCounts.mapValues { .number(Double($0)) }),
            "size": ["weights": .number(Double(weightBytes)), "metadata": .number(Double(metadataBytes)),
                     "graph": .number(Double(graphBytes))],
            "signatures": .array(file.signatures.map { signature in
                ["key": .string(signature.key), "subgraph": .number(Double(signature.subgraph)),
                 "inputs": .array(signature.inputs.map { ["name": .string($0.name), "tensor": .number(Double($0.tensor))] }),
                 "outputs": .array(signature.outputs.map { ["name": .string($0.name), "tensor": .number(Double($0.tensor))] })]
            }),
            "warnings": .array(warnings.map(JSON.string)),
            "macs": .number(Double(main.map(totalMACs) ?? 0)),
        ]
        if let main { object.merge(subgraphJSON(main)) { $1 } }
        if file.subgraphs.count > 1 {
            object["subgraphs"] = .array(file.subgraphs.dropFirst().map { subgraph in
                var json = subgraphJSON(subgraph)
                json["name"] = .string(subgraph.name)
                return .object(json)
            })
        }
        return .object(object)
    }

    /// The terminal report.
    public func text() -> String {
        var lines: [String] = []
        let runtime = file.minRuntimeVersion.map { ", needs TFLite runtime ≥ \($0)" } ?? ""
        lines.append("\(file.path): tflite (schema \(file.version)), \(formatBytes(file.sizeBytes))\(runtime)")
        if let description = file.description { lines.append("  written by: \(description)") }
        guard let main else { return lines.joined(separator: "\n") + "\n" }
        func tensorText(_ index: Int) -> String {
            guard index >= 0 else { return "-" }
            let tensor = main.tensors[index]
            var text = "\(tensor.name) \(tensor.type)[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
            if let quantization = tensor.quantization {
                text += quantization.scales.count == 1
                    ? " q(s=\(quantization.scales[0]), z=\(quantization.zeroPoints.first ?? 0))"
                    : " q(\(quantization.scales.count) ch, axis \(quantization.quantizedDimension))"
            }
            return text
        }
        for signature in file.signatures {
            lines.append("  signature \(signature.key): (" + signature.inputs.map(\.name).joined(separator: ", ") + ") → ("
                         + signature.outputs.map(\.name).joined(separator: ", ") + ")")
        }
        for index in main.inputs { lines.append("  input  \(tensorText(index))") }
        for index in main.outputs { lines.append("  output \(tensorText(index))") }
        lines.append("")
        var rows: [[String]] = [["#", "op", "options", "output", "weights", "MACs"]]
        for op in main.operators {
            let weights = op.inputs.filter { $0 >= 0 && main.tensors[$0].isConstant }.reduce(0) { saturatingAdd($0, main.tensors[$1].dataBytes) }
            let options = op.options.filter { !($0.0 == "activation" && $0.1 == "NONE") }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            rows.append([String(op.index), op.name, options, op.outputs.first.map(tensorText) ?? "-",
                         weights > 0 ? formatBytes(weights) : "", macs(op, in: main).map(formatCount) ?? ""])
        }
        lines += renderTable(rows, rightAligned: [0, 4, 5])
        lines.append("")
        let counts = opCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        lines.append("ops: \(main.operators.count) (" + counts.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
        var byType: [String: (count: Int, bytes: Int)] = [:]
        for tensor in weightTensors {
            let sum = byType[tensor.type, default: (0, 0)]
            byType[tensor.type] = (saturatingAdd(sum.count, tensor.elementCount), saturatingAdd(sum.bytes, tensor.dataBytes))
        }
        lines.append("weights: \(formatCount(params)) params, " + byType.sorted { $0.key < $1.key }
            .map { "\($0.key) \(formatCount($0.value.count)) (\(formatBytes($0.value.bytes)))" }.joined(separator: ", "))
        lines.append("size: weights \(formatBytes(weightBytes)), graph \(formatBytes(graphBytes)), metadata \(formatBytes(metadataBytes))")
        lines.append("compute: \(formatCount(totalMACs(main))) MACs; peak activation memory ≈ \(formatBytes(peakActivationBytes(main)))")
        if file.subgraphs.count > 1 { lines.append("subgraphs: \(file.subgraphs.count) (the first is shown)") }
        for warning in warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `a + b`, or `Int.max` when that overflows: totals over a hostile file's tensors stay finite.
package func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? Int.max : Int.min) : sum
}

/// `a × b`, or `Int.max` when that overflows (arguments are sizes: never negative).
package func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}
