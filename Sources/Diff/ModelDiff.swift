import Foundation
import HTML
import Keras
import ModelFile
import TFLite
import TFLiteReports

/// What `keraslite diff A B` reports: the two models' ops aligned in execution order (added,
/// removed, changed in shape, dtype, quantization, activation, options), their weights paired and
/// compared numerically after dequantization, sizes and parameter totals side by side, a verdict.
///
/// Ops are aligned by a longest-common-subsequence over op types that prefers equal names, so it
/// works without shared names (TensorFlow-written files); weights are paired through aligned ops
/// (same input position) and then by name.
public struct ModelDiff {
    public struct Side: Sendable {
        public var path: String
        public var format: String
        public var sizeBytes: Int
        /// The file's own parameter count (Keras' count_params, or the .tflite weight elements).
        public var params: Int
        /// Weight elements at the compared level (after BatchNorm folding for Keras files).
        public var comparedParams: Int
        public var ops: Int
    }

    public struct OpRef: Sendable {
        public var index: Int
        public var name: String
        public var type: String
    }

    /// One line of the aligned op sequence: both sides (same or changed), or one side only.
    public struct Row: Sendable {
        public enum Kind: String, Sendable { case same, changed, added, removed }
        public var a: OpRef?
        public var b: OpRef?
        public var changes: [String]
        public var kind: Kind {
            if a == nil { return .added }
            if b == nil { return .removed }
            return changes.isEmpty ? .same : .changed
        }
    }

    public struct WeightComparison: Sendable {
        public var nameA: String
        public var nameB: String
        public var shapeA: [Int]
        public var shapeB: [Int]
        public var dtypeA: String
        public var dtypeB: String
        public var count: Int
        /// nil when the shapes differ (then nothing numeric is compared).
        public var maxAbsDiff: Double?
        public var relL2: Double?
        public var cosine: Double?
        public var zerosA: Double?
        public var zerosB: Double?
        public var withinTolerance: Bool
    }

    public var a: Side
    public var b: Side
    public var level: String
    public var tolerance: Double
    public var rows: [Row]
    public var weights: [WeightComparison]
    public var unmatchedWeightsA: [String]
    public var unmatchedWeightsB: [String]
    public var notes: [String]
    /// The two models as compared (ops, tensors, lazily read weights), for the HTML page.
    let viewA: DiffView, viewB: DiffView

    public var added: [Row] { rows.filter { $0.kind == .added } }
    public var removed: [Row] { rows.filter { $0.kind == .removed } }
    public var changed: [Row] { rows.filter { $0.kind == .changed } }
    public var differingWeights: [WeightComparison] { weights.filter { !$0.withinTolerance } }

    /// Equal: same ops with the same attributes and tensors, every weight paired, every pair equal
    /// within the tolerance.
    public var equal: Bool {
        rows.allSatisfy { $0.kind == .same } && unmatchedWeightsA.isEmpty && unmatchedWeightsB.isEmpty
            && weights.allSatisfy(\.withinTolerance)
    }

    /// Compares two model files of any format keraslite reads. `tolerance` bounds the absolute
    /// difference of any weight element for the models to count as equal.
    public init(pathA: String, pathB: String, tolerance: Double = 0, configA: String? = nil, configB: String? = nil) throws {
        let fileA = try DiffError.naming(pathA) { try ModelFile.open(path: pathA, config: configA) }
        let fileB = try DiffError.naming(pathB) { try ModelFile.open(path: pathB, config: configB) }
        let level = DiffView.level(fileA, fileB)
        let viewA = try DiffError.naming(pathA) { try DiffView.load(fileA, path: pathA, level: level) }
        let viewB = try DiffError.naming(pathB) { try DiffView.load(fileB, path: pathB, level: level) }
        try self.init(viewA, viewB, tolerance: tolerance)
    }

