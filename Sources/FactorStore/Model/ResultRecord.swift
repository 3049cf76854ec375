/// One evaluation run: the unit results are saved under (idempotently, by run id and result key).
public struct RunRecord: Codable, Sendable, Equatable {
    public var runId: String
    public var createdAt: String
    public var kind: String
    /// The run's parameters as JSON (universe, window, settings…).
    public var parameters: String

    public init(runId: String, createdAt: String, kind: String, parameters: String) {
        self.runId = runId
        self.createdAt = createdAt
        self.kind = kind
        self.parameters = parameters
    }
}

/// What identifies a result within a run: factor version × universe × frequency × window × horizon × settings.
public struct ResultKey: Codable, Sendable, Hashable {
    public var runId: String
    public var factorCode: String
    public var factorVersion: Int
    public var universe: String
    public var frequency: String
    public var start: String
    public var end: String
    public var horizon: Int
    /// Hash of the evaluation settings (delay, quantiles, min names, preprocessing).
    public var settingsHash: String

    public init(runId: String, factorCode: String, factorVersion: Int, universe: String, frequency: String,
                start: String, end: String, horizon: Int, settingsHash: String) {
        self.runId = runId
        self.factorCode = factorCode
        self.factorVersion = factorVersion
        self.universe = universe
        self.frequency = frequency
        self.start = start
        self.end = end
        self.horizon = horizon
        self.settingsHash = settingsHash
    }
}

/// Every summary figure of one evaluation result (NaN where undefined), or the error that prevented it.
public struct ResultRecord: Codable, Sendable, Equatable {
    public var key: ResultKey
    public var createdAt: String
    public var delay: Int
    public var quantiles: Int
    public var n: Int
    public var icMean: Double, icStd: Double, icir: Double, icT: Double, icNwT: Double, icPositive: Double
    public var rankICMean: Double, rankICStd: Double, rankICIR: Double, rankICT: Double, rankICNwT: Double, rankICPositive: Double
    public var lsMean: Double, lsStd: Double, lsAnnReturn: Double, lsAnnVol: Double, lsSharpe: Double
    public var lsCumReturn: Double, lsMaxDrawdown: Double
    public var turnoverTop: Double, turnoverBottom: Double, autocorr: Double
    public var groupMeans: [Double]
    /// IC decay: mean Rank IC of the factor against the one-bar return k bars later, for k = 0…K.
    public var decay: [Double]
    /// IC by industry, when the evaluation was given industries (empty otherwise).
    public var industryIC: [IndustryICRecord]
    public var rows: Int, rowsNoIC: Int
    /// Why rows have no IC: reason → number of rows (the coverage ledger).
    public var noICReasons: [String: Int]
    public var memberRows: Int, withFactor: Int, withReturn: Int, inSample: Int
    /// Set when the factor failed; the figures are then NaN.
    public var error: String?

    public init(key: ResultKey, createdAt: String, delay: Int, quantiles: Int, error: String? = nil) {
        self.key = key
        self.createdAt = createdAt
        self.delay = delay
        self.quantiles = quantiles
        n = 0
        icMean = .nan; icStd = .nan; icir = .nan; icT = .nan; icNwT = .nan; icPositive = .nan
        rankICMean = .nan; rankICStd = .nan; rankICIR = .nan; rankICT = .nan; rankICNwT = .nan; rankICPositive = .nan
        lsMean = .nan; lsStd = .nan; lsAnnReturn = .nan; lsAnnVol = .nan; lsSharpe = .nan; lsCumReturn = .nan; lsMaxDrawdown = .nan
        turnoverTop = .nan; turnoverBottom = .nan; autocorr = .nan
        groupMeans = []
        decay = []
        industryIC = []
        noICReasons = [:]
        rows = 0; rowsNoIC = 0; memberRows = 0; withFactor = 0; withReturn = 0; inSample = 0
        self.error = error
    }

