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

    /// Approval needs a second person: the factor's owner and the author of its latest version cannot approve it
    /// (whatever their role); a refusal is audited.
    /// Checked in the transaction of the move, so an edit landing meanwhile cannot slip past it; `expectedVersion`
    /// (the version the reviewer read, e.g. from an ETag) refuses the approval when a newer one exists.
    @discardableResult
    public func approve(code: String, actor: String, expectedVersion: Int? = nil) throws -> FactorRecord {
        do {
            return try store.updateStatus(code: code, from: [.inReview], to: .approved, actor: actor, action: "approve",
                                          guarding: StatusGuard(expectedVersion: expectedVersion, secondPerson: true))
        } catch StoreError.sameAuthor(let code, let actor, let role) {
            let error = PlatformError.fourEyes(code: code, actor: actor, as: role)
            try? store.recordRefusal(actor: actor, action: "approve", entity: code, reason: error.description)
            throw error
        } catch let error as StoreError { throw PlatformError.store(error) }
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
