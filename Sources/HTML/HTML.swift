/// Text helpers for keraslite's self-contained HTML pages (`inspect --html`, `diff --html`).
///
/// Everything that came from a model file — layer, tensor and op names, descriptions — goes
/// through `escape` before it reaches the page; the other building blocks (`HTMLPage`,
/// `HTMLTable`, `HTMLBarChart`, `HTMLHistogram`, `HTMLGraph`) take plain text and escape it
/// themselves, unless a parameter says it takes markup.
package enum HTML {
    /// `text` safe as element content and as a quoted attribute value: `&`, `<`, `>`, `"` and `'`
    /// become character references; control characters other than tab and newline (which HTML
    /// forbids or drops) become U+FFFD.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// ` name="value"` with the value escaped; empty when `value` is nil or empty.
    package static func attribute(_ name: String, _ value: String?) -> String {
        guard let value, !value.isEmpty else { return "" }
        return " \(name)=\"\(escape(value))\""
    }

    /// ` class="a b"` for the non-empty class names; empty when there are none.
    package static func classes(_ names: [String]) -> String {
        attribute("class", names.filter { !$0.isEmpty }.joined(separator: " "))
    }

    /// A number for CSS and SVG attributes: at most two decimals, no exponent, `.` as separator.
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = fixed(min(max(value, -1e9), 1e9), 2)
        guard text.contains(".") else { return text }
        var trimmed = Substring(text)
        while trimmed.last == "0" { trimmed.removeLast() }
        if trimmed.last == "." { trimmed.removeLast() }
        return trimmed == "-0" ? "0" : String(trimmed)
    }

    /// A `data-v` sort key: integers exactly, other values in Swift's shortest round-trip form
    /// (which JavaScript's `Number()` reads).
    package static func sortKey(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }

    /// `text` shortened to at most `limit` characters by replacing its middle with `…`, so both
    /// the prefix (model scope) and the suffix (layer) of long TensorFlow names stay visible.
    package static func abbreviate(_ text: String, to limit: Int) -> String {
        guard text.count > limit, limit >= 3 else { return text }
        let head = (limit - 1) / 2, tail = limit - 1 - head
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }

    /// The colour family of an op or layer type (`cat-conv`, `cat-norm`, …), shared by the graph
    /// nodes, the size bars and the legend; works for IR kinds, Keras classes and TFLite builtins.
    package static func category(of type: String) -> String {
        let name = type.lowercased()
        func has(_ parts: String...) -> Bool { parts.contains { name.contains($0) } }
        if has("input") { return "cat-io" }
        if has("conv") { return "cat-conv" }
        if has("dense", "fully_connected", "matmul", "batch_matmul", "embedding") { return "cat-dense" }
        if has("norm", "batch_n") { return "cat-norm" }
        if has("pool", "mean", "reduce", "sum") { return "cat-pool" }
        if has("relu", "activation", "softmax", "logistic", "sigmoid", "tanh", "elu", "swish", "gelu", "hard") {
            return "cat-act"
        }
        // Before merge: "ZeroPadding2D" contains "add".
        if has("reshape", "flatten", "transpose", "pad", "slice", "resize", "squeeze", "expand", "repeat", "identity",
               "dropout", "quantize", "cast", "gather", "crop", "upsampl", "permute", "rescal") {
            return "cat-shape"
        }
        if has("add", "sub", "mul", "div", "average", "maximum", "minimum", "concat", "merge", "pack") { return "cat-merge" }
        return "cat-other"
    }

    /// The legend entries for `category(of:)`, in display order.
    package static let categories: [(name: String, label: String)] = [
        ("cat-conv", "convolution"), ("cat-dense", "dense"), ("cat-norm", "normalization"), ("cat-act", "activation"),
        ("cat-pool", "pooling / reduce"), ("cat-merge", "merge"), ("cat-shape", "shape / copy"), ("cat-other", "other"),
        ("cat-io", "input / output"),
    ]
}