    init(_ viewA: DiffView, _ viewB: DiffView, tolerance: Double) throws {
        func side(_ view: DiffView) -> Side {
            Side(path: view.path, format: view.format, sizeBytes: view.sizeBytes, params: view.fileParams,
                 comparedParams: view.params, ops: view.nodes.count)
        }
        a = side(viewA)
        b = side(viewB)
        self.viewA = viewA
        self.viewB = viewB
        level = viewA.level.rawValue
        self.tolerance = tolerance
        notes = viewA.notes + viewB.notes

        let pairs = Self.align(viewA.nodes, viewB.nodes)
        var rows: [Row] = []
        var weightPairs: [(Int, Int)] = []
        var pairedA = Set<Int>(), pairedB = Set<Int>()
        func pair(_ wa: Int, _ wb: Int) {
            guard !pairedA.contains(wa), !pairedB.contains(wb) else { return }
            pairedA.insert(wa)
            pairedB.insert(wb)
            weightPairs.append((wa, wb))
        }
        for (i, j) in pairs {
            let refA = i.map { OpRef(index: $0, name: viewA.nodes[$0].name, type: viewA.nodes[$0].type) }
            let refB = j.map { OpRef(index: $0, name: viewB.nodes[$0].name, type: viewB.nodes[$0].type) }
            var changes: [String] = []
            if let i, let j {
                changes = Self.changes(viewA.nodes[i], viewB.nodes[j], viewA, viewB)
                for (inputA, inputB) in zip(viewA.nodes[i].inputs, viewB.nodes[j].inputs) {
                    if let wa = inputA?.weight, let wb = inputB?.weight { pair(wa, wb) }
                }
            }
            rows.append(Row(a: refA, b: refB, changes: changes))
        }
        // Weights not reached through aligned ops: pair by name and size.
        var byName: [String: [Int]] = [:]
        for (index, weight) in viewB.weights.enumerated() where !pairedB.contains(index) { byName[weight.name, default: []].append(index) }
        for (index, weight) in viewA.weights.enumerated() where !pairedA.contains(index) {
            if let match = byName[weight.name]?.first(where: { !pairedB.contains($0) && viewB.weights[$0].count == weight.count }) {
                pair(index, match)
            }
        }
        self.rows = rows
        weights = try weightPairs.map { pair in
            try DiffError.naming(viewA.path) { try Self.compare(viewA.weights[pair.0], viewB.weights[pair.1], tolerance: tolerance) }
        }
        unmatchedWeightsA = viewA.weights.indices.filter { !pairedA.contains($0) }.map { viewA.weights[$0].name }
        unmatchedWeightsB = viewB.weights.indices.filter { !pairedB.contains($0) }.map { viewB.weights[$0].name }
    }

    // MARK: alignment

    /// Equal names, or one is a Keras layer name that the other (TensorFlow's
    /// "model/layer_1/BiasAdd;…") contains as a path component, with Keras' `_N` suffix allowed.
    static func namesMatch(_ x: String, _ y: String) -> Bool {
        if x == y { return true }
        func components(_ name: String) -> Set<Substring> {
            var result = Set<Substring>()
            for part in name.split(whereSeparator: { $0 == "/" || $0 == ";" }) {
                result.insert(part)
                if let underscore = part.lastIndex(of: "_"), part[part.index(after: underscore)...].allSatisfy(\.isNumber),
                   underscore != part.startIndex {
                    result.insert(part[..<underscore])
                }
            }
            return result
        }
        let (short, long) = x.count <= y.count ? (x, y) : (y, x)
        guard !short.contains("/") && !short.contains(";") else { return false }
        return components(long).contains(Substring(short))
    }

    /// Op type, output shapes and weight shapes: what stays the same when only values change.
    static func signature(_ node: DiffView.Node) -> String {
        node.type + " " + node.outputs.map(\.shape).joined(separator: ",") + " "
            + node.inputs.map { $0?.weight != nil ? $0!.shape : "·" }.joined(separator: ",")
    }

