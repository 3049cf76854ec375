import FactorStore
import Hummingbird

/// The per-request context: the authenticated token, if any.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` for every route but health.
    public var token: TokenRecord?

    public init(source: Source) {
        coreContext = .init(source: source)
        token = nil
    }

    /// Request bodies are limited to 1 MiB (results of a large task batch fit; anything bigger is refused with 413).
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller's token, or 401.
    func caller() throws -> TokenRecord {
        guard let token else { throw APIError(.unauthorized, "missing or invalid token: send Authorization: Bearer <token>") }
        return token
    }

    /// Fails with 403 unless the caller has one of `roles` (admin always passes).
    @discardableResult
    func require(_ roles: Set<Role>, to action: String) throws -> TokenRecord {
        let token = try caller()
        guard token.role == .admin || roles.contains(token.role) else {
            throw APIError(.forbidden, "a \(token.role.rawValue) token cannot \(action)")
        }
        return token
    }
}
