import PostgresNIO

extension PostgresFactorStore: TokenStore {
    public func insertToken(_ token: TokenRecord, secretHash: String, actor: String) throws {
        try write { s in
            let inserted = try await s.rows("""
                INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, [token.id, token.name, token.role.rawValue, secretHash, token.createdAt])
            guard !inserted.isEmpty else { throw StoreError.duplicateToken(token.name) }
            try await self.appendAudit(s, actor: actor, action: "create-token", entity: "token:" + token.name, before: nil,
                                       after: "{\"role\":\"\(token.role.rawValue)\"}")
        }
    }

    public func token(secretHash: String) throws -> TokenRecord? {
        try read { s in
            try await s.one("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", [secretHash]).map(Self.tokenFrom)
        }
    }

    public func tokens() throws -> [TokenRecord] {
        try read { s in try await s.rows("SELECT * FROM api_tokens ORDER BY name COLLATE \"C\"").map(Self.tokenFrom) }
    }

    public func revokeToken(name: String, actor: String) throws {
        try write { s in
            let revoked = try await s.rows("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING id",
                                           [Clock.now(), name])
            guard !revoked.isEmpty else { throw StoreError.unknownToken(name) }
            try await self.appendAudit(s, actor: actor, action: "revoke-token", entity: "token:" + name, before: nil, after: nil)
        }
    }

    static func tokenFrom(_ row: PostgresRecord) throws -> TokenRecord {
        TokenRecord(id: try row.get("id"), name: try row.get("name"), role: Role(rawValue: try row.get("role")) ?? .researcher,
                    createdAt: try row.get("created_at"), revokedAt: try row.optional("revoked_at"))
    }
}
