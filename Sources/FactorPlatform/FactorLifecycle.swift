import FactorStore

/// A factor's review states: draft → in review → approved, and retirement. Moving between them touches only the
/// store (no expression is validated), so it needs no market data; the store audits each move.
public struct FactorLifecycle: Sendable {
    public let store: any FactorStore

    public init(store: any FactorStore) { self.store = store }

    @discardableResult
    public func submitForReview(code: String, actor: String) throws -> FactorRecord {
        try move(code, from: [.draft], to: .inReview, actor: actor, action: "submit-review")
    }

    @discardableResult
    public func approve(code: String, actor: String) throws -> FactorRecord {
        try move(code, from: [.inReview], to: .approved, actor: actor, action: "approve")
    }

    @discardableResult
    public func deprecate(code: String, actor: String) throws -> FactorRecord {
        try move(code, from: [.draft, .inReview, .approved], to: .deprecated, actor: actor, action: "deprecate")
    }

    private func move(_ code: String, from: Set<FactorStatus>, to: FactorStatus, actor: String, action: String) throws -> FactorRecord {
        do { return try store.updateStatus(code: code, from: from, to: to, actor: actor, action: action) }
        catch let error as StoreError { throw PlatformError.store(error) }
    }
}
