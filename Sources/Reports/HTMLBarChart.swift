/// A horizontal bar chart in HTML: one row per item with its label, a bar whose length is
/// proportional to the value, and the value as text. Two buttons switch between the given order
/// (model order) and largest first.
struct HTMLBarChart {
    struct Bar {
        /// The row label (plain text; long labels are cut with an ellipsis, the tooltip has all).
        var label: String
        var value: Double
        /// The value as shown (`18.1 KB`).
        var valueText: String
        /// The row tooltip (plain text).
        var tooltip: String
        /// Row classes: a `cat-*` family for the colour, `added`/`removed`/`changed` in a diff.
        var classes: [String] = []
    }

    /// The id of the rows' container (unique in the page), which the order buttons sort.
    var id: String
    var bars: [Bar]
    /// The value of a full-width bar; by default the largest value. Give two charts the same one to
    /// compare them side by side.
    var scaleMaximum: Double? = nil
    /// Shown instead of the chart when there are no bars (plain text).
    var emptyText = "Nothing to chart."

    func render() -> String {
        guard !bars.isEmpty else { return "<p class=\"note\">\(HTML.escape(emptyText))</p>\n" }
        let maximum = max(scaleMaximum ?? bars.map(\.value).max() ?? 1, .leastNonzeroMagnitude)
        var html = ""
        if bars.count > 1 {
            let target = HTML.escape(id)
            html += "<div class=\"toolbar\">order <button class=\"on\" data-order=\"i\" data-target=\"\(target)\">model</button>"
                + "<button data-order=\"v\" data-target=\"\(target)\">largest first</button></div>\n"
        }
        html += "<div class=\"bars\" id=\"\(HTML.escape(id))\">\n"
        for (index, bar) in bars.enumerated() {
            let width = bar.value > 0 ? max(bar.value / maximum * 100, 0.3) : 0
            html += "<div\(HTML.classes(["bar-row"] + bar.classes)) data-i=\"\(index)\" data-v=\"\(HTML.sortKey(bar.value))\""
                + "\(HTML.attribute("title", bar.tooltip))><div class=\"bar-label\">\(HTML.escape(bar.label))</div>"
                + "<div class=\"bar-track\"><div class=\"bar\" style=\"width:\(HTML.number(min(width, 100)))%\"></div></div>"
                + "<div class=\"bar-value\">\(HTML.escape(bar.valueText))</div></div>\n"
        }
        return html + "</div>\n"
    }
}
