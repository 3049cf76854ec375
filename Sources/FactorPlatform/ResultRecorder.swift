import FactorCore
import FactorEval
import FactorStore
import Foundation

/// Turns an `EvaluationReport` into store rows: one result per factor × horizon (with its per-date series), keyed by
/// run id, factor version, universe, frequency, window, horizon and a hash of the settings.
public enum ResultRecorder {
    /// The factor version each report name stands for.
    public struct FactorIdentity: Sendable {
        public var code: String
        public var version: Int
        public init(code: String, version: Int) { self.code = code; self.version = version }
    }

    /// SHA-256 of the settings that change the figures (horizon excluded: it is part of the key).
    public static func settingsHash(_ settings: EvaluationSettings, label: String?) -> String {
        var s = settings
        s.horizons = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return String(SHA256Digest.hex(json + "|label=" + (label ?? "")).prefix(16))
    }

    public static func records(_ report: EvaluationReport, runId: String, identities: [String: FactorIdentity],
                               label: String? = nil) -> [(result: ResultRecord, series: [ResultSeriesRow])] {
        let hash = settingsHash(report.settings, label: label)
        let now = Clock.now()
        var out: [(ResultRecord, [ResultSeriesRow])] = []
        for factor in report.factors {
            let identity = identities[factor.name] ?? FactorIdentity(code: factor.name, version: 0)
            for h in factor.horizons {
                let key = ResultKey(runId: runId, factorCode: identity.code, factorVersion: identity.version,
                                    universe: report.universe, frequency: report.frequency, start: report.start,
                                    end: report.end, horizon: h.horizon, settingsHash: hash)
                var r = ResultRecord(key: key, createdAt: now, delay: report.settings.delay, quantiles: report.settings.quantiles)
                let s = h.summary
                r.n = s.ic.n
                r.icMean = s.ic.mean; r.icStd = s.ic.std; r.icir = s.ic.ir; r.icT = s.ic.t; r.icNwT = s.ic.neweyWestT; r.icPositive = s.ic.positive
                r.rankICMean = s.rankIC.mean; r.rankICStd = s.rankIC.std; r.rankICIR = s.rankIC.ir; r.rankICT = s.rankIC.t
                r.rankICNwT = s.rankIC.neweyWestT; r.rankICPositive = s.rankIC.positive
                r.lsMean = s.longShort.mean; r.lsStd = s.longShort.std; r.lsAnnReturn = s.longShort.annualReturn
                r.lsAnnVol = s.longShort.annualVolatility; r.lsSharpe = s.longShort.sharpe
                r.lsCumReturn = s.longShort.cumulativeReturn; r.lsMaxDrawdown = s.longShort.maxDrawdown
                r.turnoverTop = s.turnoverTop; r.turnoverBottom = s.turnoverBottom; r.autocorr = s.autocorrelation
                r.groupMeans = s.groupMeans
                r.decay = factor.decay.map(\.rankICMean)
                r.industryIC = h.industries.map { IndustryICRecord(industry: $0.industry, rows: $0.rows, icMean: $0.icMean, rankICMean: $0.rankICMean) }
                r.rows = s.rows; r.rowsNoIC = s.rowsWithoutIC; r.noICReasons = s.coverage.rowsWithoutIC
                r.memberRows = s.coverage.members; r.withFactor = s.coverage.withFactor
                r.withReturn = s.coverage.withReturn; r.inSample = s.coverage.inSample
                let series = h.series
                let rows = series.dates.indices.map { k in
                    ResultSeriesRow(date: series.dates[k], n: series.n[k], ic: series.ic[k], rankIC: series.rankIC[k],
                                    longShort: series.longShort[k], groups: series.groups.map { $0.wrappedValue[k] },
                                    turnoverTop: series.turnoverTop[k], turnoverBottom: series.turnoverBottom[k],
                                    autocorr: series.autocorrelation[k], members: series.members[k],
                                    withFactor: series.nFactor[k], withReturn: series.nReturn[k])
                }
                out.append((r, rows))
            }
        }
        return out
    }

    /// A run record describing the report.
    public static func run(_ report: EvaluationReport, runId: String, kind: String, options: EvaluationOptions = EvaluationOptions()) -> RunRecord {
        var parameters: [String: String] = ["universe": report.universe, "frequency": report.frequency, "start": report.start,
                                            "end": report.end, "horizons": report.settings.horizons.map(String.init).joined(separator: ","),
                                            "delay": String(report.settings.delay), "factors": String(report.factors.count)]
        // What the results' settings hash stands for, so that tables can say it in words.
        parameters["settingsHash"] = settingsHash(report.settings, label: options.label)
        parameters["settings"] = options.summary
        let json = (try? JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return RunRecord(runId: runId, createdAt: Clock.now(), kind: kind, parameters: json)
    }
}
