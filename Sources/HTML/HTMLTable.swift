/// A sortable `<table>`: text columns left-aligned, number columns right-aligned with thousands
/// separators and the raw value in `data-v`, so the page script sorts numerically.
package struct HTMLTable {
    package struct Column {
        package var title: String
        package var numeric = false
        /// A header tooltip (plain text).
        package var tooltip: String? = nil

        package init(title: String, numeric: Bool = false, tooltip: String? = nil) {
            self.title = title
            self.numeric = numeric
            self.tooltip = tooltip
        }

        package init(_ title: String, numeric: Bool = false, tooltip: String? = nil) {
            self.title = title
            self.numeric = numeric
            self.tooltip = tooltip
        }
    }

    package struct Cell {
        /// The cell's content as markup.
        package var html: String
        /// The value the script sorts by; nil sorts by the text.
        package var sortValue: Double?
        package var classes: [String] = []
        /// A tooltip (plain text).
        package var tooltip: String? = nil

        package init(html: String, sortValue: Double?, classes: [String] = [], tooltip: String? = nil) {
            self.html = html
            self.sortValue = sortValue
            self.classes = classes
            self.tooltip = tooltip
        }

        /// Plain text, escaped.
        package static func text(_ text: String, classes: [String] = [], tooltip: String? = nil) -> Cell {
            Cell(html: HTML.escape(text), sortValue: nil, classes: classes, tooltip: tooltip)
        }
        /// Markup as given (the caller escapes what came from the file).
        package static func markup(_ html: String, sortValue: Double? = nil, classes: [String] = [], tooltip: String? = nil) -> Cell {
            Cell(html: html, sortValue: sortValue, classes: classes, tooltip: tooltip)
        }
        /// `1,234,567`.
        package static func count(_ value: Int, classes: [String] = []) -> Cell {
            Cell(html: formatCount(value), sortValue: Double(value), classes: ["num"] + classes)
        }
        /// `18.1 KB`, exact bytes in the tooltip; empty for zero when `blankZero`.
        package static func bytes(_ value: Int, blankZero: Bool = false, classes: [String] = []) -> Cell {
            Cell(html: blankZero && value == 0 ? "" : formatBytes(value), sortValue: Double(value), classes: ["num"] + classes,
                 tooltip: value >= 1024 ? "\(formatCount(value)) bytes" : nil)
        }
        /// `12.5%` of `part / whole`; `–` without a value.
        package static func percent(_ part: Int?, of whole: Int, classes: [String] = []) -> Cell {
            guard let part, whole > 0 else { return Cell(html: "–", sortValue: -1, classes: ["num", "dim"] + classes) }
            let fraction = Double(part) / Double(whole)
            return Cell(html: formatPercent(fraction), sortValue: fraction, classes: ["num"] + classes,
                        tooltip: "\(formatCount(part)) of \(formatCount(whole))")
        }
        /// An optional count: blank (sorting lowest) when nil.
        package static func optionalCount(_ value: Int?, classes: [String] = []) -> Cell {
            guard let value else { return Cell(html: "", sortValue: -1, classes: ["num"] + classes) }
            return count(value, classes: classes)
        }
        /// An inline bar of `fraction` (0…1) with the percentage beside it, coloured by the row's `cat-*` class.
        package static func share(_ fraction: Double, classes: [String] = []) -> Cell {
            let clamped = fraction.isFinite ? min(max(fraction, 0), 1) : 0
            return Cell(html: "<div class=\"share\"><div><div style=\"width:\(HTML.number(clamped * 100))%\"></div></div>"
                        + "<span>\(formatPercent(clamped))</span></div>",
                        sortValue: clamped, classes: ["num"] + classes)
        }
    }

    package struct Row {
        package var cells: [Cell]
        package var classes: [String] = []
        /// Attributes added to the `<tr>` (name → plain-text value), e.g. `data-name` for the diff.
        package var attributes: [(String, String)] = []

        package init(cells: [Cell], classes: [String] = [], attributes: [(String, String)] = []) {
            self.cells = cells
            self.classes = classes
            self.attributes = attributes
        }
    }

    package var columns: [Column]
    package var rows: [Row]
    /// Classes of the `<table>` besides `sortable`.
    package var classes: [String] = []
    /// Wrap the table in a scrolling box with a sticky header (long tables).
    package var scrolls = true

    package init(columns: [Column], rows: [Row], classes: [String] = [], scrolls: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.classes = classes
        self.scrolls = scrolls
    }

    package func render() -> String {
        var html = scrolls ? "<div class=\"scroll\">" : ""
        html += "<table\(HTML.classes(["sortable"] + classes))><thead><tr>"
        for column in columns {
            html += "<th\(HTML.classes(column.numeric ? ["num"] : []))\(HTML.attribute("title", column.tooltip))>"
                + HTML.escape(column.title) + "</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr\(HTML.classes(row.classes))"
            for (name, value) in row.attributes { html += HTML.attribute(name, value) }
            html += ">"
            for cell in row.cells {
                html += "<td\(HTML.classes(cell.classes))"
                if let value = cell.sortValue { html += " data-v=\"\(HTML.sortKey(value))\"" }
                html += HTML.attribute("title", cell.tooltip) + ">" + cell.html + "</td>"
            }
            html += "</tr>\n"
        }
        html += "</tbody></table>"
        return html + (scrolls ? "</div>\n" : "\n")
    }
}
