import GRDB

extension SQLiteFactorStore: TokenStore {
    public func insertToken(_ token: TokenRecord, secretHash: String, actor: String) throws {
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ?", arguments: [token.name]) != nil {
                throw StoreError.duplicateToken(token.name)
            }
            try db.execute(sql: "INSERT INTO api_tokens (id, name, role, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [token.id, token.name, token.role.rawValue, secretHash, token.createdAt, token.expiresAt])
            try appendAuditRow(db, actor: actor, action: "create-token", entity: "token:" + token.name, before: nil,
                               after: JSON.encode(TokenGrant(role: token.role, expiresAt: token.expiresAt)))
        }
    }

    public func token(secretHash: String) throws -> TokenRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", arguments: [secretHash])
                .map(Self.tokenFrom)
        }
    }

    public func tokens() throws -> [TokenRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY name").map(Self.tokenFrom) }
    }

    public func revokeToken(name: String, actor: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", arguments: [Clock.now(), name])
            guard db.changesCount == 1 else { throw StoreError.unknownToken(name) }
            try appendAuditRow(db, actor: actor, action: "revoke-token", entity: "token:" + name, before: nil, after: nil)
        }
    }

    public func setUser(name: String, role: Role, actor: String) throws -> UserRecord {
        try write { db in
            let before = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.userFrom)
            let user = UserRecord(name: name, role: role, updatedAt: Clock.now(), updatedBy: actor)
            try db.execute(sql: """
                INSERT INTO users (name, role, updated_at, updated_by) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """, arguments: [name, role.rawValue, user.updatedAt, actor])
            try appendAuditRow(db, actor: actor, action: "set-user", entity: "user:" + name, before: before.map { JSON.encode($0) },
                               after: JSON.encode(user))
            return user
        }
    }

    public func removeUser(name: String, actor: String) throws -> Bool {
        try write { db in
            guard let before = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.userFrom) else { return false }
            try db.execute(sql: "DELETE FROM users WHERE name = ?", arguments: [name])
            try appendAuditRow(db, actor: actor, action: "remove-user", entity: "user:" + name, before: JSON.encode(before), after: nil)
            return true
        }
    }

    public func users() throws -> [UserRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.userFrom) }
    }

    public func user(name: String) throws -> UserRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.userFrom) }
    }

    public func recordRefusal(actor: String, action: String, entity: String, reason: String) throws {
        try write { db in
            try appendAuditRow(db, actor: actor, action: "refused", entity: entity, before: nil, after: JSON.encode(Refusal(action: action, reason: reason)))
        }
    }

    static func tokenFrom(_ row: Row) -> TokenRecord {
        TokenRecord(id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .researcher,
                    createdAt: row["created_at"], revokedAt: row["revoked_at"], expiresAt: row["expires_at"])
    }

    static func userFrom(_ row: Row) -> UserRecord {
        UserRecord(name: row["name"], role: Role(rawValue: row["role"]) ?? .researcher, updatedAt: row["updated_at"], updatedBy: row["updated_by"])
    }
}
