import Foundation

/// The evaluation settings beyond horizons, delay and quantiles, as a user writes them — the same words for
/// `evaluate`, `submit-job`, `POST /jobs` and the Airflow DAG's params — stored with a job and carried by its tasks.
/// Every field is optional; absent fields take `EvaluationSettings`' defaults, and an empty value encodes as `{}`.
public struct EvaluationOptions: Codable, Sendable, Equatable {
    /// Rows with fewer names in the sample have no IC (default 2).
    public var minNames: Int?
    /// IC decay lags 0…K (default 10).
    public var decayLags: Int?
    /// `mad` (K = 3), `mad:K` or `quantile:P`.
    public var winsorize: String?
    /// `industry`, `size` or `industry,size`.
    public var neutralize: String?
    /// The market value expression for `neutralize` size, e.g. `$close*$shares`.
    public var size: String?
    /// The industry CSV for `neutralize` industry (a path every worker can read).
    public var industry: String?
    /// Z-score each row after winsorizing and neutralizing.
    public var zscore: Bool?
    /// A custom label expression replacing the forward return (one horizon: the label's length in bars).
    public var label: String?

    public init(minNames: Int? = nil, decayLags: Int? = nil, winsorize: String? = nil, neutralize: String? = nil,
                size: String? = nil, industry: String? = nil, zscore: Bool? = nil, label: String? = nil) {
        self.minNames = minNames
        self.decayLags = decayLags
        self.winsorize = winsorize
        self.neutralize = neutralize
        self.size = size
        self.industry = industry
        self.zscore = zscore
        self.label = label
    }

    /// True when nothing differs from the defaults (such options are not stored, so older jobs keep their form).
    public var isDefault: Bool {
        minNames == nil && decayLags == nil && winsorize == nil && neutralize == nil && size == nil && industry == nil
            && zscore != true && label == nil
    }

    /// Why options cannot be used; the message names the option as the CLI spells it.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The settings these options give with `horizons`, `delay` and `quantiles`, checked.
    public func settings(horizons: [Int], delay: Int, quantiles: Int) throws(Invalid) -> EvaluationSettings {
        func fail(_ message: String) throws(Invalid) -> Never { throw Invalid(description: message) }
        var preprocessing = Preprocessing(zscore: zscore ?? false)
        if let winsorize {
            // A bare "mad" takes the spec's default k = 3.
            let parts = winsorize.lowercased() == "mad" ? ["mad", "3"] : winsorize.split(separator: ":").map(String.init)
            guard parts.count == 2, let k = Double(parts[1]), k > 0, k.isFinite else {
                try fail("winsorize must be mad (k = 3), mad:K or quantile:P, e.g. mad:3 or quantile:0.01; got '\(winsorize)'")
            }
            switch parts[0].lowercased() {
            case "mad": preprocessing.winsorize = .mad(k)
            case "quantile" where k < 0.5: preprocessing.winsorize = .quantile(k)
            default: try fail("winsorize must be mad:K or quantile:P with P < 0.5, e.g. mad:3 or quantile:0.01; got '\(winsorize)'")
            }
        }
        if let neutralize {
            let parts = Set(neutralize.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            guard !parts.isEmpty, parts.isSubset(of: ["industry", "size"]) else {
                try fail("neutralize takes industry, size or industry,size; got '\(neutralize)'")
            }
            if parts.contains("industry") {
                guard industry != nil else { try fail("neutralize industry needs an industry file (--industry FILE), or data whose meta/ has an industry*.csv classification") }
                preprocessing.neutralizeIndustry = true
            }
            if parts.contains("size") {
                guard let size else {
                    try fail("neutralize size needs a market value expression (--size), e.g. '$market_value' or '$close*$shares'")
                }
                preprocessing.sizeExpression = size
            }
        } else if size != nil {
            try fail("size is used with neutralize size (or industry,size)")
        }
        if label != nil && horizons.count != 1 {
            try fail("with a label give one horizon: the label's length in bars (it sets the Newey-West lag)")
        }
        let settings = EvaluationSettings(horizons: horizons, delay: delay, quantiles: quantiles, minNames: minNames ?? 2,
                                          decayLags: decayLags ?? 10, preprocessing: preprocessing)
        if settings.minNames < 2 { try fail("min-names must be ≥ 2") }
        if !(0...250).contains(settings.decayLags) { try fail("decay-lags must be 0…250") }
        return settings
    }

    /// A short account for tables and logs, e.g. `winsorize mad:3 · neutralize industry · zscore` ("raw" when default).
    public var summary: String {
        var parts: [String] = []
        if let winsorize { parts.append("winsorize \(winsorize)") }
        if let neutralize { parts.append("neutralize \(neutralize)" + (size.map { " (size \($0))" } ?? "")) }
        if zscore == true { parts.append("zscore") }
        if let label { parts.append("label \(label)") }
        if let minNames { parts.append("min-names \(minNames)") }
        if let decayLags { parts.append("decay-lags \(decayLags)") }
        return parts.isEmpty ? "raw" : parts.joined(separator: " · ")
    }
}
