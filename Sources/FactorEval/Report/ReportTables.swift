import FactorCore
import Foundation

/// The CSV files `factorlab evaluate` writes: one summary row per (factor, horizon), one series row per
/// (factor, horizon, date). Empty cells for NaN; numbers round-trip.
public enum ReportTables {
    static func cell(_ v: Double) -> String { v.isFinite ? v.description : (v.isNaN ? "" : (v > 0 ? "inf" : "-inf")) }

    /// Header and rows of the summary table.
    public static func summaryCSV(_ report: EvaluationReport) -> String {
        let q = report.settings.quantiles
        var header = ["factor", "horizon", "n", "ic_mean", "ic_std", "icir", "ic_t", "ic_nw_t", "ic_positive",
                      "rank_ic_mean", "rank_ic_std", "rank_icir", "rank_ic_t", "rank_ic_nw_t", "rank_ic_positive",
                      "ls_mean", "ls_std", "ls_ann_return", "ls_ann_vol", "ls_sharpe", "ls_cum_return", "ls_max_drawdown",
                      "turnover_top", "turnover_bottom", "autocorr"]
        header += (1...q).map { "q\($0)_mean" }
        header += ["rows", "rows_no_ic", "member_rows", "with_factor", "with_return", "in_sample"]
        var lines = [header.joined(separator: ",")]
        for f in report.factors {
            for h in f.horizons {
                let s = h.summary
                var cells = [f.name, String(h.horizon), String(s.ic.n)]
                cells += [s.ic.mean, s.ic.std, s.ic.ir, s.ic.t, s.ic.neweyWestT, s.ic.positive,
                          s.rankIC.mean, s.rankIC.std, s.rankIC.ir, s.rankIC.t, s.rankIC.neweyWestT, s.rankIC.positive,
                          s.longShort.mean, s.longShort.std, s.longShort.annualReturn, s.longShort.annualVolatility,
                          s.longShort.sharpe, s.longShort.cumulativeReturn, s.longShort.maxDrawdown,
                          s.turnoverTop, s.turnoverBottom, s.autocorrelation].map(cell)
                cells += s.groupMeans.map(cell)
                cells += [s.rows, s.rowsWithoutIC, s.coverage.members, s.coverage.withFactor, s.coverage.withReturn,
                          s.coverage.inSample].map(String.init)
                lines.append(cells.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Header and rows of the per-date series table.
    public static func seriesCSV(_ report: EvaluationReport) -> String { seriesTable(report).csv() }

    /// The per-date series as a typed table (for CSV or Parquet): one row per factor × horizon × date.
    public static func seriesTable(_ report: EvaluationReport) -> DataTable {
        let rows = report.factors.flatMap { f in f.horizons.map { (f.name, $0) } }
        func doubles(_ pick: (HorizonReport) -> [Double]) -> DataTable.Column { .doubles(rows.flatMap { pick($0.1) }) }
        func integers(_ pick: (HorizonReport) -> [Int]) -> DataTable.Column { .integers(rows.flatMap { pick($0.1).map(Int64.init) }) }
        var table = DataTable()
        table.add("factor", .strings(rows.flatMap { name, h in Array(repeating: name, count: h.series.dates.count) }))
        table.add("horizon", .integers(rows.flatMap { _, h in Array(repeating: Int64(h.horizon), count: h.series.dates.count) }))
        table.add("date", .times(rows.flatMap { $0.1.series.dates }))
        table.add("n", integers { $0.series.n })
        table.add("ic", doubles { $0.series.ic })
        table.add("rank_ic", doubles { $0.series.rankIC })
        table.add("long_short", doubles { $0.series.longShort })
        for g in 0..<report.settings.quantiles {
            table.add("q\(g + 1)", doubles { g < $0.series.groups.count ? $0.series.groups[g].wrappedValue : Array(repeating: .nan, count: $0.series.dates.count) })
        }
        table.add("turnover_top", doubles { $0.series.turnoverTop })
        table.add("turnover_bottom", doubles { $0.series.turnoverBottom })
        table.add("autocorr", doubles { $0.series.autocorrelation })
        table.add("members", integers { $0.series.members })
        table.add("n_factor", integers { $0.series.nFactor })
        table.add("n_return", integers { $0.series.nReturn })
        table.add("no_ic_reason", .strings(rows.flatMap { $0.1.series.noICReason.map { $0 ?? "" } }))
        return table
    }

    /// The report as JSON (NaN as null).
    public static func json(_ report: EvaluationReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(report)
    }

    /// A terminal table: one row per factor × horizon.
    public static func terminalTable(_ report: EvaluationReport) -> String {
        func fmt(_ v: Double, _ digits: Int = 4) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "nan" }
        let header = ["factor", "h", "n", "IC", "ICIR", "RankIC", "RankICIR", "t(NW)", "LS ann", "LS Sharpe", "LS MDD", "TO top", "AC"]
        var rows: [[String]] = []
        for f in report.factors {
            for h in f.horizons {
                let s = h.summary
                rows.append([f.name, String(h.horizon), String(s.ic.n), fmt(s.ic.mean), fmt(s.ic.ir, 3), fmt(s.rankIC.mean),
                             fmt(s.rankIC.ir, 3), fmt(s.rankIC.neweyWestT, 2), fmt(s.longShort.annualReturn, 3),
                             fmt(s.longShort.sharpe, 2), fmt(s.longShort.maxDrawdown, 3), fmt(s.turnoverTop, 3),
                             fmt(s.autocorrelation, 3)])
            }
        }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}
