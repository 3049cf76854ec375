/// JSON coding of results with NaN and infinities as `null` (JSON has no NaN), so that results travel between
/// remote workers, the API and scripts without losing undefined figures.
extension ResultRecord {
    enum CodingKeys: String, CodingKey {
        case key, createdAt, delay, quantiles, n, icMean, icStd, icir, icT, icNwT, icPositive, rankICMean, rankICStd, rankICIR
        case rankICT, rankICNwT, rankICPositive, lsMean, lsStd, lsAnnReturn, lsAnnVol, lsSharpe, lsCumReturn, lsMaxDrawdown
        case turnoverTop, turnoverBottom, autocorr, groupMeans, decay, industryIC, rows, rowsNoIC, noICReasons, memberRows, withFactor, withReturn
        case inSample, error
    }

    static var doubleKeys: [(CodingKeys, WritableKeyPath<ResultRecord, Double>)] { [
        (.icMean, \.icMean), (.icStd, \.icStd), (.icir, \.icir), (.icT, \.icT), (.icNwT, \.icNwT), (.icPositive, \.icPositive),
        (.rankICMean, \.rankICMean), (.rankICStd, \.rankICStd), (.rankICIR, \.rankICIR), (.rankICT, \.rankICT),
        (.rankICNwT, \.rankICNwT), (.rankICPositive, \.rankICPositive), (.lsMean, \.lsMean), (.lsStd, \.lsStd),
        (.lsAnnReturn, \.lsAnnReturn), (.lsAnnVol, \.lsAnnVol), (.lsSharpe, \.lsSharpe), (.lsCumReturn, \.lsCumReturn),
        (.lsMaxDrawdown, \.lsMaxDrawdown), (.turnoverTop, \.turnoverTop), (.turnoverBottom, \.turnoverBottom), (.autocorr, \.autocorr),
    ] }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(key: try c.decode(ResultKey.self, forKey: .key), createdAt: try c.decode(String.self, forKey: .createdAt),
                  delay: try c.decode(Int.self, forKey: .delay), quantiles: try c.decode(Int.self, forKey: .quantiles),
                  error: try c.decodeIfPresent(String.self, forKey: .error))
        n = try c.decode(Int.self, forKey: .n)
        for (key, path) in Self.doubleKeys { self[keyPath: path] = try c.decodeIfPresent(Double.self, forKey: key) ?? .nan }
        groupMeans = (try c.decodeIfPresent([Double?].self, forKey: .groupMeans) ?? []).map { $0 ?? .nan }
        decay = (try c.decodeIfPresent([Double?].self, forKey: .decay) ?? []).map { $0 ?? .nan }
        industryIC = try c.decodeIfPresent([IndustryICRecord].self, forKey: .industryIC) ?? []
        rows = try c.decodeIfPresent(Int.self, forKey: .rows) ?? 0
        rowsNoIC = try c.decodeIfPresent(Int.self, forKey: .rowsNoIC) ?? 0
        noICReasons = try c.decodeIfPresent([String: Int].self, forKey: .noICReasons) ?? [:]
        memberRows = try c.decodeIfPresent(Int.self, forKey: .memberRows) ?? 0
        withFactor = try c.decodeIfPresent(Int.self, forKey: .withFactor) ?? 0
        withReturn = try c.decodeIfPresent(Int.self, forKey: .withReturn) ?? 0
        inSample = try c.decodeIfPresent(Int.self, forKey: .inSample) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(delay, forKey: .delay)
        try c.encode(quantiles, forKey: .quantiles)
        try c.encode(n, forKey: .n)
        for (key, path) in Self.doubleKeys {
            let v = self[keyPath: path]
            if v.isFinite { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try c.encode(groupMeans.map { $0.isFinite ? $0 : nil }, forKey: .groupMeans)
        try c.encode(decay.map { $0.isFinite ? $0 : nil }, forKey: .decay)
        try c.encode(rows, forKey: .rows)
        try c.encode(rowsNoIC, forKey: .rowsNoIC)
        try c.encode(noICReasons, forKey: .noICReasons)
        if !industryIC.isEmpty { try c.encode(industryIC, forKey: .industryIC) }
        try c.encode(memberRows, forKey: .memberRows)
        try c.encode(withFactor, forKey: .withFactor)
        try c.encode(withReturn, forKey: .withReturn)
        try c.encode(inSample, forKey: .inSample)
        try c.encodeIfPresent(error, forKey: .error)
    }
}

extension ResultSeriesRow {
    enum CodingKeys: String, CodingKey { case date, n, ic, rankIC, longShort, groups, turnoverTop, turnoverBottom, autocorr, members, withFactor, withReturn }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func d(_ k: CodingKeys) throws -> Double { try c.decodeIfPresent(Double.self, forKey: k) ?? .nan }
        self.init(date: try c.decode(String.self, forKey: .date), n: try c.decode(Int.self, forKey: .n), ic: try d(.ic),
                  rankIC: try d(.rankIC), longShort: try d(.longShort),
                  groups: (try c.decodeIfPresent([Double?].self, forKey: .groups) ?? []).map { $0 ?? .nan },
                  turnoverTop: try d(.turnoverTop), turnoverBottom: try d(.turnoverBottom), autocorr: try d(.autocorr),
                  members: try c.decodeIfPresent(Int.self, forKey: .members), withFactor: try c.decodeIfPresent(Int.self, forKey: .withFactor),
                  withReturn: try c.decodeIfPresent(Int.self, forKey: .withReturn))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func e(_ v: Double, _ k: CodingKeys) throws { if v.isFinite { try c.encode(v, forKey: k) } else { try c.encodeNil(forKey: k) } }
        try c.encode(date, forKey: .date)
        try c.encode(n, forKey: .n)
        try e(ic, .ic); try e(rankIC, .rankIC); try e(longShort, .longShort)
        try c.encode(groups.map { $0.isFinite ? $0 : nil }, forKey: .groups)
        try e(turnoverTop, .turnoverTop); try e(turnoverBottom, .turnoverBottom); try e(autocorr, .autocorr)
        try c.encodeIfPresent(members, forKey: .members)
        try c.encodeIfPresent(withFactor, forKey: .withFactor)
        try c.encodeIfPresent(withReturn, forKey: .withReturn)
    }
}
