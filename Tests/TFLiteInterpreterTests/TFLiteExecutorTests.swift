import FlatBuffers
import Foundation
import GraphIR
import Interpreter
import Kernels
import NumPy
import Keras
import Passes
import TestSupport
import Testing
import TFLite
@testable import TFLiteInterpreter

/// The committed inputs of a sample (one array per model input, in model input order).
private func sampleInputs(_ stem: String, names: [String]) throws -> [TensorValue] {
    let npy = Fixtures.sample(stem + ".inputs.npy")
    if FileManager.default.fileExists(atPath: npy) { return [try NPY.read(path: npy).tensor] }
    let arrays = Dictionary(uniqueKeysWithValues: try NPZ.read(path: Fixtures.sample(stem + ".inputs.npz")).map { ($0.name, $0.array.tensor) })
    return names.map { arrays[$0]! }
}

/// max |a − b| / max(1, max |b|).
private func relativeError(_ a: TensorValue, _ b: TensorValue) -> Float {
    guard a.shape == b.shape else { return .infinity }
    let scale = max(1, b.values.map(abs).max() ?? 0)
    return zip(a.values, b.values).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

/// A sample converted by keraslite, as a prepared executor.
private func converted(_ sample: String, batch: Int? = 1, quantization: QuantizationOptions = QuantizationOptions(),
                       options: TFLiteExecutor.Options = .init()) throws -> TFLiteExecutor {
    let keras = try KerasFile.load(path: Fixtures.sample(sample))
    let result = try TFLiteConverter.convert(keras.graph, options: .init(batch: batch, quantization: quantization))
    return try TFLiteExecutor(file: try TFLiteFile(data: Data(result.bytes), path: sample), options: options)
}

/// The graph interpreter's outputs for a sample's committed inputs (after the standard passes).
private func interpreted(_ sample: String) throws -> (inputs: [TensorValue], outputs: [TensorValue]) {
    let keras = try KerasFile.load(path: Fixtures.sample(sample))
    try PassRegistry.run(PassRegistry.standardPipeline, on: keras.graph)
    let interpreter = try Interpreter(graph: keras.graph)
    let inputs = try sampleInputs(String(sample.split(separator: ".")[0]), names: interpreter.inputNames)
    return (inputs, try interpreter.run(inputs))
}

/// The TFLite executor's tests, grouped so `swift test --filter TFLiteInterpreterTests` selects them.
@Suite struct TFLiteInterpreterTests {}

extension TFLiteInterpreterTests {
    @Suite struct ConvertedSampleTests {
        /// keraslite's float32 conversion of each sample runs on the executor as the graph
        /// interpreter runs the Keras file: conv, depthwise (MobileNetV2), residual adds, pools, dense,
        /// several inputs and outputs.
        @Test(arguments: ["digits_cnn_k3.keras", "seed_mobilenetv2_k3.keras", "small_resnet_k2.h5", "small_vgg_k3.h5",
                          "multi_io_k3.h5", "digits_mlp_k2.h5"])
        func floatConversionMatchesTheGraphInterpreter(_ sample: String) throws {
            let (inputs, expected) = try interpreted(sample)
            let executor = try converted(sample)
            let outputs = try executor.run(inputs, batchSize: 8)
            #expect(outputs.count == expected.count)
            for (ours, theirs) in zip(outputs, expected) {
                #expect(relativeError(ours, theirs) <= 1e-5, "\(sample): \(relativeError(ours, theirs))")
            }
        }

        @Test func fixedBatchRunsSampleBySampleAndDynamicBatchAllAtOnce() throws {
            let (inputs, expected) = try interpreted("digits_cnn_k3.keras")
            let fixed = try converted("digits_cnn_k3.keras")
            #expect(!fixed.inputs[0].hasDynamicBatch && fixed.inputs[0].shape == [1, 8, 8, 1])
            // Four samples through a batch-1 file: one run per sample, outputs stacked.
            #expect(relativeError(try fixed.run(inputs, batchSize: 3)[0], expected[0]) <= 1e-5)
            #expect(throws: ExecutionError.self) { try fixed.run(inputs) }

            let dynamic = try converted("digits_cnn_k3.keras", batch: nil)
            #expect(dynamic.inputs[0].hasDynamicBatch)
            #expect(relativeError(try dynamic.run(inputs)[0], expected[0]) <= 1e-5)
            #expect(relativeError(try dynamic.run(inputs, batchSize: 3)[0], expected[0]) <= 1e-5)
        }

        @Test func float16AndDynamicRangeWeightsStayCloseToFloat() throws {
            let (inputs, expected) = try interpreted("digits_cnn_k3.keras")
            let half = try converted("digits_cnn_k3.keras", quantization: QuantizationOptions(mode: .float16))
            // The float16 weights are widened once, while preparing: every DEQUANTIZE is folded.
            #expect(half.foldedOperatorCount > 0)
            #expect(relativeError(try half.run(inputs, batchSize: 8)[0], expected[0]) <= 1e-2)

            let hybrid = try converted("digits_cnn_k3.keras", quantization: QuantizationOptions(mode: .dynamic))
            let plain = try converted("digits_cnn_k3.keras", quantization: QuantizationOptions(mode: .dynamic),
                                      options: .init(emulateHybridKernels: false))
            let emulated = try hybrid.run(inputs, batchSize: 8)[0], dequantized = try plain.run(inputs, batchSize: 8)[0]
            #expect(relativeError(emulated, expected[0]) <= 5e-2)
            #expect(relativeError(dequantized, expected[0]) <= 5e-2)
            // Quantizing the activations as LiteRT's hybrid kernels do changes the numbers.
            #expect(emulated != dequantized)
            for row in 0..<4 {
                let slice = (row * 10)..<(row * 10 + 10)
                #expect(emulated.values[slice].firstIndex(of: emulated.values[slice].max()!)
                        == expected[0].values[slice].firstIndex(of: expected[0].values[slice].max()!))
            }
        }

        @Test func observeSeesTheInputAndEveryOperatorOutputByName() throws {
            let executor = try converted("digits_cnn_k3.keras")
            let file = executor.file.subgraphs[0]
            var seen: [(Int, String, [Int])] = []
            _ = try executor.run([try TensorValue(shape: [1, 8, 8, 1], repeating: 0.5)]) { index, name, value, _ in
                seen.append((index, name, value.shape))
            }
            let expected = [file.inputs[0]] + file.operators.flatMap(\.outputs)
            #expect(seen.map(\.0) == expected)
            for (index, name, shape) in seen {
                #expect(name == file.tensors[index].name)
                #expect(shape == file.tensors[index].shape)
            }
        }

        /// ADDs write into an operand that dies there (`Workspace.consumable`): a value an observer
        /// kept is never changed under it, and the outputs are those of a run with nobody keeping
        /// anything (where the ADDs do write in place).
        @Test func inPlaceAdditionsLeaveKeptValuesAlone() throws {
            let executor = try converted("small_resnet_k3.keras", batch: nil)
            let inputs = try interpreted("small_resnet_k3.keras").inputs
            var kept: [(value: TensorValue, copy: [Float])] = []
            let observed = try executor.run(inputs) { _, _, value, _ in kept.append((value, value.values.map { $0 })) }
            #expect(kept.count > 10)
            for (value, copy) in kept { #expect(value.values.elementsEqual(copy) { $0.bitPattern == $1.bitPattern }) }
            let plain = try executor.run(inputs)
            #expect(zip(plain, observed).allSatisfy { $0.values.elementsEqual($1.values) { $0.bitPattern == $1.bitPattern } })
        }

        /// CONV_2D and same-shape ADD outputs come with the extremes their kernels noted while
        /// writing — exactly the value's own finite minimum and maximum — and nothing else does.
        @Test func observeGetsTheExtremesConvolutionsAndAdditionsNoted() throws {
            let executor = try converted("small_resnet_k3.keras", batch: nil)
            let operators = executor.file.subgraphs[0].operators
            let producer = Dictionary(operators.flatMap { op in op.outputs.map { ($0, op.name) } }, uniquingKeysWith: { a, _ in a })
            let inputs = try interpreted("small_resnet_k3.keras").inputs
            var noted: [String: Int] = [:]
            _ = try executor.run(inputs) { index, _, value, extremes in
                let name = producer[index] ?? "input"
                guard let extremes else {
                    #expect(name != "CONV_2D" && name != "ADD", "tensor \(index) of \(name) has no noted extremes")
                    return
                }
                noted[name, default: 0] += 1
                let scanned = value.values.withUnsafeBufferPointer { finiteExtremes($0) }
                #expect(scanned.map { $0.low == extremes.low && $0.high == extremes.high } ?? (extremes.low > extremes.high),
                        "tensor \(index) of \(name): noted \(extremes), scanned \(String(describing: scanned))")
            }
            #expect(Set(noted.keys) == ["CONV_2D", "ADD"])
            #expect(noted["CONV_2D"] == operators.filter { $0.name == "CONV_2D" }.count)
            #expect(noted["ADD"] == operators.filter { $0.name == "ADD" }.count)
        }

        /// A ResNet's residual ADDs fuse into the convolutions before them when no observer needs
        /// values: the outputs are bit for bit those of the operators run apart (a value observer's
        /// run), and a range observer sees every tensor a value observer sees, in the same order,
        /// with exactly the finite extremes of its value — the fused convolutions' own outputs,
        /// never stored, included.
        @Test func fusedResidualAdditionsComputeWhatTheOperatorsApartDo() throws {
            let executor = try converted("small_resnet_k3.keras", batch: nil)
            #expect(executor.fusedResidualCount > 0)
            #expect(executor.fusedResidualCount <= executor.file.subgraphs[0].operators.filter { $0.name == "ADD" }.count)
            try expectFusedRunsMatch(executor, inputs: try interpreted("small_resnet_k3.keras").inputs)
        }
    }
}

