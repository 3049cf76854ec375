/// A result's IC within one industry: the mean IC and Rank IC over the dates the industry had enough names
/// (`evaluate --industry FILE`, or a job whose options name an industry file).
public struct IndustryICRecord: Sendable, Equatable, Codable {
    public var industry: String
    /// Dates averaged.
    public var rows: Int
    public var icMean: Double
    public var rankICMean: Double

    public init(industry: String, rows: Int, icMean: Double, rankICMean: Double) {
        self.industry = industry
        self.rows = rows
        self.icMean = icMean
        self.rankICMean = rankICMean
    }

    enum CodingKeys: String, CodingKey { case industry, rows, icMean, rankICMean }

    // NaN travels as null, as the other figures of a result do.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        industry = try c.decode(String.self, forKey: .industry)
        rows = try c.decode(Int.self, forKey: .rows)
        icMean = try c.decodeIfPresent(Double.self, forKey: .icMean) ?? .nan
        rankICMean = try c.decodeIfPresent(Double.self, forKey: .rankICMean) ?? .nan
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(industry, forKey: .industry)
        try c.encode(rows, forKey: .rows)
        try c.encode(icMean.isFinite ? icMean : nil, forKey: .icMean)
        try c.encode(rankICMean.isFinite ? rankICMean : nil, forKey: .rankICMean)
    }

    public static func == (a: IndustryICRecord, b: IndustryICRecord) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.industry == b.industry && a.rows == b.rows && same(a.icMean, b.icMean) && same(a.rankICMean, b.rankICMean)
    }
}
