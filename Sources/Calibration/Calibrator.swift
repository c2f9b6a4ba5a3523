import Foundation
import GraphIR
import Interpreter
import Kernels
import TFLite
import TFLiteInterpreter

/// How a tensor's int8 range is chosen from the values calibration saw.
public enum CalibrationMethod: String, Sendable, CaseIterable {
    /// The smallest and largest value seen (TensorFlow's default).
    case minmax
    /// The `percentile`-th and (100 − `percentile`)-th percentiles: outliers are clipped.
    case percentile
    /// The clipping range that minimises the mean squared quantization error over the values seen.
    case mse
}

/// Runs calibration samples through a float32 `.tflite` on keraslite's reference executor and
/// estimates the range of every tensor it computes (model inputs and every operator output,
/// intermediates of multi-builtin lowerings included), by tensor index.
///
/// `minmax` needs one pass. `percentile` and `mse` need a second: it fills a 2048-bin histogram
/// per tensor over the range the first pass found, and the range is then chosen on the histogram.
public struct Calibrator: Sendable {
    public var method: CalibrationMethod
    /// For `percentile`: the upper percentile kept (99.99 keeps all but the top and bottom 0.01%).
    public var percentile: Double
    /// Samples per interpreter run.
    public var batchSize: Int

    static let bins = 2048

    public init(method: CalibrationMethod = .minmax, percentile: Double = 99.99, batchSize: Int = 8) {
        self.method = method
        self.percentile = percentile
        self.batchSize = batchSize
    }

    /// Passes over the samples the chosen method needs (the progress total is passes × samples).
    public var passes: Int { method == .minmax ? 1 : 2 }

    /// The range of every tensor the executor produced for `model` (a float32 .tflite — a file, or
    /// the converter's lowered model seen through `TFLiteFile(model:)` — whose inputs are named like
    /// the samples'), by tensor index. `progress` is called after each batch with (samples done,
    /// samples × passes).
    public func ranges(forModel model: TFLiteFile, samples: CalibrationSamples,
                       progress: ((Int, Int) -> Void)? = nil) throws -> [Int: ValueRange] {
        try ranges(forModel: model, samples: { samples }, progress: progress)
    }

    /// The same with the samples asked for once the executor is prepared (`samples` may wait for
    /// them to finish loading on another thread).
    public func ranges(forModel model: TFLiteFile, samples load: () throws -> CalibrationSamples,
                       progress: ((Int, Int) -> Void)? = nil) throws -> [Int: ValueRange] {
        let executor = try TFLiteExecutor(file: model)
        let samples = try load()
        let total = samples.count * passes
        // Batches run on every core at once (observers are called concurrently): the executor
        // reports each tensor's extremes — noted by the kernel that wrote it, else scanned on the
        // batch's core, with residual ADDs fused into their convolutions — and they are merged
        // under the lock. Minimum, maximum and histogram counts do not depend on the order batches
        // finish in.
        let lock = NSLock()
        var extremes: [Int: ValueRange] = [:]
        try forEachBatch(executor, samples, done: 0, total: total, progress: progress, lock: lock, watching: .ranges { index, range in
            let (low, high) = range ?? (0, 0)
            lock.withLock {
                if let range = extremes[index] {
                    extremes[index] = ValueRange(min: min(range.min, low), max: max(range.max, high))
                } else {
                    extremes[index] = ValueRange(min: low, max: high)
                }
            }
        })
        guard method != .minmax else { return extremes }

        var histograms: [Int: [Double]] = [:]
        try forEachBatch(executor, samples, done: samples.count, total: total, progress: progress, lock: lock, watching: .values { index, value in
            guard let range = extremes[index], range.max > range.min else { return }
            var histogram = [Double](repeating: 0, count: Self.bins)
            let width = (range.max - range.min) / Float(Self.bins)
            for x in value.values where x.isFinite {
                histogram[min(Self.bins - 1, max(0, Int((x - range.min) / width)))] += 1
            }
            lock.withLock {
                if let earlier = histograms[index] {
                    histograms[index] = zip(earlier, histogram).map(+)
                } else {
                    histograms[index] = histogram
                }
            }
        })
        var chosen = extremes
        for (index, histogram) in histograms {
            let range = extremes[index]!
            chosen[index] = method == .percentile
                ? Self.percentileRange(histogram, range, percentile: percentile)
                : Self.mseRange(histogram, range)
        }
        return chosen
    }