/// `executor`'s fused runs (none observed, ranges observed) against its unfused one (values
/// observed): the same outputs bit for bit, and the same tensors in the same order with the
/// extremes of their values.
private func expectFusedRunsMatch(_ executor: TFLiteExecutor, inputs: [TensorValue]) throws {
    var seen: [(index: Int, range: (low: Float, high: Float)?)] = []
    let apart = try executor.run(inputs) { index, _, value, _ in
        seen.append((index, value.values.withUnsafeBufferPointer { finiteExtremes($0) }))
    }
    func same(_ a: [TensorValue], _ b: [TensorValue]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.shape == $1.shape && $0.values.elementsEqual($1.values) { $0.bitPattern == $1.bitPattern } }
    }
    #expect(same(try executor.run(inputs), apart))
    var ranges: [(index: Int, range: (low: Float, high: Float)?)] = []
    #expect(same(try executor.run(inputs, observeRanges: { index, _, range in ranges.append((index, range)) }), apart))
    #expect(ranges.map(\.index) == seen.map(\.index))
    for (reported, scanned) in zip(ranges, seen) {
        #expect(reported.range?.low == scanned.range?.low && reported.range?.high == scanned.range?.high,
                "tensor \(reported.index): reported \(String(describing: reported.range)), scanned \(String(describing: scanned.range))")
    }
}

