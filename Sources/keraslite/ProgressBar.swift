import Foundation

/// A one-line progress bar on stderr, redrawn in place, for long runs (calibration). Silent when
/// stderr is not a terminal, so logs and pipes get no control characters.
final class ProgressBar: @unchecked Sendable {  // drawn from one thread at a time
    private let label: String
    private let unit: String
    private let enabled: Bool
    private let start = DispatchTime.now()
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(_ label: String, unit: String, enabled: Bool) {
        self.label = label
        self.unit = unit
        self.enabled = enabled
    }

    func update(_ done: Int, of total: Int) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard done >= total || now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        let width = 30
        let filled = total > 0 ? min(width, width * done / total) : width
        let seconds = Double(now - start.uptimeNanoseconds) / 1e9
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data(String(format: "\r%@ %@ %d/%d %@  %.1f s", label, bar, done, total, unit, seconds).utf8))
        drawn = true
    }

    /// Ends the line (once something was drawn).
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        drawn = false
    }
}
