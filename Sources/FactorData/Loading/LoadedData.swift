import FactorCore

/// Where the bars of a load came from (for timing reports and tests).
public enum DataOrigin: String, Sendable {
    /// CSV files parsed in this call.
    case parsedCSV
    /// The binary column cache.
    case columnCache
    /// A table this source already held in memory (files unchanged).
    case memory
    /// Qlib `.bin` files.
    case qlibBinary
}

/// The result of a load.
public struct LoadedData: Sendable {
    /// Instruments = universe members with data whose membership meets [start, end]; calendar = the loaded rows
    /// (look-back, output and look-ahead rows); membership point-in-time on those rows; spans each instrument's
    /// first…last bar within them.
    public var data: MarketData
    /// The rows of `data.calendar` within [start, end].
    public var outputRows: Range<Int>
    /// Things the caller should know (members without data, files without rows, …).
    public var warnings: [String]
    /// Where the bars came from.
    public var origin: DataOrigin

    public init(data: MarketData, outputRows: Range<Int>, warnings: [String], origin: DataOrigin) {
        self.data = data
        self.outputRows = outputRows
        self.warnings = warnings
        self.origin = origin
    }
}
