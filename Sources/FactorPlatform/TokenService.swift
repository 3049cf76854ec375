import FactorCore
import FactorStore
import Foundation

/// Issues and checks API tokens. The secret is shown once; only its SHA-256 is stored.
public struct TokenService: Sendable {
    public let store: any TokenStore

    public init(store: any TokenStore) { self.store = store }

    /// Creates a token; returns the record and the secret to hand to its holder.
    public func create(name: String, role: Role, actor: String) throws -> (token: TokenRecord, secret: String) {
        guard !name.isEmpty, name.count <= 64 else { throw PlatformError.badTask("a token name must have 1–64 characters") }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for k in 0..<bytes.count { bytes[k] = UInt8.random(in: 0...255, using: &generator) }
        let secret = "flk_" + bytes.map { String(format: "%02x", $0) }.joined()
        let token = TokenRecord(id: UUID().uuidString.lowercased(), name: name, role: role, createdAt: Clock.now())
        try store.insertToken(token, secretHash: SHA256Digest.hex(secret), actor: actor)
        return (token, secret)
    }

    /// The live token a secret belongs to.
    public func authenticate(_ secret: String) throws -> TokenRecord? {
        try store.token(secretHash: SHA256Digest.hex(secret))
    }
}
