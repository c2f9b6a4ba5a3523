/// `1,234,567`.
package func formatCount(_ value: Int) -> String {
    let digits = String(abs(value))
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out += "," }
        out.append(character)
    }
    return (value < 0 ? "-" : "") + out
}

/// `912 B`, `1.6 KB`, `98.0 MB` (powers of 1024).
package func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : fixed(value, 1) + " " + units[unit]
}

/// `12.5%`.
package func formatPercent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + "%" }

/// A number with `decimals` digits after the point, without Foundation's locale-dependent formatting.
package func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded) - whole * Int(scale)
    var text = (value < 0 && rounded > 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

/// `text` with control characters other than newlines shown escaped (`\u{5}`): names read from a
/// model file must not drive the terminal.
package func printable(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else { return text }
    return text.unicodeScalars.map { $0.properties.generalCategory == .control && $0 != "\n" ? $0.escaped(asASCII: true) : String($0) }.joined()
}

/// Left-aligned columns (right-aligned where asked) separated by two spaces; the first row is the header.
package func renderTable(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
    guard let header = rows.first else { return [] }
    var widths = Array(repeating: 0, count: header.count)
    for row in rows {
        for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
        row.enumerated().map { index, cell in
            let padding = String(repeating: " ", count: widths[index] - cell.count)
            return rightAligned.contains(index) ? padding + cell : cell + padding
        }.joined(separator: "  ").replacingTrailingSpaces()
    }
}

extension String {
    package func replacingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
