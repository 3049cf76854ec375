import FactorCore

/// A data directory that can serve `MarketData` for a universe, fields, date range and frequency.
///
/// Implementations are cheap to copy and safe to share between tasks.
public protocol MarketDataSource: Sendable {
    /// The format of the directory.
    var kind: SourceKind { get }
    /// The directory, as an absolute path.
    var directory: String { get }
    /// The frequency of the stored bars; other frequencies are resampled from it.
    var baseFrequency: Frequency { get }
    /// The whole calendar at `frequency` (nil: the base frequency).
    func calendar(frequency: Frequency?) throws -> MarketCalendar
    /// Field names, lower case, sorted.
    func fieldNames() throws -> [String]
    /// Every instrument with data (benchmarks excluded), sorted.
    func instrumentCodes() throws -> [String]
    /// `all` and the names of the directory's universe files, sorted.
    func universeNames() throws -> [String]
    /// Loads a request (see `DataRequest` and `LoadedData`).
    func load(_ request: DataRequest) throws -> LoadedData
}