    /// What a pass over the samples watches of every tensor: its finite extremes (nil for none),
    /// or its values.
    private enum Watch {
        case ranges((Int, (low: Float, high: Float)?) -> Void)
        case values((Int, TensorValue) -> Void)
    }

    /// Runs the samples in batches (batchSize / cores samples each, or the model's own fixed
    /// batch): the first alone on all cores, then one batch per core at a time; calls the watch
    /// for every tensor of every batch from the thread running it and `progress` (under `lock`)
    /// after each batch.
    private func forEachBatch(_ executor: TFLiteExecutor, _ samples: CalibrationSamples, done: Int, total: Int,
                              progress: ((Int, Int) -> Void)?, lock: NSLock, watching watch: Watch) throws {
        let dynamic = executor.inputs.allSatisfy(\.hasDynamicBatch)
        let chunk = dynamic ? max(1, batchSize / Parallel.cores) : max(1, executor.inputs.first?.shape.first ?? 1)
        // The first chunk runs alone, each operator split over the cores, so every layer's filter is
        // packed once on all cores before the chunks run one per core (otherwise the first chunk on
        // each core makes the same forms at the same time, one core waiting for the other's).
        let first = min(chunk, samples.count)
        let rest = dynamic ? Parallel.balancedChunks(samples.count - first, chunk: chunk).map { ($0.lowerBound + first)..<($0.upperBound + first) }
            : stride(from: first, to: samples.count, by: chunk).map { $0..<min($0 + chunk, samples.count) }
        var finished = 0
        func run(_ rows: Range<Int>) throws {
            let values = try samples.values(for: executor, rows: rows)
            switch watch {
            case .ranges(let observe): _ = try executor.run(values, batchSize: chunk, observeRanges: { index, _, range in observe(index, range) })
            case .values(let observe): _ = try executor.run(values, batchSize: chunk, observe: { index, _, value, _ in observe(index, value) })
            }
            lock.withLock {
                finished += rows.count
                progress?(done + finished, total)
            }
        }
        try run(0..<first)
        try Parallel.forEachIndexOnAllCores(rest.count) { try run(rest[$0]) }
    }

    /// The range between the (100 − p)-th and p-th percentiles of the histogram (bin edges).
    static func percentileRange(_ histogram: [Double], _ range: ValueRange, percentile: Double) -> ValueRange {
        let total = histogram.reduce(0, +)
        let width = (range.max - range.min) / Float(histogram.count)
        let tail = total * (1 - percentile / 100)
        var cumulative = 0.0, lowBin = 0
        for (bin, count) in histogram.enumerated() {
            cumulative += count
            if cumulative > tail { lowBin = bin; break }
        }
        cumulative = 0
        var highBin = histogram.count - 1
        for bin in histogram.indices.reversed() {
            cumulative += histogram[bin]
            if cumulative > tail { highBin = bin; break }
        }
        return ValueRange(min: range.min + Float(lowBin) * width, max: range.min + Float(highBin + 1) * width)
    }

    /// The range, among 100 shrinkings of the full range towards zero, whose int8 quantization
    /// (clipping included) has the smallest squared error over the histogram's bin centres.
    static func mseRange(_ histogram: [Double], _ range: ValueRange) -> ValueRange {
        let width = (range.max - range.min) / Float(histogram.count)
        let centres = histogram.indices.map { range.min + (Float($0) + 0.5) * width }
        var best = range, bestError = Double.infinity
        for step in stride(from: 100, through: 10, by: -1) {
            let factor = Float(step) / 100
            let candidate = ValueRange(min: min(range.min, 0) * factor, max: max(range.max, 0) * factor)
            let (scale, zeroPoint) = candidate.int8Parameters
            var error = 0.0
            for (bin, count) in histogram.enumerated() where count > 0 {
                let x = centres[bin]
                let q = max(-128, min(127, (x / scale).rounded() + Float(zeroPoint)))
                let difference = Double(x - (q - Float(zeroPoint)) * scale)
                error += count * difference * difference
            }
            if error < bestError { (best, bestError) = (candidate, error) }
        }
        return best
    }
}
