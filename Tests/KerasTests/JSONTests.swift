@testable import JSON
@testable import Keras
import Testing

@Suite struct JSONTests {
    @Test func parsesWhatPythonJSONWrites() throws {
        let json = try JSON.parse(#"{"a": [1, 2.5, -3e2, true, false, null], "b": "x\"y\u00e9\ud83d\ude00", "c": NaN, "d": -Infinity}"#)
        #expect(json["a"]?.array?.count == 6)
        #expect(json["a"]?.array?[2].double == -300)
        #expect(json["a"]?.array?[3].bool == true)
        #expect(json["a"]?.array?[5].isNull == true)
        #expect(json["b"]?.string == "x\"yé😀")
        #expect(json["c"]?.double?.isNaN == true)
        #expect(json["d"]?.double == -.infinity)
    }

    @Test func rejectsMalformedTextWithAnOffset() {
        for text in [#"{"class_name": "Sequential", "config": {"#, "[1, 2", #"{"a" 1}"#, "tru", "{} extra", ""] {
            #expect(throws: JSONError.self, "\(text)") { try JSON.parse(text) }
        }
        #expect(throws: JSONError.self) { try JSON.parse(String(repeating: "[", count: 10_000)) }
    }

    /// A high surrogate followed by a non-surrogate escape once underflowed (`low - 0xDC00`) and trapped.
    @Test func loneHighSurrogateBecomesReplacementCharacter() throws {
        #expect(try JSON.parse(#""a\ud800\u0041b""#).string == "a\u{FFFD}b")
        #expect(try JSON.parse(#""\ud83d\ude00""#).string == "😀")
    }

    @Test func serializesWithSortedKeysAndRoundTrips() throws {
        let value: JSON = ["b": [1, 2], "a": ["x": "y\n"], "c": nil, "d": 0.25]
        #expect(value.serialized(pretty: false) == #"{"a":{"x":"y\n"},"b":[1,2],"c":null,"d":0.25}"#)
        #expect(try JSON.parse(value.serialized()) == value)
    }
}

@Suite struct SavedNameTests {
    /// Expected names from keras.src.utils.naming.to_snake_case (Keras 3.15).
    @Test func matchesKerasSnakeCase() {
        let expected: [(String, String)] = [
            ("Conv2D", "conv2d"), ("BatchNormalization", "batch_normalization"), ("DepthwiseConv2D", "depthwise_conv2d"),
            ("ReLU", "re_lu"), ("GlobalAveragePooling2D", "global_average_pooling2d"), ("ZeroPadding2D", "zero_padding2d"),
            ("InputLayer", "input_layer"), ("Functional", "functional"), ("Sequential", "sequential"), ("PReLU", "p_re_lu"),
            ("Conv2DTranspose", "conv2d_transpose"), ("SeparableConv2D", "separable_conv2d"), ("UpSampling2D", "up_sampling2d"),
            ("ELU", "elu"), ("LeakyReLU", "leaky_re_lu"), ("MaxPooling2D", "max_pooling2d"),
        ]
        for (className, name) in expected { #expect(LayerPath.snakeCase(className) == name, "\(className)") }
    }

    @Test func numbersRepeatsPerContainer() {
        #expect(LayerPath.savedNames(classNames: ["InputLayer", "Dense", "Dense", "ReLU", "Dense"])
                == ["input_layer", "dense", "dense_1", "re_lu", "dense_2"])
    }
}
