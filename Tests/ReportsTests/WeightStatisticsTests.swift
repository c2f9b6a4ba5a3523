import JSON
import Testing
@testable import Analysis
@testable import Diff
@testable import HTML
@testable import Reports
@testable import TFLiteReports

@Suite struct WeightStatisticsTests {
    @Test func countsZerosAndNearZeros() {
        let values: [Float] = [0, -0, 1e-4, -1e-3, 0.0011, 2, -5]
        #expect(WeightStatistics.countZeros(values) == 2)
        #expect(WeightStatistics.countNearZero(values, threshold: 1e-3) == 4)
    }

    @Test func histogramBinsByDecade() {
        var counts: [Int] = []
        WeightStatistics.accumulateHistogram([0, 5e-8, 5e-4, -5e-4, 0.5, 1, 10, 1e6], into: &counts)
        let labels = WeightStatistics.histogramLabels
        func count(_ label: String) -> Int { counts[labels.firstIndex(of: label)!] }
        #expect(count("0") == 1)
        #expect(count("<1e-7") == 1)
        #expect(count("1e-4..1e-3") == 2)
        #expect(count("0.1..1") == 1)
        #expect(count("1..10") == 1)
        #expect(count("≥10") == 2)
        #expect(counts.reduce(0, +) == 8)
    }

    @Test func deflateCounterMatchesIntuition() {
        var state: UInt64 = 42
        let noise: [Float] = (0..<100_000).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11)) / Float(1 << 52)
        }
        let zeros = [Float](repeating: 0, count: 100_000)
        let noisy = DeflateCounter(), empty = DeflateCounter()
        noise.withUnsafeBytes { noisy.feed($0) }
        zeros.withUnsafeBytes { empty.feed($0) }
        let noisyBytes = noisy.finish(), zeroBytes = empty.finish()
        #expect(noisyBytes > 300_000)  // random floats barely compress
        #expect(zeroBytes < 4_000)     // zeros nearly vanish
        #expect(noisy.finish() == noisyBytes)  // finishing twice is harmless
    }

    @Test func formatting() {
        #expect(formatCount(1234567) == "1,234,567")
        #expect(formatCount(12) == "12")
        #expect(formatBytes(512) == "512 B")
        #expect(formatBytes(1536) == "1.5 KB")
        #expect(formatPercent(0.1234) == "12.3%")
        #expect(fixed(-0.04, 1) == "0.0")
        #expect(fixed(2.25, 2) == "2.25")
    }
}
