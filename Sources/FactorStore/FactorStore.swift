/// What the platform persists, independent of the database. Every mutating call is one transaction that also
/// appends its audit entry; a call that fails changes nothing.
public protocol FactorStore: Sendable {
    /// Where the store lives, for messages: the SQLite file, or the PostgreSQL URL without its password.
    var locationDescription: String { get }

    // MARK: Factors

    /// Inserts new factors with their first versions (all or none); fails with `duplicateCode` if a code exists.
    func insertFactors(_ entries: [(factor: FactorRecord, version: FactorVersionRecord)], actor: String, action: String) throws

    /// Appends a version (its number must be the factor's latest + 1) and makes it the latest; may reset the status.
    func appendVersion(_ version: FactorVersionRecord, status: FactorStatus?, actor: String, action: String) throws -> FactorRecord

    /// Moves a factor to `status` if its current status is one of `from`, checked in the same transaction as the move
    /// with `guarding`: the latest version the caller saw, and the four-eyes rule (the actor is neither the owner nor
    /// the latest version's author).
    func updateStatus(code: String, from: Set<FactorStatus>, to status: FactorStatus, actor: String, action: String,
                      guarding: StatusGuard) throws -> FactorRecord

    func factor(code: String) throws -> FactorRecord?
    func factors(matching filter: FactorFilter) throws -> [FactorRecord]
    func versions(code: String) throws -> [FactorVersionRecord]
    /// Factors whose latest version has this canonical hash.
    func factorsWithLatestHash(_ hash: String) throws -> [FactorRecord]
    /// Newest first; `entity` restricts to one factor code or run id.
    func audit(entity: String?, limit: Int) throws -> [AuditRecord]
    /// Records an action that was refused (a role or the four-eyes rule): who, what, on what, and why.
    func recordRefusal(actor: String, action: String, entity: String, reason: String) throws

    // MARK: Results

    /// Saves a run's results and their series; saving the same keys again replaces them (one copy each).
    func saveResults(run: RunRecord, results: [(result: ResultRecord, series: [ResultSeriesRow])], actor: String) throws
    func results(matching filter: ResultFilter) throws -> [ResultRecord]
    func series(key: ResultKey) throws -> [ResultSeriesRow]
    func leaderboard(_ query: LeaderboardQuery) throws -> [ResultRecord]
    func runs() throws -> [RunRecord]
}

/// Store failures a user can act on.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    case duplicateCode(String)
    case unknownFactor(String)
    case versionConflict(code: String, expected: Int, got: Int)
    case invalidTransition(code: String, from: FactorStatus, to: FactorStatus)
    case unknownMetric(String, available: [String])
    case unknownJob(String)
    case unknownTask(String)
    case duplicateToken(String)
    case unknownToken(String)
    /// The four-eyes rule: `actor` is the factor's owner or the author of its latest version (`role` says which).
    case sameAuthor(code: String, actor: String, role: String)
    case schemaTooNew(unknown: [String])
    /// A copy's target already holds rows (table and count each).
    case targetNotEmpty([String])
    /// A copy's target lacks columns the source has (it runs an older FactorLab).
    case targetMissingColumns(table: String, columns: [String])
    case database(String)

    public var description: String {
        switch self {
        case .sameAuthor(let code, let actor, let role):
            return "\(actor) cannot approve factor \(code): they are its \(role); approval needs a second person (another reviewer)"
        case .duplicateCode(let code): return "a factor with code \(code) already exists"
        case .unknownFactor(let code): return "no factor with code \(code)"
        case .versionConflict(let code, let expected, let got):
            return "factor \(code) changed meanwhile: expected to write version \(expected), the latest is \(got - 1); retry"
        case .invalidTransition(let code, let from, let to):
            return "factor \(code) is \(from.rawValue); it cannot become \(to.rawValue)"
        case .unknownMetric(let metric, let available):
            return "unknown metric '\(metric)'; use one of \(available.joined(separator: ", "))"
        case .unknownJob(let id): return "no job with id \(id)"
        case .unknownTask(let id): return "no task with id \(id)"
        case .duplicateToken(let name): return "a token named \(name) already exists"
        case .unknownToken(let name): return "no live token named \(name)"
        case .schemaTooNew(let unknown):
            return "the database was migrated by a newer FactorLab (migrations \(unknown.joined(separator: ", ")) are unknown to this version); upgrade factorlab or use another database"
        case .targetNotEmpty(let tables):
            return "the target store is not empty: \(tables.joined(separator: ", ")); migrate into a new, empty database"
        case .targetMissingColumns(let table, let columns):
            return "the target's \(table) lacks columns \(columns.joined(separator: ", ")); upgrade the target's FactorLab"
        case .database(let message): return "database error: \(message)"
        }
    }
}

/// Everything the platform layer needs from its database: the registry and results, the job queue, webhooks and
/// tokens. SQLite and PostgreSQL implement it; the platform does not know which one it has.
public typealias PlatformStore = FactorStore & JobQueue & WebhookStore & TokenStore & EventLog

/// What a status move checks inside its transaction.
public struct StatusGuard: Sendable, Equatable {
    /// The latest version the caller saw (nil: any).
    public var expectedVersion: Int?
    /// Refuse an actor who owns the factor or wrote its latest version.
    public var secondPerson: Bool

    public init(expectedVersion: Int? = nil, secondPerson: Bool = false) {
        self.expectedVersion = expectedVersion
        self.secondPerson = secondPerson
    }

    public static let none = StatusGuard()

    /// The refusal for `factor` (whose latest version `author` wrote), or nil.
    public func refusal(_ factor: FactorRecord, author: String?, actor: String) -> StoreError? {
        if let expected = expectedVersion, expected != factor.latestVersion {
            return .versionConflict(code: factor.code, expected: expected + 1, got: factor.latestVersion + 1)
        }
        guard secondPerson else { return nil }
        if actor == factor.owner { return .sameAuthor(code: factor.code, actor: actor, role: "owner") }
        if actor == author { return .sameAuthor(code: factor.code, actor: actor, role: "author of version \(factor.latestVersion)") }
        return nil
    }
}

extension FactorStore {
    public func updateStatus(code: String, from: Set<FactorStatus>, to status: FactorStatus, actor: String, action: String) throws -> FactorRecord {
        try updateStatus(code: code, from: from, to: status, actor: actor, action: action, guarding: .none)
    }
}
