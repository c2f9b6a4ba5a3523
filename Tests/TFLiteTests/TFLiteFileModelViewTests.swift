import Testing
import Foundation
import Keras
import Passes
import TestSupport
@testable import TFLite

/// `TFLiteFile(model:)` — a lowered model seen as a file without serializing it — reads exactly as
/// the file the model serializes to: tensors, operators and their options, signature, constants.
@Suite struct TFLiteFileModelViewTests {
    func lowered(_ sample: String) throws -> TFLiteModel {
        let keras = try KerasFile.load(path: Fixtures.sample(sample))
        try keras.graph.setBatch(1)
        try PassPipeline.standard.run(on: keras.graph)
        let context = LoweringContext(graph: keras.graph)
        context.model.inputs = keras.graph.inputs.map(context.tensor(for:))
        for op in keras.graph.ops { try LoweringTable.lower(op, in: context) }
        context.model.outputs = keras.graph.outputs.map(context.tensor(for:))
        context.model.signatureInputs = zip(keras.graph.inputs, context.model.inputs).map { ($0.name, $1) }
        context.model.signatureOutputs = zip(keras.graph.modelOutputNames, context.model.outputs).map { ($0, $1) }
        return context.model
    }

    @Test(arguments: ["small_resnet_k2.h5", "multi_io_k3.keras", "seed_mobilenetv2_k3.h5", "digits_cnn_k3.keras"])
    func viewReadsAsTheSerializedFile(sample: String) throws {
        let model = try lowered(sample)
        let view = try TFLiteFile(model: model, path: "view")
        let file = try TFLiteFile(data: Data(try model.serialize()), path: "file")
        let (a, b) = (view.subgraphs[0], file.subgraphs[0])
        #expect(a.inputs == b.inputs && a.outputs == b.outputs)
        #expect(a.tensors.count == b.tensors.count)
        for (x, y) in zip(a.tensors, b.tensors) {
            #expect(x.name == y.name && x.shape == y.shape && x.shapeSignature == y.shapeSignature && x.type == y.type)
            #expect(x.buffer == y.buffer && x.dataBytes == y.dataBytes && x.isConstant == y.isConstant)
            #expect(view.bufferData(x.buffer) == file.bufferData(y.buffer), "constant \(x.name) differs")
        }
        #expect(a.operators.count == b.operators.count)
        for (x, y) in zip(a.operators, b.operators) {
            #expect(x.name == y.name && x.version == y.version && x.inputs == y.inputs && x.outputs == y.outputs)
            #expect(x.optionsType == y.optionsType)
            #expect(x.options.map { "\($0)=\($1)" } == y.options.map { "\($0)=\($1)" })
        }
        #expect(view.signatures.map(\.key) == file.signatures.map(\.key))
        #expect(view.signatures[0].inputs.map(\.name) == file.signatures[0].inputs.map(\.name))
        #expect(view.signatures[0].outputs.map(\.tensor) == file.signatures[0].outputs.map(\.tensor))
    }
}