extension TFLiteInterpreterTests {
    @Suite struct HandBuiltModelTests {
        private func run(_ model: TinyModel, _ inputs: [TensorValue]) throws -> [TensorValue] {
            try TFLiteExecutor(file: try model.file()).run(inputs)
        }

        /// Residual ADDs fused into the CONV_2D right before them, on each way the sum is made —
        /// pointwise and im2col (stored by the GEMM, over an operand that dies there or, when the
        /// operand is the convolution's own input, over a copy), Winograd and few-pixel layers
        /// (added after) — with either operand order and fused RELU / RELU6: the run equals the
        /// operators run apart; an operand read again after the ADD keeps its value; a convolution
        /// whose output is also a model output is not fused.
        @Test func residualAdditionsFuseWhereTheyCan() throws {
            var model = TinyModel()
            var seed: UInt64 = 0x5EED
            func values(_ count: Int) -> [Float] {
                (0..<count).map { _ in
                    seed = seed &* 6364136223846793005 &+ 1442695040888963407
                    return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 2000
                }
            }
            let x = model.tensor("x", [2, 7, 8, 16])
            func conv(_ name: String, _ input: Int, window: Int, stride: Int = 1, output: [Int]) -> Int {
                let w = model.floats(name + "/w", [16, window, window, 16], values(16 * window * window * 16))
                let b = model.floats(name + "/b", [16], values(16))
                let y = model.tensor(name, output)
                model.op(.CONV_2D, [input, w, b], [y], .Conv2DOptions) { b in
                    try b.add(Field.Conv2DOptions.padding, Padding.SAME.rawValue, default: 0)
                    try b.add(Field.Conv2DOptions.stride_w, Int32(stride), default: 0)
                    try b.add(Field.Conv2DOptions.stride_h, Int32(stride), default: 0)
                }
                return y
            }
            func add(_ name: String, _ a: Int, _ b: Int, _ activation: ActivationFunctionType, shape: [Int]) -> Int {
                let y = model.tensor(name, shape)
                model.op(.ADD, [a, b], [y], .AddOptions) { try $0.add(Field.AddOptions.fused_activation_function, activation.rawValue, default: 0) }
                return y
            }
            let full = [2, 7, 8, 16], half = [2, 3, 3, 16]
            let c1 = conv("c1", x, window: 1, output: full)                                  // pointwise, GEMM
            let a1 = add("a1", c1, x, .RELU, shape: full)                                    // the operand is c1's input
            let c2 = conv("c2", a1, window: 3, output: full)                                 // Winograd: added after
            let a2 = add("a2", a1, c2, .NONE, shape: full)
            let d = conv("d", a2, window: 3, stride: 3, output: half)
            let c3 = conv("c3", a2, window: 3, stride: 3, output: half)                      // im2col, GEMM
            let a3 = add("a3", c3, d, .RELU6, shape: half)                                   // d dies here: stored over it
            let f = conv("f", a3, window: 1, output: half)
            let g = conv("g", a3, window: 1, output: half)                                   // 18 pixels: added after
            let a4 = add("a4", g, f, .NONE, shape: half)                                     // f is read again below
            let out = add("out", a4, f, .NONE, shape: half)
            let h = conv("h", out, window: 1, output: half)                                  // a model output: not fused
            let a5 = add("a5", h, out, .RELU, shape: half)
            model.inputs = [x]
            model.outputs = [a5, h]
            let executor = try TFLiteExecutor(file: try model.file())
            #expect(executor.fusedResidualCount == 4)
            let input = try TensorValue(shape: full, values: values(2 * 7 * 8 * 16).map { $0 * 4 })
            try expectFusedRunsMatch(executor, inputs: [input])
        }

