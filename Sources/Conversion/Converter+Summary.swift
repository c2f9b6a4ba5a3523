import Foundation

extension Converter.Output {
    /// `convert`'s one-line report: `wrote OUT: 9 ops (CONV_2D 2, …), 21 tensors, 152.1 KB, 0.02 s`,
    /// operator types by count (most first, then by name), and for int8
    /// `; calibrated on N samples (minmax, 0.12 s)`; with `--sparse`, the constants stored sparse
    /// by encoding and their bytes (values and index vectors) dense → sparse. `seconds` is the whole command's time.
    public func summary(wrote output: String, seconds: Double) -> String {
        let ops = result.operatorCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var line = "wrote \(output): \(result.operatorCount) ops (\(ops)), \(result.tensorCount) tensors, "
            + "\(Self.formatSize(result.file.size)), \(String(format: "%.2f", seconds)) s"
        if let samples, let calibrationMethod {
            line += "; calibrated on \(samples.count) sample\(samples.count == 1 ? "" : "s") "
                + String(format: "(%@, %.2f s)", calibrationMethod.rawValue, calibrationSeconds)
        }
        if let sparse = result.sparse {
            line += sparse.tensors == 0 ? "; --sparse: no constant pays off stored sparse"
                : "; \(sparse.tensors) constant\(sparse.tensors == 1 ? "" : "s") stored sparse ("
                + sparse.layouts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + (sparse.densified > 0 ? ", \(sparse.densified) through DENSIFY" : "")
                + "): \(Self.formatSize(sparse.denseBytes)) → \(Self.formatSize(sparse.sparseBytes)), "
                + "\(Self.formatSize(sparse.denseBytes - sparse.sparseBytes)) saved"
        }
        return line
    }

    /// `912 B`, `1.6 KB`, `98.0 MB` (printf rounding; HTML's `formatBytes` rounds halves up and
    /// goes on to GB, so the two differ on some sizes).
    static func formatSize(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KB", Double(bytes) / 1024) }
        return String(format: "%.1f MB", Double(bytes) / 1048576)
    }
}
