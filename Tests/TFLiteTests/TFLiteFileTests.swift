import FlatBuffers
import Foundation
import GraphIR
import JSON
import Keras
@testable import TFLite
import TestSupport
import Testing

/// Reads .tflite files with the verifying FlatBuffer reader and the schema's field ids: one that
/// TensorFlow's converter wrote (facts beside it, from LiteRT's interpreter) and keraslite's own.
@Suite struct TFLiteFileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func read(_ bytes: [UInt8]) throws -> FlatBufferReader.Table {
        try FlatBufferReader(bytes: bytes, fileIdentifier: Schema.fileIdentifier).root()
    }

    func operatorNames(_ model: FlatBufferReader.Table) throws -> [String] {
        let codes = try model.tables(Field.Model.operator_codes) ?? []
        let names = try codes.map { code -> String in
            let deprecated = Int32(try code.scalar(Field.OperatorCode.deprecated_builtin_code, default: Int8(0)))
            let builtin = try code.scalar(Field.OperatorCode.builtin_code, default: Int32(0))
            return "\(BuiltinOperator(rawValue: max(deprecated, builtin))!)"
        }
        let subgraph = try #require(try model.tables(Field.Model.subgraphs)?.first)
        return try (subgraph.tables(Field.SubGraph.operators) ?? []).map { op in
            names[Int(try op.scalar(Field.Operator.opcode_index, default: UInt32(0)))]
        }
    }

    func signature(_ model: FlatBufferReader.Table) throws -> (key: String?, inputs: [String], outputs: [String]) {
        let signature = try #require(try model.tables(Field.Model.signature_defs)?.first)
        let inputs = try (signature.tables(Field.SignatureDef.inputs) ?? []).map { try $0.string(Field.TensorMap.name) ?? "" }
        let outputs = try (signature.tables(Field.SignatureDef.outputs) ?? []).map { try $0.string(Field.TensorMap.name) ?? "" }
        return (try signature.string(Field.SignatureDef.signature_key), inputs, outputs)
    }

    @Test func readsAFileTensorFlowWrote() throws {
        let bytes = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("tf_digits_mlp.tflite")))
        let facts = try JSON.parse(try String(contentsOf: Self.fixtures.appendingPathComponent("tf_digits_mlp.json"), encoding: .utf8))
        let model = try read(bytes)
        #expect(try model.scalar(Field.Model.version, default: UInt32(0)) == 3)
        let subgraph = try #require(try model.tables(Field.Model.subgraphs)?.first)
        #expect(try subgraph.tables(Field.SubGraph.tensors)?.count == facts["tensor_count"]?.int)
        let expectedOperators = (facts["operators"]?.array ?? []).compactMap(\.string).filter { $0 != "DELEGATE" }
        #expect(try operatorNames(model) == expectedOperators)
        let sig = try signature(model)
        #expect(sig.key == "serving_default")
        #expect(sig.inputs == facts["signatures"]?["serving_default"]?["inputs"]?.array?.compactMap(\.string))
        #expect(sig.outputs == facts["signatures"]?["serving_default"]?["outputs"]?.array?.compactMap(\.string))
    }

    func convert(_ sample: String, batch: Int? = 1) throws -> (result: TFLiteConverter.Result, model: FlatBufferReader.Table) {
        let keras = try KerasFile.load(path: Fixtures.sample(sample))
        let result = try TFLiteConverter.convert(keras.graph, options: .init(batch: batch))
        return (result, try read(result.bytes))
    }

    @Test func ourFileHasTheExpectedStructure() throws {
        let (result, model) = try convert("digits_mlp_k2.h5")
        #expect(try operatorNames(model) == ["FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"])
        let sig = try signature(model)
        #expect(sig.key == "serving_default" && sig.inputs == ["dense_input"] && sig.outputs == ["dense_1"])
        let subgraph = try #require(try model.tables(Field.Model.subgraphs)?.first)
        let tensors = try #require(try subgraph.tables(Field.SubGraph.tensors))
        let names = try tensors.map { try $0.string(Field.Tensor.name) ?? "" }
        #expect(names.contains("dense") && names.contains("dense_1") && names.contains("dense/kernel"))
        let input = tensors[Int(try #require(try subgraph.scalars(Field.SubGraph.inputs, as: Int32.self)?.first))]
        #expect(try input.scalars(Field.Tensor.shape, as: Int32.self) == [1, 64])
        #expect(try input.scalars(Field.Tensor.shape_signature, as: Int32.self) == nil)
        // The first dense layer's ReLU is fused.
        let first = try #require(try subgraph.tables(Field.SubGraph.operators)?.first)
        #expect(try first.scalar(Field.Operator.builtin_options_type, default: UInt8(0)) == BuiltinOptions.FullyConnectedOptions.rawValue)
        let options = try #require(try first.table(Field.Operator.builtin_options))
        #expect(try options.scalar(Field.FullyConnectedOptions.fused_activation_function, default: Int8(0)) == ActivationFunctionType.RELU.rawValue)
        // Constant buffers start on 16-byte boundaries; buffer 0 is the empty sentinel.
        let buffers = try #require(try model.tables(Field.Model.buffers))
        #expect(try buffers[0].bytes(Field.Buffer.data) == nil)
        for buffer in buffers {
            if let data = try buffer.bytes(Field.Buffer.data) { #expect(data.startIndex % 16 == 0) }
        }
        // min_runtime_version metadata points at a 16-byte string.
        let metadata = try #require(try model.tables(Field.Model.metadata)?.first)
        #expect(try metadata.string(Field.Metadata.name) == "min_runtime_version")
        let versionBuffer = buffers[Int(try metadata.scalar(Field.Metadata.buffer, default: UInt32(0)))]
        let versionBytes = try #require(try versionBuffer.bytes(Field.Buffer.data))
        #expect(versionBytes.count == 16)
        #expect(String(decoding: versionBytes.prefix { $0 != 0 }, as: UTF8.self) == result.minRuntimeVersion)
    }

    @Test func dynamicBatchWritesAShapeSignature() throws {
        let (_, model) = try convert("digits_cnn_k2.h5", batch: nil)
        let subgraph = try #require(try model.tables(Field.Model.subgraphs)?.first)
        let tensors = try #require(try subgraph.tables(Field.SubGraph.tensors))
        let input = tensors[Int(try #require(try subgraph.scalars(Field.SubGraph.inputs, as: Int32.self)?.first))]
        #expect(try input.scalars(Field.Tensor.shape, as: Int32.self) == [1, 8, 8, 1])
        #expect(try input.scalars(Field.Tensor.shape_signature, as: Int32.self) == [-1, 8, 8, 1])
    }

    @Test func batchNormalizationIsFoldedAndDropoutRemoved() throws {
        let (result, _) = try convert("small_resnet_k2.h5")
        #expect(result.operatorCounts["MUL"] == nil && result.operatorCounts["ADD"] == 2)  // the two residual Adds only
        let (digits, _) = try convert("digits_cnn_k3.h5")
        #expect(digits.operatorCounts.keys.allSatisfy { !$0.contains("DROPOUT") })
    }

    /// Over 2 GB the buffers go after the FlatBuffer as offset/size (Test/conformance/test_large_model.py
    /// runs such a file in LiteRT); building the file materializes none of them.
    @Test func modelsOver2GBPlaceTheirBuffersAfterTheFlatBuffer() throws {
        let model = TFLiteModel()
        model.buffers.append(.init(byteCount: 3 << 30, contents: { Issue.record("a 3 GB buffer was materialized"); return .bytes([]) }))
        model.buffers.append(.init(byteCount: 100 << 10, contents: { Issue.record("a buffer was materialized"); return .bytes([]) }))
        let file = try model.serializedFile()
        #expect(file.flatBufferSize < 1 << 20)
        // The FlatBuffer alone: stop the write before the appended buffers are produced.
        struct Enough: Error {}
        var head: [UInt8] = []
        do {
            try file.write { piece in
                head.append(contentsOf: piece.prefix(file.flatBufferSize - head.count))
                if head.count == file.flatBufferSize { throw Enough() }
            }
        } catch is Enough {}
        let buffers = try #require(try FlatBufferReader(bytes: head).root().tables(Field.Model.buffers))
        let first = try buffers[1].scalar(Field.Buffer.offset, default: UInt64(0)), firstSize = try buffers[1].scalar(Field.Buffer.size, default: UInt64(0))
        let second = try buffers[2].scalar(Field.Buffer.offset, default: UInt64(0))
        #expect(first >= UInt64(file.flatBufferSize) && first % 64 == 0 && firstSize == 3 << 30)
        #expect(second >= first + firstSize && second % 64 == 0)
        #expect(file.size == Int(second) + (100 << 10))
    }

    @Test func permuteMatchesIndexArithmetic() {
        // 2×3 → 3×2 transpose, by hand.
        #expect(permute([1, 2, 3, 4, 5, 6], shape: [2, 3], [1, 0]) == [1, 4, 2, 5, 3, 6])
        // HWIO (1×1×2×3) → OHWI: out[o][0][0][i] = in[0][0][i][o]
        #expect(permute([1, 2, 3, 4, 5, 6], shape: [1, 1, 2, 3], [3, 0, 1, 2]) == [1, 4, 2, 5, 3, 6])
    }

    @Test func largeTransposesSplitOverTheCoresPutEveryElementInPlace() {
        // 2048 × 1100: blocks of 512 output rows go to different cores; a sub-range of output rows
        // (as the streaming writer asks for) starts at the front of its destination.
        let rows = 2048, columns = 1100
        let values = (0..<(rows * columns)).map { Float($0) }
        let whole = permute(values, shape: [rows, columns], [1, 0])
        var misplaced = 0
        for row in stride(from: 0, to: rows, by: 7) {
            for column in 0..<columns where whole[column * rows + row] != Float(row * columns + column) { misplaced += 1 }
        }
        #expect(misplaced == 0)
        var part = [Float](repeating: -1, count: 600 * rows)
        part.withUnsafeMutableBufferPointer { transpose2D(values, rows: rows, columns: columns, outputRows: 300..<900, into: $0) }
        #expect(Array(part) == Array(whole[(300 * rows)..<(900 * rows)]))
    }

    @Test func readerListsWhatTheWriterWrote() throws {
        let keras = try KerasFile.load(path: Fixtures.sample("multi_io_k3.h5"))
        let result = try TFLiteConverter.convert(keras.graph)
        let file = try TFLiteFile(data: Data(result.bytes), path: "multi_io.tflite")
        let main = try #require(file.subgraphs.first)
        #expect(main.operators.count == result.operatorCount)
        #expect(main.tensors.count == result.tensorCount)
        #expect(file.signatures.first?.inputs.map(\.name) == ["a", "b"])
        #expect(file.signatures.first?.outputs.map(\.name) == ["class_out", "reg_out"])
        #expect(file.minRuntimeVersion == result.minRuntimeVersion)
        #expect(main.operators.first?.options.contains { $0.0 == "activation" } == true)
    }

    /// Hostile input: every truncation and many byte corruptions of a real file either read or
    /// throw — never trap, hang or allocate without bound.
    @Test func damagedFilesNeverCrashTheReader() throws {
        let good = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("tf_digits_mlp.tflite")))
        var outcomes = (read: 0, rejected: 0)
        func attempt(_ bytes: [UInt8]) {
            do {
                let file = try TFLiteFile(data: Data(bytes), path: "damaged.tflite")
                _ = file.subgraphs.first.map { TFLiteReportProbe.touch($0) }
                outcomes.read += 1
            } catch {
                outcomes.rejected += 1
            }
        }
        for length in stride(from: 0, to: good.count, by: 7) { attempt(Array(good.prefix(length))) }
        var state: UInt64 = 12345
        for _ in 0..<3000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var damaged = good
            let position = Int(state >> 33) % min(good.count, 2048)
            damaged[position] = UInt8(truncatingIfNeeded: state >> 17)
            attempt(damaged)
        }
        var wrongIdentifier = good
        wrongIdentifier[4] = UInt8(ascii: "X")
        #expect(throws: FlatBufferError.self) { try TFLiteFile(data: Data(wrongIdentifier), path: "x.tflite") }
        #expect(outcomes.rejected > 0 && outcomes.read > 0)
    }
}

/// Walks everything a report would touch.
enum TFLiteReportProbe {
    static func touch(_ subgraph: TFLiteFile.SubgraphInfo) -> Int {
        subgraph.operators.reduce(0) { $0 + $1.inputs.count + $1.outputs.count } + subgraph.tensors.reduce(0) { $0 + $1.elementCount % 7 }
    }
}