        @Test func stridedSliceFollowsTensorFlowsMasks() throws {
            var model = TinyModel()
            let x = model.tensor("x", [2, 3, 4])
            let begin = model.ints("begin", [3], [0, -1, 3]), end = model.ints("end", [3], [0, 0, 0]), strides = model.ints("strides", [3], [1, 1, -2])
            let y = model.tensor("y", [2, 2])
            // begin_mask and end_mask on axis 0 (all of it); shrink axis 1 at index -1; axis 2 backwards by 2 from 3.
            model.op(.STRIDED_SLICE, [x, begin, end, strides], [y], .StridedSliceOptions) { b in
                try b.add(Field.StridedSliceOptions.begin_mask, Int32(1), default: 0)
                try b.add(Field.StridedSliceOptions.end_mask, Int32(1), default: 0)
                try b.add(Field.StridedSliceOptions.shrink_axis_mask, Int32(2), default: 0)
            }
            model.inputs = [x]
            model.outputs = [y]
            let input = try TensorValue(shape: [2, 3, 4], values: (0..<24).map(Float.init))
            let output = try run(model, [input])[0]
            // x[:, -1, 3:0:-2] = [[11, 9], [23, 21]]
            #expect(output.shape == [2, 2] && output.values == [11, 9, 23, 21])
        }

