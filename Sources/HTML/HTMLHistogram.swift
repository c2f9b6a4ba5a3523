/// A column histogram in HTML: one column per bin, its height proportional to the count, the
/// count above and the bin label below (linear scale, like the terminal report).
package struct HTMLHistogram {
    package struct Bin {
        /// The bin label (plain text), e.g. `1e-3..1e-2`.
        package var label: String
        package var count: Int
        /// `zero` (exact zeros) and `near` (within the near-zero threshold) colour the column.
        package var classes: [String] = []

        package init(label: String, count: Int, classes: [String] = []) {
            self.label = label
            self.count = count
            self.classes = classes
        }
    }

    package var bins: [Bin]
    /// The count of a full-height column; by default the largest count. Give two histograms the
    /// same one to compare them side by side.
    package var scaleMaximum: Int? = nil
    /// Pixels of the tallest column.
    package var plotHeight = 170

    package init(bins: [Bin], scaleMaximum: Int? = nil, plotHeight: Int = 170) {
        self.bins = bins
        self.scaleMaximum = scaleMaximum
        self.plotHeight = plotHeight
    }

    package func render() -> String {
        let total = bins.reduce(0) { $0 + $1.count }
        let maximum = max(scaleMaximum ?? bins.map(\.count).max() ?? 1, 1)
        var html = "<div class=\"hist\">\n"
        for bin in bins {
            let height = bin.count == 0 ? 0 : max(Double(bin.count) / Double(maximum) * Double(plotHeight), 2)
            let share = total > 0 ? " (" + formatPercent(Double(bin.count) / Double(total)) + ")" : ""
            html += "<div\(HTML.classes(["hist-bin"] + bin.classes))\(HTML.attribute("title", "|w| \(bin.label): \(formatCount(bin.count))\(share)"))>"
                + "<div class=\"hist-count\">\(formatCount(bin.count))</div>"
                + "<div class=\"hist-col\" style=\"height:\(HTML.number(height))px\"></div>"
                + "<div class=\"hist-label\">\(HTML.escape(bin.label))</div></div>\n"
        }
        return html + "</div>\n"
    }
}
