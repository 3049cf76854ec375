/// The lifecycle of a factor: draft → in review → approved → deprecated.
public enum FactorStatus: String, Codable, Sendable, CaseIterable {
    case draft
    case inReview = "in_review"
    case approved
    case deprecated
}

/// A registered factor: its identity and metadata; its definition lives in its versions.
public struct FactorRecord: Codable, Sendable, Equatable {
    public var code: String
    public var name: String
    public var category: String
    public var owner: String
    public var tags: [String]
    public var description: String
    public var status: FactorStatus
    /// The version evaluated by default (the newest).
    public var latestVersion: Int
    public var createdAt: String
    public var updatedAt: String

    public init(code: String, name: String, category: String, owner: String, tags: [String], description: String,
                status: FactorStatus, latestVersion: Int, createdAt: String, updatedAt: String) {
        self.code = code
        self.name = name
        self.category = category
        self.owner = owner
        self.tags = tags
        self.description = description
        self.status = status
        self.latestVersion = latestVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a factor's definition is written in.
public enum FactorKind: String, Codable, Sendable, CaseIterable {
    /// An expression of FactorLab's language.
    case expression
    /// Python source defining `fields`, `lookback` and `factor(data)` (docs/python-factors.md).
    case python
}

/// One version of a factor's definition, with what its validation found.
public struct FactorVersionRecord: Codable, Sendable, Equatable {
    public var code: String
    public var version: Int
    /// The expression, or for a Python factor its source.
    public var expression: String
    public var kind: FactorKind
    public var canonical: String
    public var hash: String
    public var note: String
    public var author: String
    public var createdAt: String
    /// Share of NaN and of ±inf values over the warm-up sample.
    public var nanRatio: Double
    public var infRatio: Double
    /// Cells of the warm-up sample.
    public var sampleCells: Int

    public init(code: String, version: Int, expression: String, kind: FactorKind = .expression, canonical: String, hash: String,
                note: String, author: String, createdAt: String, nanRatio: Double, infRatio: Double, sampleCells: Int) {
        self.code = code
        self.version = version
        self.expression = expression
        self.kind = kind
        self.canonical = canonical
        self.hash = hash
        self.note = note
        self.author = author
        self.createdAt = createdAt
        self.nanRatio = nanRatio
        self.infRatio = infRatio
        self.sampleCells = sampleCells
    }

    private enum CodingKeys: String, CodingKey {
        case code, version, expression, kind, canonical, hash, note, author, createdAt, nanRatio, infRatio, sampleCells
    }

    /// Versions written before Python factors have no kind: they are expressions.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(code: try c.decode(String.self, forKey: .code), version: try c.decode(Int.self, forKey: .version),
                  expression: try c.decode(String.self, forKey: .expression),
                  kind: try c.decodeIfPresent(FactorKind.self, forKey: .kind) ?? .expression,
                  canonical: try c.decode(String.self, forKey: .canonical), hash: try c.decode(String.self, forKey: .hash),
                  note: try c.decode(String.self, forKey: .note), author: try c.decode(String.self, forKey: .author),
                  createdAt: try c.decode(String.self, forKey: .createdAt), nanRatio: try c.decode(Double.self, forKey: .nanRatio),
                  infRatio: try c.decode(Double.self, forKey: .infRatio), sampleCells: try c.decode(Int.self, forKey: .sampleCells))
    }
}

/// One entry of the append-only audit log.
public struct AuditRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: String
    public var actor: String
    public var action: String
    public var entity: String
    /// JSON of the entity before and after the change (nil when it did not exist / was removed).
    public var before: String?
    public var after: String?
}

/// Which factors to list.
public struct FactorFilter: Sendable, Equatable {
    public var category: String?
    public var status: FactorStatus?
    public var owner: String?
    public var tag: String?

    public init(category: String? = nil, status: FactorStatus? = nil, owner: String? = nil, tag: String? = nil) {
        self.category = category
        self.status = status
        self.owner = owner
        self.tag = tag
    }
}
