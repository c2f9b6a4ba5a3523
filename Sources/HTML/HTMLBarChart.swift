/// A horizontal bar chart in HTML: one row per item with its label, a bar whose length is
/// proportional to the value, and the value as text. Two buttons switch between the given order
/// (model order) and largest first.
package struct HTMLBarChart {
    package struct Bar {
        /// The row label (plain text; long labels are cut with an ellipsis, the tooltip has all).
        package var label: String
        package var value: Double
        /// The value as shown (`18.1 KB`).
        package var valueText: String
        /// The row tooltip (plain text).
        package var tooltip: String
        /// Row classes: a `cat-*` family for the colour, `added`/`removed`/`changed` in a diff.
        package var classes: [String] = []

        package init(label: String, value: Double, valueText: String, tooltip: String, classes: [String] = []) {
            self.label = label
            self.value = value
            self.valueText = valueText
            self.tooltip = tooltip
            self.classes = classes
        }
    }

    /// The id of the rows' container (unique in the page), which the order buttons sort.
    package var id: String
    package var bars: [Bar]
    /// The value of a full-width bar; by default the largest value. Give two charts the same one to
    /// compare them side by side.
    package var scaleMaximum: Double? = nil
    /// Shown instead of the chart when there are no bars (plain text).
    package var emptyText = "Nothing to chart."

    package init(id: String, bars: [Bar], scaleMaximum: Double? = nil, emptyText: String = "Nothing to chart.") {
        self.id = id
        self.bars = bars
        self.scaleMaximum = scaleMaximum
        self.emptyText = emptyText
    }

    package func render() -> String {
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