        @Test func gatherPackUnpackTransposeAndMirrorPad() throws {
            var model = TinyModel()
            let x = model.tensor("x", [2, 3])
            let indices = model.ints("indices", [2], [2, 0])
            let gathered = model.tensor("gathered", [2, 2])
            model.op(.GATHER, [x, indices], [gathered], .GatherOptions) { try $0.add(0, Int32(1), default: 0) }
            let packed = model.tensor("packed", [2, 2, 2])
            model.op(.PACK, [gathered, gathered], [packed], .PackOptions) { b in
                try b.add(0, Int32(2), default: 0)
                try b.add(1, Int32(1), default: 0)
            }
            let perm = model.ints("perm", [3], [2, 0, 1])
            let transposed = model.tensor("transposed", [2, 2, 2])
            model.op(.TRANSPOSE, [packed, perm], [transposed], .TransposeOptions)
            let first = model.tensor("first", [2, 2]), second = model.tensor("second", [2, 2])
            model.op(.UNPACK, [transposed], [first, second], .UnpackOptions) { b in
                try b.add(0, Int32(2), default: 0)
                try b.add(1, Int32(0), default: 0)
            }
            let paddings = model.ints("paddings", [2, 2], [0, 0, 1, 1])
            let padded = model.tensor("padded", [2, 4])
            model.op(.MIRROR_PAD, [first, paddings], [padded], .MirrorPadOptions)  // REFLECT
            model.inputs = [x]
            model.outputs = [gathered, padded]
            let outputs = try run(model, [try TensorValue(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])])
            #expect(outputs[0].values == [3, 1, 6, 4])
            // packed[i, k, j] = gathered[i, j]; transposed[j, i, k]; first = transposed[0] = [[3, 3], [6, 6]].
            #expect(outputs[1].shape == [2, 4] && outputs[1].values == [3, 3, 3, 3, 6, 6, 6, 6])
        }

        @Test func resizeNearestAndBilinearFollowLiteRT() throws {
            var model = TinyModel()
            let x = model.tensor("x", [1, 2, 2, 1])
            let size = model.ints("size", [2], [3, 3])
            let nearest = model.tensor("nearest", [1, 3, 3, 1]), bilinear = model.tensor("bilinear", [1, 3, 3, 1])
            model.op(.RESIZE_NEAREST_NEIGHBOR, [x, size], [nearest], .ResizeNearestNeighborOptions) {
                try $0.add(Field.ResizeNearestNeighborOptions.align_corners, true, default: false)
            }
            model.op(.RESIZE_BILINEAR, [x, size], [bilinear], .ResizeBilinearOptions) {
                try $0.add(Field.ResizeBilinearOptions.align_corners, true, default: false)
            }
            model.inputs = [x]
            model.outputs = [nearest, bilinear]
            let outputs = try run(model, [try TensorValue(shape: [1, 2, 2, 1], values: [0, 1, 2, 3])])
            // align_corners: scale 1/2; nearest rounds 0.5 away from zero.
            #expect(outputs[0].values == [0, 1, 1, 2, 3, 3, 2, 3, 3])
            #expect(outputs[1].values == [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3])
        }

        @Test func quantizedTensorsHoldValuesOnTheirGrid() throws {
            var model = TinyModel()
            let x = model.tensor("x", [1, 6])
            let q = model.tensor("q", [1, 6], .INT8, scales: [0.5], zeroPoints: [-1])
            model.op(.QUANTIZE, [x], [q], .QuantizeOptions)
            let bias = model.tensor("bias", [1], .INT8, data: [UInt8(bitPattern: 3)], scales: [0.5], zeroPoints: [-1])
            let sum = model.tensor("sum", [1, 6], .INT8, scales: [0.25], zeroPoints: [0])
            model.op(.ADD, [q, bias], [sum], .AddOptions) { try $0.add(Field.AddOptions.fused_activation_function, Int8(1), default: 0) }
            let y = model.tensor("y", [1, 6])
            model.op(.DEQUANTIZE, [sum], [y], .DequantizeOptions)
            model.inputs = [x]
            model.outputs = [q, y]
            let executor = try TFLiteExecutor(file: try model.file())
            let input = try TensorValue(shape: [1, 6], values: [0.25, -0.25, 0.74, 100, -100, -2.6])
            let outputs = try executor.run([input])
            // round(x / 0.5) half away from zero, + zero point −1, clamped to int8.
            let stored = try executor.outputs[0].quantize(outputs[0])
            #expect(stored.values == [0, -2, 0, 127, -128, -6])
            #expect(outputs[0].values == [0.5, -0.5, 0.5, 64, -63.5, -2.5])
            // + 2 (the bias: 0.5 · (3 + 1)), RELU, onto the 0.25 grid (int8 tops out at 31.75).
            #expect(outputs[1].values == [2.5, 1.5, 2.5, 31.75, 0, 0])
            // Stored integers of an int8 input go through Port.dequantize.
            let port = executor.outputs[0]
            #expect(try port.dequantize(try TensorValue(shape: [1, 2], values: [-1, 3])).values == [0, 2])
            #expect(throws: ExecutionError.self) { try port.dequantize(try TensorValue(shape: [1], values: [200])) }
        }

