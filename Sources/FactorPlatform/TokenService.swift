import FactorCore
import FactorStore
import Foundation

/// Issues and checks API tokens. The secret is shown once; only its SHA-256 is stored.
public struct TokenService: Sendable {
    public let store: any TokenStore

    public init(store: any TokenStore) { self.store = store }

    /// Creates a token, valid for `lifetime` seconds when given; returns the record and the secret to hand to its holder.
    public func create(name: String, role: Role, actor: String, lifetime: TimeInterval? = nil) throws -> (token: TokenRecord, secret: String) {
        guard !name.isEmpty, name.count <= 64 else { throw PlatformError.badTask("a token name must have 1–64 characters") }
        if let lifetime, !(lifetime > 0 && lifetime <= 10 * 366 * 86400) { throw PlatformError.badTask("a token's lifetime must be positive and at most ten years") }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for k in 0..<bytes.count { bytes[k] = UInt8.random(in: 0...255, using: &generator) }
        let secret = "flk_" + bytes.map { String(format: "%02x", $0) }.joined()
        let now = Date()
        let token = TokenRecord(id: UUID().uuidString.lowercased(), name: name, role: role, createdAt: Clock.format(now),
                                expiresAt: lifetime.map { Clock.format(now.addingTimeInterval($0)) })
        try store.insertToken(token, secretHash: SHA256Digest.hex(secret), actor: actor)
        return (token, secret)
    }

    /// The live token a secret belongs to (nil for an unknown, revoked or expired one).
    public func authenticate(_ secret: String) throws -> TokenRecord? {
        if case .valid(let token) = try check(secret) { return token }
        return nil
    }

    public enum Check: Sendable {
        case valid(TokenRecord)
        case expired(TokenRecord)
        /// Unknown or revoked.
        case invalid
    }

    /// What a secret is: a live token, an expired one, or nothing.
    public func check(_ secret: String) throws -> Check {
        guard let token = try store.token(secretHash: SHA256Digest.hex(secret)) else { return .invalid }
        return token.isExpired(at: Clock.now()) ? .expired(token) : .valid(token)
    }

    /// "30d", "12h", "90m", "3600s" (or plain seconds) → seconds.
    public static func lifetime(_ text: String) throws -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let unit = trimmed.last.flatMap { units[$0] }
        guard let number = Double(unit == nil ? trimmed : String(trimmed.dropLast())), number > 0, number.isFinite else {
            throw PlatformError.badTask("'\(text)' is not a lifetime: give a number with s, m, h, d or w, e.g. 30d")
        }
        let seconds = number * (unit ?? 1)
        // Ten years at most: a lifetime beyond that is a typo, and dates past year 9999 would not order as text.
        guard seconds <= 10 * 366 * 86400 else { throw PlatformError.badTask("'\(text)' is longer than ten years; revoke tokens instead of making them eternal") }
        return seconds
    }
}
