import FactorCore

/// What an instrument file's name says: `SH600000.csv`, `SH600000_daily_hfq.csv`, `SH510050_5min.csv`.
struct CSVFileName: Sendable, Equatable {
    /// Upper-case instrument code.
    var code: String
    /// The frequency named by the suffix (`_daily`, `_daily_hfq`, `_day`, `_5min`, …); nil when there is none.
    var frequency: Frequency?

    /// Adjustment tags that may follow the frequency in a suffix.
    private static let adjustmentTags: Set<String> = ["hfq", "qfq", "bfq", "raw", "adj"]

    init(code: String, frequency: Frequency?) {
        self.code = code
        self.frequency = frequency
    }

    /// Reads a file name; nil when it is not a `.csv` file.
    init?(_ fileName: String) {
        guard !fileName.hasPrefix("."), fileName.lowercased().hasSuffix(".csv") else { return nil }
        let stem = String(fileName.dropLast(4))
        guard !stem.isEmpty else { return nil }
        var parts = stem.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 2, Self.adjustmentTags.contains(parts[parts.count - 1].lowercased()) {
            parts.removeLast()
        }
        if parts.count >= 2, let f = Frequency(parts[parts.count - 1]) {
            frequency = f
            code = parts.dropLast().joined(separator: "_").uppercased()
        } else {
            frequency = nil
            code = stem.uppercased()
        }
        if code.isEmpty { return nil }
    }
}