        @Test func unsupportedOperatorsFailWhilePreparingNamingTheOperator() throws {
            var model = TinyModel()
            let x = model.tensor("x", [1, 4]), y = model.tensor("y", [1, 4]), z = model.tensor("z", [1, 4])
            model.op(.RELU, [x], [y])
            model.op(.SVDF, [y], [z])
            model.inputs = [x]
            model.outputs = [z]
            #expect(throws: ExecutionError.unsupported(.executor, at: "operator 1 (SVDF)", "no kernel for this builtin")) {
                try TFLiteExecutor(file: try model.file())
            }
            // A custom operator.
            var custom = TinyModel()
            let a = custom.tensor("a", [1]), b = custom.tensor("b", [1])
            custom.operators.append(.init(code: .CUSTOM, inputs: [a], outputs: [b], customCode: "MyOp"))
            custom.inputs = [a]
            custom.outputs = [b]
            do {
                _ = try TFLiteExecutor(file: try custom.file())
                Issue.record("expected an error")
            } catch {
                #expect("\(error)" == "the executor cannot run operator 0 (CUSTOM:MyOp): custom operators are not supported")
            }
            // A string tensor, and a tensor read before any operator writes it.
            var strings = TinyModel()
            let s = strings.tensor("s", [1], .STRING), t = strings.tensor("t", [1], .STRING)
            strings.op(.RESHAPE, [s], [t])
            strings.inputs = [s]
            strings.outputs = [t]
            #expect(throws: ExecutionError.self) { try TFLiteExecutor(file: try strings.file()) }
            var unwritten = TinyModel()
            let u = unwritten.tensor("u", [2]), v = unwritten.tensor("v", [2]), w = unwritten.tensor("w", [2])
            unwritten.op(.ADD, [u, v], [w], .AddOptions)
            unwritten.inputs = [u]
            unwritten.outputs = [w]
            do {
                _ = try TFLiteExecutor(file: try unwritten.file())
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".contains("operator 0 (ADD) reads tensor 1 ('v'), which no earlier operator writes"))
            }
        }

        /// One buffer shared by a thousand constants (the file stays small, the decoded values do
        /// not): the executor stops at the constant that takes the decode budget (16 values per
        /// byte of the file + 2^20) past its end, counting in the order the operators read them —
        /// here the reverse of the tensors' own order — before decoding anything.
        @Test func constantsSharingABufferStopAtTheBudget() throws {
            var model = TinyModel()
            let width = 4096, count = 1000
            let x = model.tensor("x", [width])
            let owner = model.floats("w", [width], [Float](repeating: 0.5, count: width))
            // Tensors c999 … c1 come first (indices ascending), then the sums the operators write.
            var shared: [Int: Int] = [:]
            for k in stride(from: count - 1, through: 1, by: -1) { shared[k] = model.sharing("c\(k)", [width], bufferOf: owner) }
            shared[0] = owner
            var previous = x
            for k in 0..<count {
                let sum = model.tensor("s\(k)", [width])
                model.op(.ADD, [previous, shared[k]!], [sum], .AddOptions)
                previous = sum
            }
            model.inputs = [x]
            model.outputs = [previous]
            let bytes = try model.bytes()
            let budget = bytes.count * 16 + (1 << 20)
            let failing = budget / width  // the first operator whose constant does not fit
            #expect(failing > 0 && failing < count)
            do {
                _ = try TFLiteExecutor(file: try TFLiteFile(data: bytes, path: "shared.tflite"))
                Issue.record("a \(bytes.count)-byte file decoding to \(count * width) values was accepted")
            } catch {
                #expect("\(error)".contains("at tensor \(shared[failing]!): buffers shared by many tensors?"), "\(error)")
                #expect("\(error)".contains("operator \(failing) (ADD)"), "\(error)")
            }
        }

        /// Axes of rank-0 tensors, empty tensors, out-of-range indices: errors naming the operator, never traps.
        @Test func degenerateShapesAreErrors() throws {
            func outcome(_ code: BuiltinOperator, _ optionsType: BuiltinOptions = .NONE, shape: [Int], constants: [(shape: [Int], values: [Int32])],
                         options: ((inout FlatBufferBuilder) throws -> Void)? = nil) throws -> String {
                var model = TinyModel()
                let x = model.tensor("x", shape)
                let extra = constants.enumerated().map { model.ints("c\($0.offset)", $0.element.shape, $0.element.values) }
                let y = model.tensor("y", [1])
                model.op(code, [x] + extra, [y], optionsType, options: options)
                model.inputs = [x]
                model.outputs = [y]
                do {
                    _ = try TFLiteExecutor(file: try model.file()).run([try TensorValue(shape: shape, repeating: 1)])
                    return "ran"
                } catch {
                    return "\(error)"
                }
            }
            #expect(try outcome(.ARG_MAX, .ArgMaxOptions, shape: [], constants: [([], [0])]).contains("operator 0 (ARG_MAX)"))
            #expect(try outcome(.CONCATENATION, .ConcatenationOptions, shape: [], constants: []).contains("operator 0 (CONCATENATION)"))
            #expect(try outcome(.GATHER, .GatherOptions, shape: [3], constants: [([1], [7])]).contains("index 7 is outside"))
            #expect(try outcome(.CUMSUM, .CumsumOptions, shape: [], constants: [([], [0])]).contains("operator 0 (CUMSUM)"))
            #expect(try outcome(.SPLIT, .SplitOptions, shape: [0], constants: []).contains("operator 0 (SPLIT)"))
            #expect(try outcome(.RESHAPE, shape: [0, 3], constants: [([2], [-1, 0])]).contains("operator 0 (RESHAPE)"))
            #expect(try outcome(.MEAN, .ReducerOptions, shape: [0, 2], constants: [([1], [0])]) == "ran")
            #expect(try outcome(.SUM, .ReducerOptions, shape: [2, 2], constants: [([1], [5])]).contains("axis 5"))
        }

        @Test func inputsAreCheckedAndComputedShapesBounded() throws {
            var model = TinyModel()
            let x = model.tensor("x", [1, 2], signature: [-1, 2])
            let multiples = model.ints("multiples", [2], [1 << 20, 1 << 20])
            let y = model.tensor("y", [1, 2])
            model.op(.TILE, [x, multiples], [y], .TileOptions)
            model.inputs = [x]
            model.outputs = [y]
            let executor = try TFLiteExecutor(file: try model.file(), options: .init(maximumTensorElements: 1 << 20))
            // A dynamic batch takes any number of rows; other dimensions must match.
            #expect(throws: ExecutionError.self) { try executor.run([try TensorValue(shape: [1, 3], repeating: 0)]) }
            do {
                _ = try executor.run([try TensorValue(shape: [2, 2], repeating: 0)])
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".hasPrefix("operator 0 (TILE): the output shape [2097152,2097152] has"))
            }
        }
    }
}

extension TFLiteInterpreterTests {
    /// The hostile-input corpus (Tests/TFLiteTests/Corpus) through the executor: each file is
    /// rejected with one clear line, or prepared and run on zeros — never a trap or an unbounded
    /// allocation.
    @Suite struct ExecutorCorpusTests {
        static let corpus = Fixtures.root.appendingPathComponent("Tests/TFLiteTests/Corpus")

        static var files: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).filter { $0.hasSuffix(".tflite") }.sorted()
        }

        @Test func corpusIsThere() { #expect(Self.files.count >= 30) }

        @Test(arguments: files) func hostileFileRunsOrFailsWithOneLine(_ name: String) throws {
            let data = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
            let message: String
            do {
                let file = try TFLiteFile(data: data, path: name)
                let executor = try TFLiteExecutor(file: file, options: .init(maximumTensorElements: 1 << 22))
                let inputs = try executor.inputs.map { port in
                    try TensorValue(shape: port.shape.map { max($0, 0) }, repeating: 0)
                }
                _ = try executor.run(inputs, batchSize: 2)
                return
            } catch {
                message = "\(error)"
            }
            #expect(!message.isEmpty && message.count < 600, "\(name): \(message)")
            #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(name): \(message.debugDescription)")
        }
    }
}
