import Testing
@testable import GraphIR

/// The op schema declares each kind's attributes once; typed keys read them; `verify()` holds ops to them.
@Suite struct AttributeSchemaTests {
    func relu(_ attributes: Attributes) -> (Graph, Op) {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 2])
        graph.inputs = [x]
        let y = Tensor(name: "y", shape: [nil, 2])
        let op = Op(name: "r", kind: .relu, inputs: [x], outputs: [y], attributes: attributes)
        graph.ops = [op]
        graph.outputs = [y]
        return (graph, op)
    }

    @Test func everyKindHasASchema() {
        for kind in OpKind.allCases {
            #expect(OpSchema.table[kind] != nil, "\(kind.rawValue) has no schema row")
        }
    }

    @Test func attributeNamesAreUniquePerKind() {
        for kind in OpKind.allCases {
            let names = OpSchema.of(kind).attributes.map(\.name)
            #expect(Set(names).count == names.count, "\(kind.rawValue) declares an attribute twice: \(names)")
        }
    }

    @Test func typedKeysReadAndWrite() throws {
        var attributes = Attributes { $0[.strides] = [2, 2] }
        attributes[.padding] = "same"
        attributes[.fusedActivation] = .relu6
        #expect(attributes[.strides] == [2, 2])
        #expect(attributes[.padding] == "same")
        #expect(attributes["fused_activation"] == .string("relu6"))
        #expect(attributes[.dilations] == nil)
        attributes[.padding] = nil
        #expect(attributes.sortedNames == ["fused_activation", "strides"])
        // A float attribute stored as an integer (Keras configs write 1 for 1.0) reads as a float.
        #expect(Attributes(["alpha": .int(1)])[.alpha] == 1)
    }

    @Test func absentAttributesTakeTheSchemaDefault() throws {
        let (_, op) = relu([:])
        #expect(try op.attribute(.negativeSlope) == 0)
        #expect(try op.attribute(.threshold) == 0)
        #expect(op.attributes[.maxValue] == nil)
        #expect(throws: GraphError.missingAttribute(op: "r", attribute: "max_value")) { try op.attribute(.maxValue) }
        let (_, typed) = relu(["max_value": .string("six")])
        #expect(throws: GraphError.wrongAttributeType(op: "r", attribute: "max_value", expected: "float")) { try typed.attribute(.maxValue) }
    }

    @Test func verifyRejectsUndeclaredMistypedAndMissingAttributes() {
        #expect(relu(["max_value": .float(6)]).0.verify().isEmpty)
        let undeclared = relu(["data_format": .string("channels_first")]).0.verify()
        #expect(undeclared.contains { $0.contains("'data_format'") && $0.contains("relu does not take") })
        let mistyped = relu(["threshold": .string("high")]).0.verify()
        #expect(mistyped.contains { $0.contains("'threshold' is not float") })

        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 4])
        graph.inputs = [x]
        let y = Tensor(name: "y", shape: [nil, 4])
        graph.ops = [Op(name: "s", kind: .softmax, inputs: [x], outputs: [y])]
        graph.outputs = [y]
        #expect(graph.verify().contains { $0.contains("lacks attribute 'axis'") })
        // Appending an op checks the same rules before inferring shapes.
        #expect(throws: GraphError.self) {
            try Graph(name: "h").append(Op(name: "a", kind: .activation, inputs: [x], attributes: ["function": .string("no-such")]))
        }
    }

    @Test func absurdOutputShapesAreRefused() {
        let graph = Graph(name: "g")
        let x = Tensor(name: "x", shape: [nil, 4])
        #expect(throws: GraphError.self) {
            try graph.append(Op(name: "r", kind: .repeatVector, inputs: [x], attributes: Attributes { $0[.repeats] = 1_000_000_000_000 }))
        }
        #expect(throws: GraphError.self) {
            try graph.append(Op(name: "p", kind: .pad, inputs: [x], attributes: Attributes { $0[.paddings] = [0, 0, -9, 0] }))
        }
    }
}
