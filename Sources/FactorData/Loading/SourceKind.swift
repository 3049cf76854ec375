/// The two kinds of data directory FactorLab reads.
public enum SourceKind: String, Sendable, CaseIterable {
    /// A directory of per-instrument CSV files (`CSVDirectorySource`).
    case csv
    /// A Qlib binary data directory (`QlibDirectorySource`).
    case qlib
}
