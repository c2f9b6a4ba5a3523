import Testing
@testable import GraphIR

/// Shape inference against the output-size formulas in Keras' documentation
/// (valid: ⌊(n − (k−1)·d − 1)/s⌋ + 1, same: ⌈n/s⌉) computed by hand for each case.
@Suite struct ShapeInferenceTests {
    func constant(_ name: String, _ shape: [Int]) -> Tensor {
        Tensor(name: name, shape: shape, constant: ConstantData(values: Array(repeating: 0, count: shape.reduce(1, *))))
    }

    func output(_ kind: OpKind, _ inputs: [Tensor], _ attributes: Attributes = [:]) throws -> Shape {
        let graph = Graph(name: "g")
        return try graph.append(Op(name: "op", kind: kind, inputs: inputs, attributes: attributes))[0].shape
    }

    @Test func conv2dValidAndSame() throws {
        let x = Tensor(name: "x", shape: [nil, 64, 64, 1])
        let w = constant("w", [3, 3, 1, 8])
        #expect(try output(.conv2d, [x, w], ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("valid")]) == [nil, 62, 62, 8])
        #expect(try output(.conv2d, [x, w], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("same")]) == [nil, 32, 32, 8])
        // 7×7 stride 2 valid on 38 (ResNet stem after ZeroPadding2D(3) on 32): ⌊(38−7)/2⌋+1 = 16
        let stem = Tensor(name: "s", shape: [1, 38, 38, 3])
        #expect(try output(.conv2d, [stem, constant("k", [7, 7, 3, 16])], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("valid")]) == [1, 16, 16, 16])
        // dilation 2, k=3 valid on 10: ⌊(10−5)/1⌋+1 = 6
        #expect(try output(.conv2d, [Tensor(name: "d", shape: [1, 10, 10, 1]), w], ["strides": .ints([1, 1]), "dilations": .ints([2, 2]), "padding": .string("valid")]) == [1, 6, 6, 8])
    }

    @Test func conv2dRejectsChannelMismatch() {
        let x = Tensor(name: "x", shape: [nil, 8, 8, 3])
        #expect(throws: GraphError.self) {
            try output(.conv2d, [x, constant("w", [3, 3, 4, 8])], ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same")])
        }
    }

    @Test func depthwiseMultipliesChannels() throws {
        let x = Tensor(name: "x", shape: [nil, 15, 15, 8])
        #expect(try output(.depthwiseConv2d, [x, constant("w", [3, 3, 8, 2])], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("same")]) == [nil, 8, 8, 16])
    }

    @Test func transposeConvFollowsDeconvLength() throws {
        let x = Tensor(name: "x", shape: [nil, 7, 7, 4])
        let w = constant("w", [3, 3, 2, 4])  // H W out in
        // same: n·s = 14; valid: n·s + max(k − s, 0) = 15
        #expect(try output(.transposeConv2d, [x, w], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("same")]) == [nil, 14, 14, 2])
        #expect(try output(.transposeConv2d, [x, w], ["strides": .ints([2, 2]), "dilations": .ints([1, 1]), "padding": .string("valid")]) == [nil, 15, 15, 2])
    }

    @Test func fullyConnectedOnRank3() throws {
        let x = Tensor(name: "x", shape: [nil, 5, 16])
        #expect(try output(.fullyConnected, [x, constant("k", [16, 4])]) == [nil, 5, 4])
    }

    @Test func poolingAndGlobalPooling() throws {
        let x = Tensor(name: "x", shape: [nil, 60, 60, 16])
        #expect(try output(.maxPool2d, [x], ["pool_size": .ints([3, 3]), "strides": .ints([2, 2]), "padding": .string("same")]) == [nil, 30, 30, 16])
        #expect(try output(.avgPool2d, [x], ["pool_size": .ints([3, 3]), "strides": .ints([2, 2]), "padding": .string("valid")]) == [nil, 29, 29, 16])
        #expect(try output(.globalAvgPool, [x], ["keepdims": .bool(false)]) == [nil, 16])
        #expect(try output(.globalMaxPool, [x], ["keepdims": .bool(true)]) == [nil, 1, 1, 16])
        let sequence = Tensor(name: "s", shape: [nil, 10, 4])
        #expect(try output(.maxPool1d, [sequence], ["pool_size": .ints([2]), "strides": .ints([2]), "padding": .string("valid")]) == [nil, 5, 4])
    }

    @Test func reshapeTransposePadSliceResize() throws {
        let x = Tensor(name: "x", shape: [nil, 4, 4, 8])
        #expect(try output(.reshape, [x], ["shape": .ints([-1])]) == [nil, 128])
        #expect(try output(.reshape, [x], ["shape": .ints([16, -1])]) == [nil, 16, 8])
        #expect(throws: GraphError.self) { try output(.reshape, [x], ["shape": .ints([3, 5])]) }
        #expect(try output(.transpose, [x], ["perm": .ints([0, 3, 1, 2])]) == [nil, 8, 4, 4])
        #expect(try output(.pad, [x], ["paddings": .ints([0, 0, 3, 3, 1, 2, 0, 0])]) == [nil, 10, 7, 8])
        #expect(try output(.slice, [x], ["begin": .ints([0, 1, 1, 0]), "size": .ints([-1, 2, 3, -1])]) == [nil, 2, 3, 8])
        #expect(try output(.resize, [x], ["scale": .ints([2, 3]), "method": .string("nearest")]) == [nil, 8, 12, 8])
        #expect(try output(.repeatVector, [Tensor(name: "v", shape: [nil, 6])], ["n": .int(3)]) == [nil, 3, 6])
    }

    @Test func elementwiseBroadcastAndConcat() throws {
        let a = Tensor(name: "a", shape: [nil, 4, 4, 8]), b = Tensor(name: "b", shape: [nil, 1, 1, 8])
        #expect(try output(.multiply, [a, b]) == [nil, 4, 4, 8])
        #expect(throws: GraphError.self) { try output(.add, [a, Tensor(name: "c", shape: [nil, 4, 4, 3])]) }
        #expect(try output(.concatenate, [a, Tensor(name: "c", shape: [nil, 4, 4, 3])], ["axis": .int(-1)]) == [nil, 4, 4, 11])
    }

    @Test func activationRejectsUnknownFunction() throws {
        let x = Tensor(name: "x", shape: [nil, 3])
        #expect(try output(.activation, [x], ["function": .string("hard_sigmoid_keras2")]) == [nil, 3])
        #expect(throws: GraphError.self) { try output(.activation, [x], ["function": .string("wiggle")]) }
    }

    @Test func everyOpKindHasASchema() {
        for kind in OpKind.allCases { _ = OpSchema.of(kind) }
    }
}
