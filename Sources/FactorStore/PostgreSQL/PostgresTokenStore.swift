import PostgresNIO

extension PostgresFactorStore: TokenStore {
    public func insertToken(_ token: TokenRecord, secretHash: String, actor: String) throws {
        try write { s in
            let inserted = try await s.rows("""
                INSERT INTO api_tokens (id, name, role, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (name) DO NOTHING RETURNING id
                """, [token.id, token.name, token.role.rawValue, secretHash, token.createdAt, token.expiresAt])
            guard !inserted.isEmpty else { throw StoreError.duplicateToken(token.name) }
            try await self.appendAudit(s, actor: actor, action: "create-token", entity: "token:" + token.name, before: nil,
                                       after: JSON.encode(TokenGrant(role: token.role, expiresAt: token.expiresAt)))
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

    public func setUser(name: String, role: Role, actor: String) throws -> UserRecord {
        try write { s in
            let before = try await s.one("SELECT * FROM users WHERE name = $1 FOR UPDATE", [name]).map(Self.userFrom)
            let user = UserRecord(name: name, role: role, updatedAt: Clock.now(), updatedBy: actor)
            try await s.execute("""
                INSERT INTO users (name, role, updated_at, updated_by) VALUES ($1, $2, $3, $4)
                ON CONFLICT (name) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, [name, role.rawValue, user.updatedAt, actor])
            try await self.appendAudit(s, actor: actor, action: "set-user", entity: "user:" + name, before: before.map { JSON.encode($0) },
                                       after: JSON.encode(user))
            return user
        }
    }

    public func removeUser(name: String, actor: String) throws -> Bool {
        try write { s in
            guard let before = try await s.one("DELETE FROM users WHERE name = $1 RETURNING *", [name]).map(Self.userFrom) else { return false }
            try await self.appendAudit(s, actor: actor, action: "remove-user", entity: "user:" + name, before: JSON.encode(before), after: nil)
            return true
        }
    }

    public func users() throws -> [UserRecord] {
        try read { s in try await s.rows("SELECT * FROM users ORDER BY name COLLATE \"C\"").map(Self.userFrom) }
    }

    public func user(name: String) throws -> UserRecord? {
        try read { s in try await s.one("SELECT * FROM users WHERE name = $1", [name]).map(Self.userFrom) }
    }

    public func recordRefusal(actor: String, action: String, entity: String, reason: String) throws {
        try write { s in
            try await self.appendAudit(s, actor: actor, action: "refused", entity: entity, before: nil,
                                       after: JSON.encode(Refusal(action: action, reason: reason)))
        }
    }

    static func tokenFrom(_ row: PostgresRecord) throws -> TokenRecord {
        TokenRecord(id: try row.get("id"), name: try row.get("name"), role: Role(rawValue: try row.get("role")) ?? .researcher,
                    createdAt: try row.get("created_at"), revokedAt: try row.optional("revoked_at"), expiresAt: try row.optional("expires_at"))
    }

    static func userFrom(_ row: PostgresRecord) throws -> UserRecord {
        UserRecord(name: try row.get("name"), role: Role(rawValue: try row.get("role")) ?? .researcher, updatedAt: try row.get("updated_at"),
                   updatedBy: try row.get("updated_by"))
    }
}
