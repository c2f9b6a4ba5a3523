import Diff
import Foundation
import JSON
import TFLite
import TFLiteReports
import Testing

/// The regression corpus for hostile `.tflite` input (Tests/TFLiteTests/Corpus): inputs the fuzzer
/// (`make fuzz`) found crashing, minimised, and hand-made ones from scripts/make_hostile_tflite.py.
/// Each goes through what `keraslite inspect` (text, --json, --html) and `keraslite sparsity` run
/// on a file — the same sequence as the fuzz target in Tests/Fuzz — and must come out as a
/// report or as one clear error line: no trap, no hang, no unbounded allocation.
@Suite struct CorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// How a file came out: the JSON report, or the message of the error that stopped it.
    enum Outcome {
        case read(json: String)
        case rejected(message: String)
    }

    /// The fuzz target's sequence (Tests/Fuzz/Sources/TFLiteFuzz/Exercise.swift).
    static func exercise(_ data: Data, path: String) -> Outcome {
        let file: TFLiteFile
        do { file = try TFLiteFile(data: data, path: path) } catch { return .rejected(message: "\(error)") }
        let report = TFLiteInspectReport(file: file)
        let json = report.json.serialized()
        _ = report.text()
        var sparsity: SparsityReport?
        do {
            sparsity = try SparsityReport(tflite: file, threshold: 1e-3)
            _ = sparsity?.json.serialized()
            _ = sparsity?.text()
        } catch {
            return .rejected(message: "\(error)")
        }
        _ = HTMLReport.inspect(tflite: report, sparsity: sparsity)
        return .read(json: json)
    }

    /// What some files must give: nil = read, otherwise a fragment of the error message.
    static let expected: [String: String?] = [
        "tiny_valid.tflite": nil,
        "tiny_valid_int8_per_channel.tflite": nil,
        "tiny_valid_sparse.tflite": nil,
        "macs_overflow.tflite": nil,
        "many_operators_many_tensors.tflite": nil,
        "fixture_truncated_64.tflite": "outside",
        "fixture_wrong_identifier.tflite": #"file identifier is 'TF\x0C\x00', expected 'TFL3'"#,
        "fixture_vector_length_out_of_range.tflite": "vector of 2147483647 elements",
        "tiny_truncated_header.tflite": "root offset",
        "absurd_shape_overflows_int64.tflite": "impossible shape",
        "absurd_shape_2e30_cubed.tflite": "impossible shape",
        "negative_dimension.tflite": "impossible dimension -4",
        "rank_1000.tflite": "1000 dimensions",
        "shape_signature_negative.tflite": "impossible dimension -7",
        "negative_buffer_index.tflite": "buffer 4294967295",
        "quantized_dimension_99.tflite": "quantized along dimension 99",
        "quantized_dimension_negative.tflite": "quantized along dimension -3",
        "opcode_index_out_of_range.tflite": "operator code 1000",
        "tensor_index_out_of_range.tflite": "tensor 999",
        "buffer_offset_past_int64.tflite": "lies outside",
        "buffer_size_past_file.tflite": "lies outside",
        "sparse_index_negative.tflite": "CSR index outside",
        "sparse_block_map_repeated.tflite": "blocks a dimension twice",
        "sparse_dense_shape_2e40.tflite": "would decode to more than",
        "shared_name_4000_times.tflite": "decodes to more than",
        "shared_weight_buffer_3000_times.tflite": "would decode to more than",
        "html_macs_sum_overflow.tflite": nil,
    ]

    @Test func corpusHoldsTheRegressionInputs() {
        #expect(Self.files.count >= 30, "the corpus directory \(Self.corpus.path) is missing files")
        for name in Self.expected.keys { #expect(Self.files.contains(name), "\(name) is missing from the corpus") }
    }

    @Test(arguments: files) func hostileFileReadsOrFailsWithOneClearLine(_ name: String) throws {
        let data = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
        switch Self.exercise(data, path: name) {
        case .read(let json):
            #expect(!json.isEmpty)
            if let fragment = Self.expected[name] ?? nil { Issue.record("\(name) read, expected an error with '\(fragment)'") }
        case .rejected(let message):
            #expect(!message.isEmpty)
            #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control },
                    "\(name): the error is not one clean line: \(message.debugDescription)")
            #expect(message.count < 500, "\(name): the error message runs to \(message.count) characters")
            if let entry = Self.expected[name] {
                if let fragment = entry {
                    #expect(message.contains(fragment), "\(name): \(message)")
                } else {
                    Issue.record("\(name) should read, got: \(message)")
                }
            }
        }
    }

    /// `keraslite diff FILE FILE` on every corpus file: equal, different or one clear error —
    /// never a trap (diff decodes weights on its own path, with its own budget).
    @Test(arguments: files) func diffOfAHostileFileWithItself(_ name: String) {
        let path = Self.corpus.appendingPathComponent(name).path
        do {
            let diff = try ModelDiff(pathA: path, pathB: path)
            _ = diff.json.serialized()
            _ = diff.text()
            _ = HTMLReport.diff(diff)
        } catch {
            let message = "\(error)"
            #expect(!message.isEmpty && message.count < 600, "\(name): \(message)")
            #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(name): \(message.debugDescription)")
        }
    }
}
