import GraphIR
import Testing
@testable import Passes

/// Each pass on a tiny graph: op counts, output names and shapes kept, and the numbers the
/// BatchNormalization formula y = γ(x − μ)/√(σ² + ε) + β gives by hand.
@Suite struct PassesTests {
    func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> Tensor {
        Tensor(name: name, shape: shape, constant: ConstantData(values: values))
    }

    /// x → conv2d (1×1, 1→2 channels, bias) → dropout → batch_norm → relu
    func convBatchNormGraph() throws -> Graph {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 4, 4, 1])
        graph.inputs = [x]
        let conv = try graph.append(Op(name: "conv", kind: .conv2d,
                                       inputs: [x, constant("conv/kernel", [1, 1, 1, 2], [2, 3]), constant("conv/bias", [2], [1, -1])],
                                       attributes: ["strides": .ints([1, 1]), "dilations": .ints([1, 1]), "padding": .string("same")]))
        let dropout = try graph.append(Op(name: "dropout", kind: .identity, inputs: conv))
        let bn = try graph.append(Op(name: "bn", kind: .batchNorm, inputs: dropout + [
            constant("bn/gamma", [2], [1, 2]), constant("bn/beta", [2], [0.5, -1]),
            constant("bn/moving_mean", [2], [1, 0]), constant("bn/moving_variance", [2], [3, 0.96]),
        ], attributes: ["epsilon": .float(1), "scale": .bool(true), "center": .bool(true)]))
        let relu = try graph.append(Op(name: "relu", kind: .activation, inputs: bn, attributes: ["function": .string("relu")]))
        graph.outputs = relu
        return graph
    }

    @Test func standardPipelineLeavesOneFusedConv() throws {
        let graph = try convBatchNormGraph()
        try PassRegistry.run(PassRegistry.standardPipeline, on: graph)
        #expect(graph.ops.count == 1)
        let conv = graph.ops[0]
        #expect(conv.kind == .conv2d)
        #expect(conv.attributes["fused_activation"] == .string("relu"))
        #expect(graph.outputs.map(\.name) == ["relu"])
        #expect(graph.outputs.map(\.shape) == [[nil, 4, 4, 2]])
        // s = γ/√(σ²+ε) = [1/2, 2/1.4]; k' = k·s = [1, 3·2/1.4]; b' = (b − μ)·s + β = [0.5, −2/1.4 − 1]
        let kernel = try conv.inputs[1].constant!.values(), bias = try conv.inputs[2].constant!.values()
        #expect(abs(kernel[0] - 1) < 1e-6 && abs(kernel[1] - Float(6 / 1.4)) < 1e-5)
        #expect(abs(bias[0] - 0.5) < 1e-6 && abs(bias[1] - Float(-2 / 1.4 - 1)) < 1e-5)
    }

    @Test func batchNormWithOtherReadersIsNotFolded() throws {
        let graph = try convBatchNormGraph()
        // A second reader of the conv output blocks folding.
        _ = try graph.append(Op(name: "tap", kind: .activation, inputs: [graph.ops[0].outputs[0]], attributes: ["function": .string("tanh")]))
        graph.outputs.append(graph.ops.last!.outputs[0])
        _ = try RemoveIdentity().run(on: graph)
        #expect(try FoldBatchNorm().run(on: graph) == false)
        #expect(graph.ops.contains { $0.kind == .batchNorm })
    }

    @Test func identityFeedingAGraphOutputKeepsTheOutputName() throws {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 3])
        graph.inputs = [x]
        let dense = try graph.append(Op(name: "dense", kind: .fullyConnected, inputs: [x, constant("k", [3, 2], [1, 2, 3, 4, 5, 6])]))
        graph.outputs = try graph.append(Op(name: "dropout", kind: .identity, inputs: dense))
        #expect(try RemoveIdentity().run(on: graph))
        #expect(graph.ops.map(\.kind) == [.fullyConnected])
        #expect(graph.outputs.map(\.name) == ["dropout"])
        #expect(graph.verify().isEmpty)
    }

    @Test func activationIsNotFusedIntoOpsWithoutFusedKernels() throws {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 4, 4, 2])
        graph.inputs = [x]
        let pad = try graph.append(Op(name: "pad", kind: .pad, inputs: [x], attributes: ["paddings": .ints([0, 0, 1, 1, 1, 1, 0, 0])]))
        graph.outputs = try graph.append(Op(name: "relu", kind: .activation, inputs: pad, attributes: ["function": .string("relu")]))
        #expect(try FuseActivation().run(on: graph) == false)
        #expect(graph.ops.count == 2)
    }

    @Test func unknownPassIdIsAnError() {
        #expect(throws: GraphError.self) { try PassRegistry.run(["no-such-pass"], on: Graph(name: "g")) }
    }

    func padThenConv(size: Int, paddings: [Int], stride: Int, window: Int) throws -> Graph {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [1, size, size, 2])
        graph.inputs = [x]
        let pad = try graph.append(Op(name: "pad", kind: .pad, inputs: [x], attributes: ["paddings": .ints(paddings)]))
        graph.outputs = try graph.append(Op(name: "dw", kind: .depthwiseConv2d,
            inputs: pad + [constant("k", [window, window, 2, 1], Array(repeating: 1, count: window * window * 2))],
            attributes: ["strides": .ints([stride, stride]), "dilations": .ints([1, 1]), "padding": .string("valid")]))
        return graph
    }

    /// TensorFlow SAME on 16 with k=3, s=2: out 8, total (8−1)·2 + 3 − 16 = 1 → (0, 1).
    @Test func padEqualToSamePaddingIsFolded() throws {
        let graph = try padThenConv(size: 16, paddings: [0, 0, 0, 1, 0, 1, 0, 0], stride: 2, window: 3)
        #expect(try FoldPad().run(on: graph))
        #expect(graph.ops.map(\.kind) == [.depthwiseConv2d])
        #expect(graph.ops[0].attributes["padding"] == .string("same"))
        #expect(graph.outputs[0].shape == [1, 8, 8, 2])
        #expect(graph.verify().isEmpty)
    }

    /// ResNet's stem: ZeroPadding2D(3) then 7×7/2 on 32: SAME would pad (2, 3), not (3, 3).
    @Test func otherPaddingStays() throws {
        let graph = try padThenConv(size: 32, paddings: [0, 0, 3, 3, 3, 3, 0, 0], stride: 2, window: 7)
        #expect(try FoldPad().run(on: graph) == false)
        #expect(graph.ops.count == 2)
    }
}
