import HTML
import Keras
import TFLiteReports

extension SparsityReport {
    /// Reads every weight of `model` once.
    public init(model: KerasModel, threshold: Float) throws {
        var sources: [Source] = []
        func visit(_ layer: KerasLayer) {
            for weight in layer.weights {
                let half = weight.storedType == "float16"
                sources.append(Source(name: weight.name, layer: layer.name, shape: weight.shape,
                                      values: { try weight.data.valuesWithoutCaching() },
                                      stored: { values, limit in SparsityReport.floatBytes(values, half: half, zeroingBelow: limit) }))
            }
            layer.sublayers.forEach(visit)
        }
        model.layers.forEach(visit)
        try self.init(path: model.path, threshold: threshold, sources: sources)
    }
}
