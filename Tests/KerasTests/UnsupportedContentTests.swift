import Foundation
import TestSupport
import Testing
@testable import Keras

/// Configs given with `--config` against a real weights file: unsupported content must be an
/// error naming the file, the layer and its class, raised before any weights are needed.
@Suite struct UnsupportedContentTests {
    static let weights = Fixtures.realworld

    /// Reads the model with `config`; the first layer it cannot lower is thrown as its error (reading
    /// itself goes on past such layers — see ReadingWithoutConvertingTests).
    func load(config: String) throws -> KerasModel {
        let model = try read(config: config)
        if let blocker = model.blockers.first { throw blocker.error }
        return model
    }

    func read(config: String) throws -> KerasModel {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-config-\(UUID().uuidString).json")
        try Data(config.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try KerasFile.load(path: Self.weights, configPath: url.path)
    }

    func sequential(_ layer: String) -> String {
        #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}}, "# + layer + "]}}"
    }

    @Test func lambdaLayerIsReportedNotRun() {
        let config = sequential(#"{"class_name": "Lambda", "config": {"name": "twice", "function": ["4wEAAAAAAAAAAQAAAAIAAABDAAAAcwgAAAB8AGQBFABTACkCTukCAAAAqQApAdoBeHIBAAAAcgEAAAD6HjxpcHl0aG9uLWlucHV0LTEtZDhhYjEzNjQ0MzQ4PtoIPGxhbWJkYT4BAAAA8wAAAAA=", null, null], "function_type": "lambda"}}"#)
        do {
            _ = try load(config: config)
            Issue.record("a Lambda layer loaded")
        } catch let error as KerasError {
            guard case .lambdaLayer(_, let layer, let className) = error else { Issue.record("\(error)"); return }
            #expect(layer == "twice")
            #expect(className == "Lambda")
            #expect(error.description.contains("never runs"))
        } catch { Issue.record("\(error)") }
    }

    @Test func unknownLayerIsACustomObject() {
        let config = sequential(#"{"class_name": "FancyCustomLayer", "config": {"name": "fancy"}}"#)
        #expect(throws: KerasError.self) { try load(config: config) }
        do { _ = try load(config: config) } catch {
            #expect("\(error)".contains("'fancy'"))
            #expect("\(error)".contains("FancyCustomLayer"))
        }
    }

    @Test func keras3RegisteredCustomLayer() {
        let config = sequential(#"{"module": null, "class_name": "Dense", "registered_name": "MyPackage>Dense", "config": {"name": "mine", "units": 2}}"#)
        do { _ = try load(config: config); Issue.record("custom layer loaded") } catch let error as KerasError {
            guard case .customObject(_, let layer, let className) = error else { Issue.record("\(error)"); return }
            #expect(layer == "mine")
            #expect(className == "MyPackage>Dense")
        } catch { Issue.record("\(error)") }
    }

    @Test func knownButUnsupportedLayer() {
        let config = sequential(#"{"class_name": "LocallyConnected1D", "config": {"name": "local", "filters": 3, "kernel_size": 2}}"#)
        do { _ = try load(config: config); Issue.record("LocallyConnected1D loaded") } catch let error as KerasError {
            guard case .unsupportedLayer(_, "local", "LocallyConnected1D") = error else { Issue.record("\(error)"); return }
        } catch { Issue.record("\(error)") }
    }

    @Test func customActivationIsNamed() {
        let config = sequential(#"{"class_name": "Activation", "config": {"name": "act", "activation": "my_activation"}}"#)
        do { _ = try load(config: config); Issue.record("custom activation loaded") } catch {
            #expect("\(error)".contains("my_activation"))
            #expect("\(error)".contains("'act'"))
        }
    }

    @Test func malformedConfigs() {
        for text in [#"{"class_name": "Sequential", "config": {"#, #"{"config": {}}"#, #"{"class_name": "Functional", "config": {"name": "f"}}"#,
                     #"{"class_name": "Functional", "config": {"name": "f", "layers": [{"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}], "input_layers": [], "output_layers": [["d", 0, 0]]}}"#] {
            do { _ = try load(config: text); Issue.record("loaded \(text)") } catch let error as KerasError {
                guard case .malformedConfig(let file, _) = error else { Issue.record("\(error)"); continue }
                #expect(file.hasSuffix(".json"))
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func weightsThatDoNotFitAreAnError() {
        // The config says the first layer is a Dense on 4 features; the file's conv2d_1 has other weights.
        let config = sequential(#"{"class_name": "Dense", "config": {"name": "conv2d_1", "units": 8}}"#)
        do { _ = try load(config: config); Issue.record("mismatched weights loaded") } catch let error as KerasError {
            guard case .weights(_, "conv2d_1", _) = error else { Issue.record("\(error)"); return }
        } catch { Issue.record("\(error)") }
    }

    /// Keras ≤ 2.2.2 wrote a Sequential config as the bare list of layers, the input shape on the
    /// first layer; the weights are found by layer name in the 2.0.5 file.
    @Test func keras2BareListSequential() throws {
        let config = #"""
        {"class_name": "Sequential", "keras_version": "2.1.6", "config": [
          {"class_name": "Conv2D", "config": {"name": "conv2d_1", "batch_input_shape": [null, 64, 64, 1], "filters": 8,
            "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "use_bias": false, "activation": "linear"}},
          {"class_name": "BatchNormalization", "config": {"name": "batch_normalization_1", "axis": -1, "epsilon": 0.001}},
          {"class_name": "Activation", "config": {"name": "activation_1", "activation": "hard_sigmoid"}}]}
        """#
        let model = try load(config: config)
        #expect(model.params == 72 + 32)
        #expect(model.graph.inputs.map(\.name) == ["conv2d_1_input"])
        #expect(model.graph.outputs.map(\.shape) == [[nil, 62, 62, 8]])
        // Written by Keras 2: hard_sigmoid keeps Keras 2's meaning.
        #expect(model.graph.ops.last?.attributes["function"] == .string("hard_sigmoid_keras2"))
    }
}
