extension Graph {
    /// The stable text form used by golden tests and docs:
    ///
    ///     graph digits_cnn
    ///       input  input_layer: f32[?,8,8,1]
    ///       const  conv2d/kernel: f32[3,3,1,16]
    ///       %conv2d = conv2d(input_layer, conv2d/kernel, conv2d/bias) {dilations=[1,1], padding=same, strides=[1,1]} : f32[?,8,8,16]
    ///       output dense_1
    ///
    /// Attributes print sorted by name; constants print in first-use order; nothing depends on
    /// hashing or addresses, so equal graphs print equal text.
    public func printed() -> String {
        var lines = ["graph \(name)"]
        for key in metadata.keys.sorted() { lines.append("  meta   \(key) = \(metadata[key]!)") }
        for input in inputs { lines.append("  input  \(input.name): \(typeText(input))") }
        for constant in constants { lines.append("  const  \(constant.name): \(typeText(constant))") }
        for op in ops {
            let attributes = op.attributes.sortedNames.map { "\($0)=\(op.attributes[$0]!)" }
            let attributeText = attributes.isEmpty ? "" : " {" + attributes.joined(separator: ", ") + "}"
            let results = op.outputs.map { "%" + $0.name }.joined(separator: ", ")
            let types = op.outputs.map(typeText).joined(separator: ", ")
            lines.append("  \(results) = \(op.kind.rawValue)(\(op.inputs.map(\.name).joined(separator: ", ")))\(attributeText) : \(types)")
        }
        for output in outputs { lines.append("  output \(output.name)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func typeText(_ tensor: Tensor) -> String {
        var text = tensor.dtype.shortName + tensor.shape.text
        if let quantization = tensor.quantization {
            let axis = quantization.axis.map { " axis=\($0)" } ?? ""
            text += " q(\(quantization.scales.count) scales\(axis))"
        }
        return text
    }
}
