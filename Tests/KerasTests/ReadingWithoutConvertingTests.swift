import Foundation
import JSON
import TestSupport
import Testing
@testable import Keras

/// Reading never depends on converting: layers keraslite cannot lower are read (class, stored
/// weights, parameters), listed as blockers, and only conversion refuses the model — naming every one.
@Suite struct ReadingWithoutConvertingTests {
    @Test func aCustomLayerIsReadWithItsWeights() throws {
        let model = try KerasFile.load(path: Fixtures.sample("bad/custom_layer.h5"))
        #expect(model.blockers.map(\.layer) == ["dense_b"])
        #expect(model.blockers.map(\.className) == ["FancyCustomLayer"])
        let custom = try #require(model.layers.first { $0.name == "dense_b" })
        #expect(!custom.isConvertible && custom.blocker?.contains("custom object 'FancyCustomLayer'") == true)
        #expect(custom.weights.map(\.shape) == [[3, 2], [2]])
        #expect(model.params == 15 + 8)
        #expect(model.layers.first { $0.name == "dense_a" }?.isConvertible == true)
        #expect(!model.hasKnownShape(model.graph.outputs[0]))
        do {
            try model.requireConvertible()
            Issue.record("a model with a custom layer passed requireConvertible")
        } catch let error as KerasError {
            guard case .notConvertible(let file, let blockers) = error else { Issue.record("\(error)"); return }
            #expect(file.hasSuffix("custom_layer.h5") && blockers.count == 1)
            #expect(error.description.contains("1 FancyCustomLayer ('dense_b')"))
        }
    }

    @Test func everyBlockerIsListedInOneLine() throws {
        let config = #"""
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 10, 4], "name": "in"}},
          {"class_name": "LocallyConnected1D", "config": {"name": "local_a", "filters": 3, "kernel_size": 2}},
          {"class_name": "LocallyConnected1D", "config": {"name": "local_b", "filters": 3, "kernel_size": 2}},
          {"class_name": "Lambda", "config": {"name": "twice", "function": ["", null, null], "function_type": "lambda"}},
          {"class_name": "Dense", "config": {"name": "head", "units": 2}}]}}
        """#
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-\(UUID().uuidString).json")
        try Data(config.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        // Its weights file has none of these layers: the blocked ones list no weights, the Dense
        // after them is matched like any Dense (no stored weights → a weights blocker of its own).
        let model = try KerasFile.load(path: Samples.emptyWeights, configPath: url.path)
        #expect(model.blockers.map(\.className) == ["LocallyConnected1D", "LocallyConnected1D", "Lambda", "Dense"])
        let message = KerasError.notConvertible(file: "m.h5", blockers: model.blockers).description
        #expect(message.hasPrefix("m.h5: cannot convert: 4 layers keraslite cannot lower — 2 LocallyConnected1D ('local_a', 'local_b'), 1 Lambda ('twice'), 1 Dense ('head')"))
        #expect(message.contains("; first: layer 'local_a' has class 'LocallyConnected1D'"))
        #expect(!message.contains("\n"))
        #expect(model.layers.allSatisfy { $0.className == "InputLayer" || $0.outputShapes.isEmpty })
    }

    @Test func aWeightsOnlyFileListsItsStoredWeightsPerGroup() throws {
        let model = try KerasFile.load(path: Fixtures.sample("digits_mlp_k2.weights.h5"))
        #expect(model.layers.map(\.name) == ["dense", "dense_1"])
        #expect(model.layers.map { $0.weights.map(\.shape) } == [[[64, 32], [32]], [[32, 10], [10]]])
        #expect(model.params == 2_410)
        #expect(model.blockers.count == 1)
        #expect(throws: KerasError.self) { try model.requireConvertible() }
        do { try model.requireConvertible() } catch {
            #expect("\(error)".hasSuffix("not a Keras model file: holds weights only (no model_config); give the architecture JSON with --config"))
        }
        // With its config it converts as before.
        let full = try KerasFile.load(path: Fixtures.sample("digits_mlp_k2.weights.h5"), configPath: Fixtures.sample("digits_mlp_k2.json"))
        #expect(full.isConvertible && full.params == 2_410)
    }
}

/// A Keras 2 HDF5 weights file with no layers: every layer of a config given with it has no weights.
enum Samples {
    static let emptyWeights: String = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keraslite-empty-weights.h5")
        if !FileManager.default.fileExists(atPath: url.path) {
            try? FileManager.default.copyItem(atPath: Fixtures.sample("bad/no_model_config.h5"), toPath: url.path)
        }
        return url.path
    }()
}

/// Call-time options that change a layer's result are found in both node dialects.
@Suite struct CallArgumentTests {
    @Test func unloweredCallArgumentsAreFound() throws {
        let keras3 = try JSON.parse(#"{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {"use_causal_mask": true, "training": false}}"#)
        #expect(ModelBuilder.unloweredCallArgument(keras3) == "use_causal_mask")
        let plain = try JSON.parse(#"{"args": [], "kwargs": {"use_causal_mask": false, "mask": null, "training": false}}"#)
        #expect(ModelBuilder.unloweredCallArgument(plain) == nil)
        let keras2 = try JSON.parse(#"[["x", 0, 0, {"mask": ["m", 0, 0]}]]"#)
        #expect(ModelBuilder.unloweredCallArgument(keras2) == "mask")
        #expect(ModelBuilder.unloweredCallArgument(try JSON.parse(#"[["x", 0, 0, {}]]"#)) == nil)
    }
}

/// Keras 2.0's numpy-valued options, and layers whose own config cannot be read.
@Suite struct LayerConfigDialectTests {
    @Test func keras20NdarrayValuesReadAsTheirValue() throws {
        let config = LayerConfig(values: ["alpha": try JSON.parse(#"{"type": "ndarray", "value": 0.30000001192092896}"#)],
                                 layer: "leaky", className: "LeakyReLU", file: "m.h5")
        #expect(try config.float("alpha") == Float(0.30000001192092896))
    }

    @Test func aLayerWhoseConfigCannotBeReadIsABlockerNotAReadFailure() throws {
        let text = #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 64, 64, 1], "name": "in"}}, {"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 8, "kernel_size": [3, 3], "strides": "wide", "use_bias": false}}]}}"#
        let model = try UnsupportedContentTests().read(config: text)
        #expect(model.blockers.map(\.layer) == ["conv2d_1"])
        #expect(model.blockers.first?.reason.contains("'strides' is not 2 integers") == true)
    }
}
