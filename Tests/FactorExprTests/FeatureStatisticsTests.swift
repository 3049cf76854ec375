import FactorCore
@testable import FactorExpr
import Testing

@Suite("Feature statistics")
struct FeatureStatisticsTests {
    @Test("Counts, mean, std, min and max with NaN and infinities inside the vector lanes and after them")
    func mixedRuns() {
        let runs: [[Double]] = [[1, .infinity, .nan, 2, -.infinity, 3, 4, 5, 6], [1, 2, .nan, 4, 5, 6, 7, 8, 9, .nan, 11],
                                [1, 2, 3, 4, 5, 6, 7, 8, -.infinity]]
        for run in runs {
            let column = run.withUnsafeBufferPointer { FeatureOutput.PartialStats.Column($0) }
            let finite = run.filter(\.isFinite)
            let mean = finite.reduce(0, +) / Double(finite.count)
            let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            #expect(column.valid == finite.count && column.nan == run.filter(\.isNaN).count
                    && column.inf == run.filter(\.isInfinite).count, "\(run)")
            #expect(abs(column.mean - mean) < 1e-12 && abs(column.m2 - variance) < 1e-9, "\(run)")
            #expect(column.min == finite.min()! && column.max == finite.max()!, "\(run)")
        }
    }
}
