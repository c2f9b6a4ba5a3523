/// A dataflow graph drawn as static inline SVG: boxes for ops (and for graph inputs and outputs),
/// arrows for tensors, laid out top to bottom in Swift so the page needs no script or library.
///
/// The input is neutral — `Node`s with two lines of text and CSS classes, `Edge`s between node
/// indices — so the inspect page (IR ops, TFLite operators) and the diff page (nodes marked
/// `added`/`removed`/`changed`) share it. The layout is the classic layered one (Sugiyama):
/// 1. rank = longest path from the sources, sources then moved down next to their first reader;
/// 2. edges spanning several ranks get a virtual point per rank, so they bend around boxes;
/// 3. the order within each rank minimises crossings by barycenter sweeps (best of 12);
/// 4. x positions: each rank is placed as close as possible to the mean x of its neighbours
///    without overlap (a least-squares problem solved exactly by pool-adjacent-violators),
///    alternating downward and upward sweeps.
/// Nodes must be given in a topological order (execution order); an edge pointing backwards
/// (only a malformed file has one) is drawn but ignored by the layout.
/// Cost: O(sweeps × Σ edges between adjacent ranks²) for the crossing counts — milliseconds for
/// ResNet50- or MobileNet-size graphs.
package struct HTMLGraph {
    package struct Node {
        /// The bold first line: the op kind or builtin (plain text).
        package var title: String
        /// The second line: the layer or tensor name (plain text; shortened in the middle to fit).
        package var subtitle: String
        /// Shown on hover: everything else worth knowing (plain text).
        package var tooltip: String
        /// Classes besides `node`: `io` (drawn as a pill), `input`/`output`, a `cat-*` family,
        /// `added`/`removed`/`changed`.
        package var classes: [String] = []

        package init(title: String, subtitle: String, tooltip: String, classes: [String] = []) {
            self.title = title
            self.subtitle = subtitle
            self.tooltip = tooltip
            self.classes = classes
        }
    }

    package struct Edge {
        package var from: Int
        package var to: Int
        /// Shown on hover: the tensor (plain text).
        package var tooltip: String = ""
        /// Classes besides `edge` (`added`, `removed`, `changed`); each set gets its own arrowhead.
        package var classes: [String] = []

        package init(from: Int, to: Int, tooltip: String = "", classes: [String] = []) {
            self.from = from
            self.to = to
            self.tooltip = tooltip
            self.classes = classes
        }
    }

    package struct Point: Equatable {
        package var x: Double
        package var y: Double
    }

    /// Where everything goes, in SVG user units (pixels).
    package struct Layout {
        package var width: Double
        package var height: Double
        /// The top-left corner and size of each node's box.
        package var frames: [(x: Double, y: Double, width: Double, height: Double)]
        /// Each node's rank (row), 0 at the top.
        package var ranks: [Int]
        /// Per edge: its start (bottom of the source), then for each rank it passes a pair of points
        /// (top and bottom of that rank), then its end (top of the target). Consecutive points
        /// alternate between a curve (between ranks) and a straight line (through a rank).
        package var routes: [[Point]]
    }

    package var nodes: [Node]
    package var edges: [Edge]
    /// Prefix of the ids in the SVG (arrowhead markers), unique per graph on a page.
    package var idPrefix = "graph"

    package init(nodes: [Node], edges: [Edge], idPrefix: String = "graph") {
        self.nodes = nodes
        self.edges = edges
        self.idPrefix = idPrefix
    }

    package static let nodeHeight = 34.0
    package static let rankGap = 30.0
    package static let nodeGap = 16.0
    package static let virtualWidth = 8.0
    package static let margin = 16.0
    package static let minimumNodeWidth = 64.0
    package static let maximumNodeWidth = 210.0
    /// Advance of one character of the monospace labels: 11 px bold titles, 10 px subtitles.
    package static let titleCharacterWidth = 6.8
    package static let subtitleCharacterWidth = 6.15
    package static let textPadding = 16.0
    /// Graphs larger than this are not drawn (the page says so); the SVG would be unusable anyway.
    package static let maximumNodes = 3000

    /// The text a node shows, shortened to fit `maximumNodeWidth`.
    package static func fittedLabels(_ node: Node) -> (title: String, subtitle: String) {
        let room = maximumNodeWidth - textPadding
        return (HTML.abbreviate(node.title, to: Int(room / titleCharacterWidth)),
                HTML.abbreviate(node.subtitle, to: Int(room / subtitleCharacterWidth)))
    }

    package static func width(of node: Node) -> Double {
        let (title, subtitle) = fittedLabels(node)
        let text = max(Double(title.count) * titleCharacterWidth, Double(subtitle.count) * subtitleCharacterWidth)
        return min(max(text + textPadding, minimumNodeWidth), maximumNodeWidth)
    }

    // MARK: Layout

    package static func layout(nodes: [Node], edges: [Edge]) -> Layout {
        let count = nodes.count
        guard count > 0 else { return Layout(width: 2 * margin, height: 2 * margin, frames: [], ranks: [], routes: []) }

        // 1. Ranks from the forward edges (distinct pairs).
        var pairs: [Int: Int] = [:]  // from * count + to → index in `forward`
        var forward: [(from: Int, to: Int)] = []
        var predecessors = Array(repeating: [Int](), count: count), successors = predecessors
        for edge in edges where edge.from < edge.to && edge.from >= 0 && edge.to < count {
            let key = edge.from * count + edge.to
            guard pairs[key] == nil else { continue }
            pairs[key] = forward.count
            forward.append((edge.from, edge.to))
            predecessors[edge.to].append(edge.from)
            successors[edge.from].append(edge.to)
        }
        var rank = Array(repeating: 0, count: count)
        for node in 0..<count {
            rank[node] = predecessors[node].map { rank[$0] + 1 }.max() ?? 0
        }
        for node in 0..<count where predecessors[node].isEmpty && !successors[node].isEmpty {
            rank[node] = max(0, (successors[node].map { rank[$0] }.min() ?? 1) - 1)
        }
        let rankCount = (rank.max() ?? 0) + 1

        // 2. Vertices: the nodes, then one virtual vertex per rank an edge passes.
        var vertexRank = rank
        var vertexWidth = nodes.map(width(of:))
        var up = Array(repeating: [Int](), count: count), down = up
        var chains: [[Int]] = []  // per forward edge: the virtual vertices it passes
        for (from, to) in forward {
            var previous = from
            var chain: [Int] = []
            for passing in (rank[from] + 1)..<max(rank[to], rank[from] + 1) {
                let vertex = vertexRank.count
                vertexRank.append(passing)
                vertexWidth.append(virtualWidth)
                up.append([previous])
                down.append([])
                down[previous].append(vertex)
                chain.append(vertex)
                previous = vertex
            }
            down[previous].append(to)
            up[to].append(previous)
            chains.append(chain)
        }
        let vertexCount = vertexRank.count
        let isVirtual = { (vertex: Int) in vertex >= count }

        // 3. Order within ranks: start from the given (execution) order, virtual points after their
        //    source; then barycenter sweeps, keeping the order with the fewest crossings.
        var initialKey = (0..<count).map(Double.init)
        for (index, (from, _)) in forward.enumerated() {
            for step in chains[index].indices {
                initialKey.append(Double(from) + 0.5 + Double(step) * 1e-6 + Double(index) * 1e-9)
            }
        }
        var layers = Array(repeating: [Int](), count: rankCount)
        for vertex in (0..<vertexCount).sorted(by: { initialKey[$0] < initialKey[$1] }) { layers[vertexRank[vertex]].append(vertex) }
        var position = Array(repeating: 0, count: vertexCount)
        func renumber() { for layer in layers { for (index, vertex) in layer.enumerated() { position[vertex] = index } } }
        renumber()

        func crossings() -> Int {
            var total = 0
            for r in 0..<(rankCount - 1) {
                var segments: [(Int, Int)] = []
                for vertex in layers[r] { for next in down[vertex] { segments.append((position[vertex], position[next])) } }
                guard segments.count > 1, segments.count <= 4000 else { continue }
                for i in 0..<segments.count {
                    for j in (i + 1)..<segments.count {
                        let (a, b) = segments[i], (c, d) = segments[j]
                        if (a < c && b > d) || (a > c && b < d) { total += 1 }
                    }
                }
            }
            return total
        }
        func sweep(downward: Bool) {
            let order = downward ? Array(1..<max(rankCount, 1)) : Array((0..<max(rankCount - 1, 0)).reversed())
            for r in order {
                let keyed = layers[r].map { vertex -> (Int, Double) in
                    let neighbours = downward ? up[vertex] : down[vertex]
                    guard !neighbours.isEmpty else { return (vertex, Double(position[vertex])) }
                    return (vertex, Double(neighbours.reduce(0) { $0 + position[$1] }) / Double(neighbours.count))
                }
                layers[r] = keyed.enumerated().sorted { lhs, rhs in
                    lhs.element.1 != rhs.element.1 ? lhs.element.1 < rhs.element.1 : lhs.offset < rhs.offset
                }.map(\.element.0)
                for (index, vertex) in layers[r].enumerated() { position[vertex] = index }
            }
        }
        if rankCount > 1 {
            var best = layers, bestCrossings = crossings()
            for iteration in 0..<12 where bestCrossings > 0 {
                sweep(downward: iteration % 2 == 0)
                let now = crossings()
                if now < bestCrossings { best = layers; bestCrossings = now }
            }
            layers = best
            renumber()
        }

        // 4. x positions: pack, then pull each rank towards its neighbours' mean without overlap.
        var x = Array(repeating: 0.0, count: vertexCount)
        func separation(_ left: Int, _ right: Int) -> Double {
            (vertexWidth[left] + vertexWidth[right]) / 2 + (isVirtual(left) || isVirtual(right) ? nodeGap / 2 : nodeGap)
        }
        for layer in layers {
            var cursor = 0.0
            for (index, vertex) in layer.enumerated() {
                if index > 0 { cursor += separation(layer[index - 1], vertex) }
                x[vertex] = cursor
            }
            let shift = cursor / 2
            for vertex in layer { x[vertex] -= shift }
        }
        func place(_ layer: [Int], desired: [Double], weights: [Double]) {
            // Minimise Σ weight·(x − desired)² subject to x[i+1] − x[i] ≥ separation: with
            // q = x − offset the constraint is q non-decreasing, i.e. weighted isotonic regression.
            var offsets = [0.0]
            for index in 1..<max(layer.count, 1) { offsets.append(offsets[index - 1] + separation(layer[index - 1], layer[index])) }
            var blocks: [(value: Double, weight: Double, size: Int)] = []
            for index in layer.indices {
                blocks.append((desired[index] - offsets[index], weights[index], 1))
                while blocks.count > 1, blocks[blocks.count - 2].value > blocks[blocks.count - 1].value {
                    let last = blocks.removeLast(), previous = blocks.removeLast()
                    let weight = last.weight + previous.weight
                    blocks.append(((last.value * last.weight + previous.value * previous.weight) / weight, weight, last.size + previous.size))
                }
            }
            var index = 0
            for block in blocks {
                for _ in 0..<block.size {
                    x[layer[index]] = block.value + offsets[index]
                    index += 1
                }
            }
        }
        func align(useUp: Bool, useDown: Bool, ranks: [Int]) {
            for r in ranks {
                let layer = layers[r]
                guard !layer.isEmpty else { continue }
                var desired: [Double] = [], weights: [Double] = []
                for vertex in layer {
                    let neighbours = (useUp ? up[vertex] : []) + (useDown ? down[vertex] : [])
                    if neighbours.isEmpty {
                        desired.append(x[vertex])
                        weights.append(0.25)
                    } else {
                        // A box follows its real neighbours more than passing edges, so the main
                        // path stays straight and skip connections go around it.
                        let pull = neighbours.map { isVirtual($0) && !isVirtual(vertex) ? 0.2 : 1.0 }
                        desired.append(zip(neighbours, pull).reduce(0) { $0 + x[$1.0] * $1.1 } / pull.reduce(0, +))
                        // Virtual points weigh more, so long edges stay straight.
                        weights.append(isVirtual(vertex) ? 4 : 1)
                    }
                }
                place(layer, desired: desired, weights: weights)
            }
        }
        let downwardRanks = Array(0..<rankCount), upwardRanks = Array(downwardRanks.reversed())
        for _ in 0..<6 {
            align(useUp: true, useDown: false, ranks: downwardRanks)
            align(useUp: false, useDown: true, ranks: upwardRanks)
        }
        for _ in 0..<2 { align(useUp: true, useDown: true, ranks: downwardRanks) }
        // Straighten one-to-one links (a chain of ops, a long edge's virtual points): move the
        // lower end under the upper one, or the upper over the lower, as far as its rank allows.
        var slot = Array(repeating: 0, count: vertexCount)
        for layer in layers { for (index, vertex) in layer.enumerated() { slot[vertex] = index } }
        func snap(_ vertex: Int, to target: Double) {
            let layer = layers[vertexRank[vertex]], index = slot[vertex]
            var low = -Double.infinity, high = Double.infinity
            if index > 0 { low = x[layer[index - 1]] + separation(layer[index - 1], vertex) }
            if index + 1 < layer.count { high = x[layer[index + 1]] - separation(vertex, layer[index + 1]) }
            if low <= high { x[vertex] = min(max(target, low), high) }
        }
        // Between boxes only box neighbours count: an add whose other input is a skip connection
        // goes straight under the box before it.
        func partner(_ vertex: Int, _ forward: [[Int]], _ backward: [[Int]]) -> Int? {
            if isVirtual(vertex) {
                guard forward[vertex].count == 1, backward[forward[vertex][0]].count == 1 else { return nil }
                return forward[vertex][0]
            }
            let boxes = forward[vertex].filter { !isVirtual($0) }
            guard boxes.count == 1, backward[boxes[0]].filter({ !isVirtual($0) }).count == 1 else { return nil }
            return boxes[0]
        }
        for _ in 0..<3 {
            for r in downwardRanks { for vertex in layers[r] { if let above = partner(vertex, up, down) { snap(vertex, to: x[above]) } } }
            for r in upwardRanks { for vertex in layers[r] { if let below = partner(vertex, down, up) { snap(vertex, to: x[below]) } } }
        }
        // Long edges: one straight vertical run as close to their ends as the boxes beside allow.
        func bounds(_ vertex: Int) -> (low: Double, high: Double) {
            let layer = layers[vertexRank[vertex]], index = slot[vertex]
            return (index > 0 ? x[layer[index - 1]] + separation(layer[index - 1], vertex) : -.infinity,
                    index + 1 < layer.count ? x[layer[index + 1]] - separation(vertex, layer[index + 1]) : .infinity)
        }
        for _ in 0..<2 {
            for (index, chain) in chains.enumerated() where !chain.isEmpty {
                let desired = (x[forward[index].from] + x[forward[index].to]) / 2
                let limits = chain.map(bounds)
                let low = limits.map(\.low).max()!, high = limits.map(\.high).min()!
                if low <= high {
                    for vertex in chain { x[vertex] = min(max(desired, low), high) }
                } else {
                    for vertex in chain { snap(vertex, to: desired) }
                }
            }
        }
        let left = (0..<vertexCount).map { x[$0] - vertexWidth[$0] / 2 }.min() ?? 0
        for vertex in 0..<vertexCount { x[vertex] += margin - left }
        let width = ((0..<vertexCount).map { x[$0] + vertexWidth[$0] / 2 }.max() ?? 0) + margin
        func top(_ r: Int) -> Double { margin + Double(r) * (nodeHeight + rankGap) }
        let height = top(rankCount - 1) + nodeHeight + margin

        // 5. Routes: arrows leave a box along its bottom and enter along its top, spread out in
        //    the order of the other ends so they do not cross right at the box.
        let frames = (0..<count).map { (x: x[$0] - vertexWidth[$0] / 2, y: top(rank[$0]), width: vertexWidth[$0], height: nodeHeight) }
        var routes: [[Point]] = []
        var outgoing = Array(repeating: [Int](), count: count), incoming = outgoing
        for (index, edge) in edges.enumerated() where edge.from >= 0 && edge.from < count && edge.to >= 0 && edge.to < count {
            outgoing[edge.from].append(index)
            incoming[edge.to].append(index)
        }
        func firstHop(_ edge: Edge) -> Double {
            guard let chain = pairs[edge.from * count + edge.to].map({ chains[$0] }), let first = chain.first else { return x[edge.to] }
            return x[first]
        }
        func lastHop(_ edge: Edge) -> Double {
            guard let chain = pairs[edge.from * count + edge.to].map({ chains[$0] }), let last = chain.last else { return x[edge.from] }
            return x[last]
        }
        func spread(_ list: [Int], around center: Double, width: Double, key: (Edge) -> Double) -> [Int: Double] {
            let distinct = Array(Set(list.map { key(edges[$0]) })).sorted()
            guard distinct.count > 1 else { return Dictionary(list.map { ($0, center) }, uniquingKeysWith: { first, _ in first }) }
            // An edge going straight up or down keeps the middle; the others fan out beside it.
            let nearest = distinct.indices.min { abs(distinct[$0] - center) < abs(distinct[$1] - center) }!
            let anchor = abs(distinct[nearest] - center) < 1 ? Double(nearest) : Double(distinct.count - 1) / 2
            let reach = max(anchor, Double(distinct.count - 1) - anchor)
            let step = min(12, (width / 2 - 6) / reach)
            var result: [Int: Double] = [:]
            for index in list {
                let slot = Double(distinct.firstIndex(of: key(edges[index]))!)
                result[index] = center + (slot - anchor) * step
            }
            return result
        }
        var startX: [Int: Double] = [:], endX: [Int: Double] = [:]
        for node in 0..<count {
            startX.merge(spread(outgoing[node], around: x[node], width: vertexWidth[node], key: firstHop)) { $1 }
            endX.merge(spread(incoming[node], around: x[node], width: vertexWidth[node], key: lastHop)) { $1 }
        }
        for (index, edge) in edges.enumerated() {
            guard edge.from >= 0, edge.from < count, edge.to >= 0, edge.to < count else { routes.append([]); continue }
            var points = [Point(x: startX[index] ?? x[edge.from], y: top(rank[edge.from]) + nodeHeight)]
            if edge.from < edge.to, let chain = pairs[edge.from * count + edge.to].map({ chains[$0] }) {
                for vertex in chain {
                    points.append(Point(x: x[vertex], y: top(vertexRank[vertex])))
                    points.append(Point(x: x[vertex], y: top(vertexRank[vertex]) + nodeHeight))
                }
            }
            points.append(Point(x: endX[index] ?? x[edge.to], y: top(rank[edge.to])))
            routes.append(points)
        }
        return Layout(width: width, height: height, frames: frames, ranks: rank, routes: routes)
    }

    // MARK: SVG

    /// The SVG path of a route: cubic curves between ranks (vertical tangents), lines through them.
    package static func pathData(_ points: [Point]) -> String {
        guard let first = points.first else { return "" }
        var d = "M\(HTML.number(first.x)),\(HTML.number(first.y))"
        for index in 1..<points.count {
            let p = points[index - 1], q = points[index]
            if index % 2 == 0 || p.x == q.x {
                d += "L\(HTML.number(q.x)),\(HTML.number(q.y))"
            } else {
                let middle = (p.y + q.y) / 2
                d += "C\(HTML.number(p.x)),\(HTML.number(middle)) \(HTML.number(q.x)),\(HTML.number(middle)) \(HTML.number(q.x)),\(HTML.number(q.y))"
            }
        }
        return d
    }

    /// `<div class="graph-wrap"><svg class="graph">…</svg></div>`: one `<g class="node">` per node
    /// and one `<path class="edge">` per edge.
    package func render() -> String {
        guard nodes.count <= Self.maximumNodes else {
            return "<p class=\"note\">The graph has \(formatCount(nodes.count)) nodes, too many to draw; the table lists them all.</p>\n"
        }
        let layout = Self.layout(nodes: nodes, edges: edges)
        func identifier(_ text: String) -> String {
            String(text.unicodeScalars.map { scalar -> Character in
                (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
                    ? Character(scalar) : "_"
            })
        }
        var markers: [String: String] = [:]  // classes → marker id
        func marker(for classes: [String]) -> String {
            let key = classes.joined(separator: " ")
            if let id = markers[key] { return id }
            let id = identifier(idPrefix) + "-arrow" + (classes.isEmpty ? "" : "-" + identifier(classes.joined(separator: "-")))
            markers[key] = id
            return id
        }
        var edgeMarkup = ""
        for (index, edge) in edges.enumerated() {
            let route = layout.routes[index]
            guard route.count >= 2 else { continue }
            let id = marker(for: edge.classes)
            edgeMarkup += "<path\(HTML.classes(["edge"] + edge.classes)) d=\"\(Self.pathData(route))\" marker-end=\"url(#\(id))\">"
            edgeMarkup += edge.tooltip.isEmpty ? "</path>\n" : "<title>\(HTML.escape(edge.tooltip))</title></path>\n"
        }
        var nodeMarkup = ""
        for (index, node) in nodes.enumerated() {
            let frame = layout.frames[index]
            let (title, subtitle) = Self.fittedLabels(node)
            let radius = node.classes.contains("io") ? Self.nodeHeight / 2 : 5
            let center = HTML.number(frame.width / 2)
            nodeMarkup += "<g\(HTML.classes(["node"] + node.classes)) data-i=\"\(index)\" transform=\"translate(\(HTML.number(frame.x)),\(HTML.number(frame.y)))\">"
            nodeMarkup += "<title>\(HTML.escape(node.tooltip))</title>"
            nodeMarkup += "<rect width=\"\(HTML.number(frame.width))\" height=\"\(HTML.number(frame.height))\" rx=\"\(HTML.number(radius))\"/>"
            if subtitle.isEmpty {
                nodeMarkup += "<text class=\"t\" x=\"\(center)\" y=\"21\" text-anchor=\"middle\">\(HTML.escape(title))</text>"
            } else {
                nodeMarkup += "<text class=\"t\" x=\"\(center)\" y=\"14\" text-anchor=\"middle\">\(HTML.escape(title))</text>"
                nodeMarkup += "<text class=\"s\" x=\"\(center)\" y=\"27\" text-anchor=\"middle\">\(HTML.escape(subtitle))</text>"
            }
            nodeMarkup += "</g>\n"
        }
        let width = HTML.number(layout.width), height = HTML.number(layout.height)
        var html = "<div class=\"graph-wrap\"><svg class=\"graph\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\">\n<defs>"
        for (key, id) in markers.sorted(by: { $0.value < $1.value }) {
            html += "<marker id=\"\(id)\"\(HTML.attribute("class", key)) viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,1L10,5L0,9z\"/></marker>"
        }
        html += "</defs>\n<g class=\"edges\">\n\(edgeMarkup)</g>\n<g class=\"nodes\">\n\(nodeMarkup)</g>\n</svg></div>\n"
        return html
    }
}
