extension Graph {
    /// Checks the graph's invariants and returns every violation found (empty when valid):
    /// ops in topological order, every tensor produced once, inputs available before use,
    /// unique op and tensor names, constant sizes equal to their shapes, arity and attributes
    /// as the op table requires, and stored shapes equal to re-inferred shapes.
    public func verify() -> [String] {
        var problems: [String] = []
        var available = Set<ObjectIdentifier>(inputs.map(ObjectIdentifier.init))
        var tensorNames = Set<String>(inputs.map(\.name))
        var opNames = Set<String>()
        var produced = Set<ObjectIdentifier>()

        for op in ops {
            if !opNames.insert(op.name).inserted { problems.append("op name '\(op.name)' is used twice") }
            for input in op.inputs where !input.isConstant && !available.contains(ObjectIdentifier(input)) {
                problems.append("op '\(op.name)' reads '\(input.name)' before anything produces it")
            }
            for input in op.inputs where input.isConstant {
                if let expected = input.shape.elementCount, expected != input.constant!.count {
                    problems.append("constant '\(input.name)' holds \(input.constant!.count) values, shape \(input.shape.text)")
                }
            }
            let schema = OpSchema.of(op.kind)
            if !schema.inputs.contains(op.inputs.count) {
                problems.append("op '\(op.name)' (\(op.kind.rawValue)) has \(op.inputs.count) inputs")
                continue
            }
            let attributeProblems = schema.attributeProblems(of: op)
            if !attributeProblems.isEmpty {
                problems += attributeProblems
                continue
            }
            do {
                let shapes = try schema.inferShapes(op)
                if shapes != op.outputs.map(\.shape) {
                    problems.append("op '\(op.name)' outputs \(op.outputs.map(\.shape.text)), inference gives \(shapes.map(\.text))")
                }
            } catch {
                problems.append("\(error)")
            }
            for output in op.outputs {
                if !produced.insert(ObjectIdentifier(output)).inserted || inputs.contains(where: { $0 === output }) {
                    problems.append("tensor '\(output.name)' is produced twice")
                }
                if !tensorNames.insert(output.name).inserted { problems.append("tensor name '\(output.name)' is used twice") }
                available.insert(ObjectIdentifier(output))
            }
        }
        for output in outputs where !available.contains(ObjectIdentifier(output)) {
            problems.append("graph output '\(output.name)' is never produced")
        }
        return problems
    }
}