    public static func == (a: ResultRecord, b: ResultRecord) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        let aFigures = a.figures, bFigures = b.figures
        return a.key == b.key && a.delay == b.delay && a.quantiles == b.quantiles && a.n == b.n && a.error == b.error
            && a.rows == b.rows && a.rowsNoIC == b.rowsNoIC && a.memberRows == b.memberRows
            && a.withFactor == b.withFactor && a.withReturn == b.withReturn && a.inSample == b.inSample
            && aFigures.count == bFigures.count && zip(aFigures, bFigures).allSatisfy { same($0.1, $1.1) }
            && a.groupMeans.count == b.groupMeans.count && zip(a.groupMeans, b.groupMeans).allSatisfy(same)
            && a.decay.count == b.decay.count && zip(a.decay, b.decay).allSatisfy(same) && a.noICReasons == b.noICReasons
            && a.industryIC == b.industryIC
    }

    /// The numeric figures by column name, in table order.
    public var figures: [(String, Double)] {
        [("ic_mean", icMean), ("ic_std", icStd), ("icir", icir), ("ic_t", icT), ("ic_nw_t", icNwT), ("ic_positive", icPositive),
         ("rank_ic_mean", rankICMean), ("rank_ic_std", rankICStd), ("rank_icir", rankICIR), ("rank_ic_t", rankICT),
         ("rank_ic_nw_t", rankICNwT), ("rank_ic_positive", rankICPositive), ("ls_mean", lsMean), ("ls_std", lsStd),
         ("ls_ann_return", lsAnnReturn), ("ls_ann_vol", lsAnnVol), ("ls_sharpe", lsSharpe), ("ls_cum_return", lsCumReturn),
         ("ls_max_drawdown", lsMaxDrawdown), ("turnover_top", turnoverTop), ("turnover_bottom", turnoverBottom),
         ("autocorr", autocorr)]
    }

    /// Metric names a leaderboard can sort by.
    public static let metricNames: [String] = ResultRecord(key: ResultKey(runId: "", factorCode: "", factorVersion: 0, universe: "",
                                                                           frequency: "", start: "", end: "", horizon: 0, settingsHash: ""),
                                                            createdAt: "", delay: 0, quantiles: 0).figures.map(\.0)
}

/// One date of a result's series.
public struct ResultSeriesRow: Codable, Sendable, Equatable {
    public var date: String
    public var n: Int
    public var ic: Double
    public var rankIC: Double
    public var longShort: Double
    public var groups: [Double]
    public var turnoverTop: Double
    public var turnoverBottom: Double
    public var autocorr: Double
    /// Coverage on the date: universe members, members with a valid factor, members with a valid return (nil in
    /// results stored before these were recorded).
    public var members: Int?, withFactor: Int?, withReturn: Int?

    public init(date: String, n: Int, ic: Double, rankIC: Double, longShort: Double, groups: [Double],
                turnoverTop: Double, turnoverBottom: Double, autocorr: Double,
                members: Int? = nil, withFactor: Int? = nil, withReturn: Int? = nil) {
        self.members = members
        self.withFactor = withFactor
        self.withReturn = withReturn
        self.date = date
        self.n = n
        self.ic = ic
        self.rankIC = rankIC
        self.longShort = longShort
        self.groups = groups
        self.turnoverTop = turnoverTop
        self.turnoverBottom = turnoverBottom
        self.autocorr = autocorr
    }

    public static func == (a: ResultSeriesRow, b: ResultSeriesRow) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.date == b.date && a.n == b.n && same(a.ic, b.ic) && same(a.rankIC, b.rankIC) && same(a.longShort, b.longShort)
            && a.groups.count == b.groups.count && zip(a.groups, b.groups).allSatisfy(same)
            && same(a.turnoverTop, b.turnoverTop) && same(a.turnoverBottom, b.turnoverBottom) && same(a.autocorr, b.autocorr)
            && a.members == b.members && a.withFactor == b.withFactor && a.withReturn == b.withReturn
    }
}

/// Which results to return.
public struct ResultFilter: Sendable, Equatable {
    public var factorCode: String?
    public var runId: String?
    public var universe: String?
    public var frequency: String?
    public var horizon: Int?
    /// Results whose window overlaps [from, to] (dates as text, inclusive).
    public var from: String?
    public var to: String?
    /// Paging in storage order: only results stored after the one with this key (a key no result has: none).
    public var after: ResultKey?
    /// At most this many.
    public var limit: Int?

    public init(factorCode: String? = nil, runId: String? = nil, universe: String? = nil, frequency: String? = nil,
                horizon: Int? = nil, from: String? = nil, to: String? = nil) {
        self.factorCode = factorCode
        self.runId = runId
        self.universe = universe
        self.frequency = frequency
        self.horizon = horizon
        self.from = from
        self.to = to
    }
}

/// The top factors by a metric, each factor's latest result only.
public struct LeaderboardQuery: Sendable, Equatable {
    public var top: Int
    public var metric: String
    public var universe: String?
    public var frequency: String?
    public var horizon: Int?
    /// Only results of exactly this window, so that every factor is ranked on the same period.
    public var start: String?
    public var end: String?
    /// Only results evaluated with one of these settings (hashes); nil: any.
    public var settingsHashes: [String]?

    public init(top: Int = 10, metric: String = "rank_icir", universe: String? = nil, frequency: String? = nil, horizon: Int? = nil,
                start: String? = nil, end: String? = nil, settingsHashes: [String]? = nil) {
        self.settingsHashes = settingsHashes
        self.top = top
        self.metric = metric
        self.universe = universe
        self.frequency = frequency
        self.horizon = horizon
        self.start = start
        self.end = end
    }
}
