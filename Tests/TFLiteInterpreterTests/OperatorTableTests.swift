@testable import TFLite
@testable import TFLiteInterpreter
import Testing

/// The executor's operator table is complete: every builtin it claims — a row in `OperatorTable`,
/// every builtin the int8 quantizer rewrites, the conversions it inserts — has a builder, and
/// every row names a real builtin.
struct OperatorTableTests {
    @Test func everyRowNamesABuiltin() {
        let builtins = Set(BuiltinOperator.allCases.map { "\($0)" })
        for name in OperatorTable.builders.keys { #expect(builtins.contains(name), "\(name) is not a TFLite builtin") }
    }

    @Test func everyBuiltinTheInt8QuantizerWritesHasABuilder() {
        let written = Int8OpTable.rules.keys.map { "\($0)" } + ["QUANTIZE", "DEQUANTIZE"]
        for name in written { #expect(OperatorTable.builders[name] != nil, "no builder for \(name)") }
    }

    @Test func everyBuiltinTheLoweringDeclaresHasABuilder() {
        // So every .tflite keraslite writes runs on the executor (calibration, run, verify).
        for builtin in LoweringTable.builtins { #expect(OperatorTable.builders["\(builtin)"] != nil, "no builder for \(builtin)") }
    }

    @Test func everyBuiltinTheSparseRewriteInsertsHasABuilder() {
        for builtin in SparseWeights.builtins { #expect(OperatorTable.builders["\(builtin)"] != nil, "no builder for \(builtin)") }
    }

    @Test func supportedListsEveryBuilder() {
        #expect(OperatorTable.supported == OperatorTable.builders.keys.sorted())
        #expect(OperatorTable.neverFolded.isSubset(of: Set(OperatorTable.builders.keys)))
    }
}
