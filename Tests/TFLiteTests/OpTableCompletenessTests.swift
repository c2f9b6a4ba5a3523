import Testing
import GraphIR
@testable import TFLite

/// The TFLite backend's op tables cover each other: every IR op kind lowers, and every builtin a
/// lowering may emit has an int8 decision (a rule, or a reason to stay float).
@Suite struct OpTableCompletenessTests {
    @Test func everyOpKindHasALoweringRule() {
        for kind in OpKind.allCases {
            #expect(LoweringTable.table[kind] != nil, "no lowering rule for \(kind.rawValue)")
            #expect(LoweringTable.table[kind]?.builtins.isEmpty == false, "\(kind.rawValue) declares no builtins")
        }
    }

    @Test func everyLoweredBuiltinHasAnInt8Decision() {
        for builtin in LoweringTable.builtins.sorted(by: { $0.rawValue < $1.rawValue }) {
            let decided = (Int8OpTable.rules[builtin] != nil) != (Int8OpTable.keptFloat[builtin] != nil)
            #expect(decided, "\(builtin) needs exactly one of an Int8OpTable rule or a keptFloat reason")
        }
        // A kept-float entry for a builtin nothing emits is stale.
        for builtin in Int8OpTable.keptFloat.keys {
            #expect(LoweringTable.builtins.contains(builtin), "\(builtin) is kept float but never lowered to")
        }
    }

    @Test func aRuleCannotEmitUndeclaredBuiltins() throws {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [1, 2, 3])
        graph.inputs = [x]
        graph.outputs = try graph.append(Op(name: "t", kind: .transpose, inputs: [x], attributes: Attributes { $0[.permutation] = [0, 2, 1] }))
        let context = LoweringContext(graph: graph)
        try LoweringTable.lower(graph.ops[0], in: context)
        #expect(context.opsUsed == [.TRANSPOSE])
        // The same function under a rule that declares only RESHAPE is refused.
        let undeclared = LoweringRule([.RESHAPE], LoweringTable.table[.transpose]!.lower)
        #expect(throws: ConversionError.self) { try LoweringTable.lower(graph.ops[0], by: undeclared, in: LoweringContext(graph: graph)) }
    }
}