    /// Aligns two op sequences: a heaviest common subsequence where ops of the same type match,
    /// more strongly when their signature (shapes) and name agree. Ops left over on both sides
    /// with equal signatures are then paired too: converters order independent branches
    /// differently (TensorFlow puts a residual block's shortcut conv first). Returns (a, b) index
    /// pairs in A's order, with nil for an op present on one side only.
    static func align(_ a: [DiffView.Node], _ b: [DiffView.Node]) -> [(Int?, Int?)] {
        let ordered = alignInOrder(a, b)
        var unmatchedB: [String: [Int]] = [:]
        for case (nil, let j?) in ordered { unmatchedB[signature(b[j]), default: []].append(j) }
        guard !unmatchedB.isEmpty else { return ordered }
        var moved = Set<Int>()
        var result: [(Int?, Int?)] = []
        for pair in ordered {
            switch pair {
            case (let i?, nil):
                if var candidates = unmatchedB[signature(a[i])], !candidates.isEmpty {
                    let pick = candidates.firstIndex { namesMatch(a[i].name, b[$0].name) } ?? 0
                    let j = candidates.remove(at: pick)
                    unmatchedB[signature(a[i])] = candidates
                    moved.insert(j)
                    result.append((i, j))
                } else {
                    result.append(pair)
                }
            default: result.append(pair)
            }
        }
        return result.filter { pair in
            if case (nil, let j?) = pair { return !moved.contains(j) }
            return true
        }
    }

