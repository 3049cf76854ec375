import FactorPlatform
import FactorStore
import Foundation

/// Who the CLI acts as on a database, and with which role — the same roles the API's tokens carry, so that a shared
/// database is not a back door around them.
///
/// - `FACTOR_TOKEN` set: the token's name and role (an expired or revoked token is refused).
/// - `FACTOR_REQUIRE_AUTH=1` (an operator's setting for a host) and no token: refused.
/// - Otherwise `FACTOR_USER` (else `$USER`): the role the `users` table grants that name, else the role of a live
///   token of that name. A name with neither, on a database whose `users` table has rows, may read but not write.
/// - A database with no users at all is not shared yet: the CLI acts with every right (as before users existed).
struct CLIIdentity: Sendable {
    var name: String
    /// nil: an unknown user of a database with users (reads only).
    var role: Role?
    /// Whether roles apply (false on a database nobody has configured users or tokens for the CLI on).
    var enforced: Bool
    /// How the identity was found, for messages.
    var source: String

    static var requireAuth: Bool { ProcessInfo.processInfo.environment["FACTOR_REQUIRE_AUTH"] == "1" }

    static func resolve(_ store: any PlatformStore) throws -> CLIIdentity {
        let env = ProcessInfo.processInfo.environment
        if let secret = env["FACTOR_TOKEN"], !secret.isEmpty {
            switch try TokenService(store: store).check(secret) {
            case .valid(let token):
                return CLIIdentity(name: token.name, role: token.role, enforced: true, source: "FACTOR_TOKEN (token \(token.name))")
            case .expired(let token):
                let message = "FACTOR_TOKEN is token \(token.name), which expired at \(token.expiresAt ?? "?"); ask an admin for a new one"
                try? store.recordRefusal(actor: token.name, action: "cli", entity: "token:" + token.name, reason: message)
                throw PlatformError.unauthenticated(message)
            case .invalid:
                throw PlatformError.unauthenticated("FACTOR_TOKEN is not a live token of this database (unknown or revoked)")
            }
        }
        let name = env["FACTOR_USER"] ?? env["USER"] ?? "cli"
        if requireAuth {
            let message = "this host requires a token for the CLI (FACTOR_REQUIRE_AUTH=1): set FACTOR_TOKEN to a token from factorlab create-token"
            try? store.recordRefusal(actor: name, action: "cli", entity: "cli", reason: message)
            throw PlatformError.unauthenticated(message)
        }
        if let user = try store.user(name: name) {
            return CLIIdentity(name: name, role: user.role, enforced: true, source: "the users table")
        }
        if let token = try store.tokens().first(where: { $0.name == name && $0.revokedAt == nil && !$0.isExpired(at: Clock.now()) }) {
            return CLIIdentity(name: name, role: token.role, enforced: true, source: "token \(token.name)")
        }
        if try store.users().isEmpty {
            return CLIIdentity(name: name, role: .admin, enforced: false, source: "a database without users")
        }
        return CLIIdentity(name: name, role: nil, enforced: true, source: "not a user of this database")
    }

    /// Refuses (and audits) an action that needs one of `roles` (admin always passes).
    func require(_ roles: Set<Role>, to action: String, entity: String, store: any PlatformStore) throws {
        guard enforced else { return }
        if let role, role == .admin || roles.contains(role) { return }
        let allowed = (roles.map(\.rawValue).sorted() + ["admin"]).joined(separator: " or ")
        let error: PlatformError
        if let role {
            error = .forbidden(actor: name, role: role.rawValue, action: action, allowed: allowed)
        } else {
            error = .forbidden(actor: name, role: "no role: \(source)", action: action,
                               allowed: "\(allowed); an admin grants one with factorlab set-user \(name) --role …")
        }
        try? store.recordRefusal(actor: name, action: action, entity: entity, reason: error.description)
        throw error
    }

    /// Researchers act on their own factors; reviewers and admins on any (as on the API).
    func requireOwner(of code: String, to action: String, store: any PlatformStore) throws {
        try require([.researcher, .reviewer], to: action, entity: code, store: store)
        guard enforced, role == .researcher, let factor = try store.factor(code: code), factor.owner != name else { return }
        let error = PlatformError.forbidden(actor: name, role: "researcher", action: "\(action) factor \(code), which belongs to \(factor.owner)",
                                            allowed: "its owner, a reviewer or an admin")
        try? store.recordRefusal(actor: name, action: action, entity: code, reason: error.description)
        throw error
    }
}
