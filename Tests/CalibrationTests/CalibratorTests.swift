import Foundation
import GraphIR
import Testing
@testable import Calibration

@Suite struct CalibratorTests {
    @Test func percentileClipsOnlyTheTails() {
        // 10,000 values in [0, 1) plus one outlier at 100: the 99.9th percentile range ends near 1.
        var histogram = [Double](repeating: 0, count: Calibrator.bins)
        let range = ValueRange(min: 0, max: 100)
        let width = 100 / Float(Calibrator.bins)
        for i in 0..<10_000 { histogram[Int(Float(i) / 10_000 / width)] += 1 }
        histogram[Calibrator.bins - 1] += 1
        let clipped = Calibrator.percentileRange(histogram, range, percentile: 99.9)
        #expect(clipped.min == 0)
        #expect(clipped.max > 0.99 && clipped.max < 1.1, "max \(clipped.max)")
    }

    @Test func mseShrinksARangeWithARareOutlier() {
        var histogram = [Double](repeating: 0, count: Calibrator.bins)
        let range = ValueRange(min: -10, max: 10)
        // Most mass in [-1, 1], a handful at ±10.
        for bin in (Calibrator.bins / 2 - 100)..<(Calibrator.bins / 2 + 100) { histogram[bin] = 1000 }
        histogram[0] = 1
        histogram[Calibrator.bins - 1] = 1
        let chosen = Calibrator.mseRange(histogram, range)
        #expect(chosen.max < 10 && chosen.min > -10, "\(chosen)")
        #expect(chosen.max >= 1 && chosen.min <= -1, "\(chosen)")
    }

    @Test func int8ParametersCoverZeroAndTheRange() {
        let (scale, zeroPoint) = ValueRange(min: 0.5, max: 6).int8Parameters
        #expect(zeroPoint == -128)
        #expect(abs(scale - 6 / 255) < 1e-7)
        let symmetric = ValueRange(min: -1, max: 1).int8Parameters
        #expect(abs(Float(-128 - symmetric.zeroPoint) * symmetric.scale + 1) < symmetric.scale)
        #expect(ValueRange(min: 0, max: 0).int8Parameters.scale > 0)
    }
}