    static func alignInOrder(_ a: [DiffView.Node], _ b: [DiffView.Node]) -> [(Int?, Int?)] {
        let n = a.count, m = b.count
        guard n > 0 || m > 0 else { return [] }
        guard n * m <= 16_000_000 else { return alignByName(a, b) }
        let signaturesA = a.map(signature), signaturesB = b.map(signature)
        func score(_ i: Int, _ j: Int) -> Int32 {
            guard a[i].type == b[j].type else { return 0 }
            return 2 + (signaturesA[i] == signaturesB[j] ? 2 : 0) + (namesMatch(a[i].name, b[j].name) ? 1 : 0)
        }
        // table[(i)*(m+1)+j] = best score of a[i...] vs b[j...]
        var table = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        let width = m + 1
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    var best = max(table[(i + 1) * width + j], table[i * width + j + 1])
                    let s = score(i, j)
                    if s > 0 { best = max(best, s + table[(i + 1) * width + j + 1]) }
                    table[i * width + j] = best
                }
            }
        }
        var result: [(Int?, Int?)] = []
        var i = 0, j = 0
        while i < n && j < m {
            let s = score(i, j)
            if s > 0 && table[i * width + j] == s + table[(i + 1) * width + j + 1] {
                result.append((i, j)); i += 1; j += 1
            } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
                result.append((i, nil)); i += 1
            } else {
                result.append((nil, j)); j += 1
            }
        }
        while i < n { result.append((i, nil)); i += 1 }
        while j < m { result.append((nil, j)); j += 1 }
        return result
    }

    /// For very large graphs: pair ops with equal name and type, in A's order.
    static func alignByName(_ a: [DiffView.Node], _ b: [DiffView.Node]) -> [(Int?, Int?)] {
        var indexB: [String: Int] = [:]
        for (j, node) in b.enumerated() where indexB[node.name] == nil { indexB[node.name] = j }
        var used = Set<Int>()
        var result: [(Int?, Int?)] = []
        for (i, node) in a.enumerated() {
            if let j = indexB[node.name], b[j].type == node.type, !used.contains(j) { used.insert(j); result.append((i, j)) }
            else { result.append((i, nil)) }
        }
        for j in b.indices where !used.contains(j) { result.append((nil, j)) }
        return result
    }

    // MARK: op changes

    /// `float32`, `int8 per-channel ×32 (axis 0)`.
    static func typeText(_ ref: DiffView.TensorRef) -> String {
        ref.dtype + (ref.quantization.map { " " + $0 } ?? "")
    }

    static func changes(_ x: DiffView.Node, _ y: DiffView.Node, _ viewA: DiffView, _ viewB: DiffView) -> [String] {
        var changes: [String] = []
        for key in Set(x.attributes.keys).union(y.attributes.keys).sorted() where x.attributes[key] != y.attributes[key] {
            changes.append("\(key) \(x.attributes[key] ?? "—") → \(y.attributes[key] ?? "—")")
        }
        if x.inputs.count != y.inputs.count { changes.append("inputs \(x.inputs.count) → \(y.inputs.count)") }
        for (position, (inputA, inputB)) in zip(x.inputs, y.inputs).enumerated() {
            let label = "input \(position)"
            switch (inputA, inputB) {
            case (nil, nil): continue
            case (nil, _?): changes.append("\(label) none → \(inputB!.name)")
            case (_?, nil): changes.append("\(label) \(inputA!.name) → none")
            case (let p?, let q?):
                let weightA = p.weight.map { viewA.weights[$0] }, weightB = q.weight.map { viewB.weights[$0] }
                if (weightA == nil) != (weightB == nil) {
                    changes.append("\(label) \(weightA == nil ? "activation" : "weight") → \(weightB == nil ? "activation" : "weight")")
                    continue
                }
                let what = weightA != nil ? "weight \(displayName(p.name))" : label
                if p.shape != q.shape { changes.append("\(what) shape \(p.shape) → \(q.shape)") }
                if p.dtype != q.dtype || p.quantization != q.quantization {
                    changes.append("\(what) dtype \(typeText(p)) → \(typeText(q))")
                }
                if p.constantText != q.constantText {
                    changes.append("\(label) value \(p.constantText ?? "—") → \(q.constantText ?? "—")")
                }
            }
        }
        if x.outputs.count != y.outputs.count { changes.append("outputs \(x.outputs.count) → \(y.outputs.count)") }
        for (position, (p, q)) in zip(x.outputs, y.outputs).enumerated() {
            let label = x.outputs.count == 1 ? "output" : "output \(position)"
            if p.shape != q.shape { changes.append("\(label) shape \(p.shape) → \(q.shape)") }
            if p.dtype != q.dtype || p.quantization != q.quantization {
                changes.append("\(label) dtype \(typeText(p)) → \(typeText(q))")
            }
        }
        return changes
    }

    // MARK: weights

    static func compare(_ x: DiffView.Weight, _ y: DiffView.Weight, tolerance: Double) throws -> WeightComparison {
        var result = WeightComparison(nameA: x.name, nameB: y.name, shapeA: x.shape, shapeB: y.shape, dtypeA: x.dtype,
                                      dtypeB: y.dtype, count: x.count, maxAbsDiff: nil, relL2: nil, cosine: nil,
                                      zerosA: nil, zerosB: nil, withinTolerance: false)
        guard x.shape == y.shape, x.count == y.count else { return result }
        let p: [Float], q: [Float]
        do {
            p = try x.values()
            q = try y.values()
        } catch DiffError.undecodable {
            // Not a type keraslite dequantizes: equal only when the stored bytes are.
            if let a = x.rawBytes?(), let b = y.rawBytes?(), x.dtype == y.dtype {
                result.withinTolerance = a == b
                if a == b { result.maxAbsDiff = 0 }
            }
            return result
        }
        guard p.count == q.count, p.count == x.count else { return result }
        var maxAbs = 0.0, diff2 = 0.0, pp = 0.0, qq = 0.0, pq = 0.0
        var zerosP = 0, zerosQ = 0
        for k in 0..<p.count {
            let u = Double(p[k]), v = Double(q[k])
            let d = abs(u - v)
            if d > maxAbs || d.isNaN { maxAbs = d.isNaN ? .infinity : d }
            diff2 += (u - v) * (u - v)
            pp += u * u
            qq += v * v
            pq += u * v
            if u == 0 { zerosP += 1 }
            if v == 0 { zerosQ += 1 }
        }
        let normP = pp.squareRoot(), normQ = qq.squareRoot()
        result.maxAbsDiff = maxAbs
        let reference = normP > 0 ? normP : normQ
        result.relL2 = reference > 0 ? diff2.squareRoot() / reference : 0
        result.cosine = normP > 0 && normQ > 0 ? pq / (normP * normQ) : (normP == normQ ? 1 : 0)
        result.zerosA = p.isEmpty ? 0 : Double(zerosP) / Double(p.count)
        result.zerosB = q.isEmpty ? 0 : Double(zerosQ) / Double(q.count)
        result.withinTolerance = maxAbs <= tolerance
        return result
    }
}

