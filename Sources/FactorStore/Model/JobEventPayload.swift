/// The `data` of `job.succeeded` / `job.failed`: the job as stored, plus its best results, so that an email or a chat
/// card can show the Top-N without reading the database. Sent once the job's summary is stored.
public struct JobEventPayload: Codable, Sendable, Equatable {
    /// One of the job's best results by Rank ICIR; figures that are undefined are null.
    public struct TopResult: Codable, Sendable, Equatable {
        public var factor: String
        public var version: Int
        public var universe: String
        public var frequency: String
        public var horizon: Int
        public var n: Int
        public var icMean: Double?
        public var rankICMean: Double?
        public var rankICIR: Double?
        public var longShortAnnReturn: Double?
    }

    /// How many of the best results the event carries.
    public static let topCount = 10

    public var job: JobRecord
    public var top: [TopResult]
    /// How many results the job stored, and how many of them are errors.
    public var results: Int
    public var failedResults: Int

    public init(job: JobRecord, summary: JobSummaryRecord, results: Int, failedResults: Int) {
        self.job = job
        self.results = results
        self.failedResults = failedResults
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        top = summary.top.prefix(Self.topCount).map {
            TopResult(factor: $0.key.factorCode, version: $0.key.factorVersion, universe: $0.key.universe, frequency: $0.key.frequency,
                      horizon: $0.key.horizon, n: $0.n, icMean: finite($0.icMean), rankICMean: finite($0.rankICMean),
                      rankICIR: finite($0.rankICIR), longShortAnnReturn: finite($0.lsAnnReturn))
        }
    }
}
