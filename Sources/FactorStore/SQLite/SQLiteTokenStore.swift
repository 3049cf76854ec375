import GRDB

extension SQLiteFactorStore: TokenStore {
    public func insertToken(_ token: TokenRecord, secretHash: String, actor: String) throws {
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ?", arguments: [token.name]) != nil {
                throw StoreError.duplicateToken(token.name)
            }
            try db.execute(sql: "INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [token.id, token.name, token.role.rawValue, secretHash, token.createdAt])
            try appendAuditRow(db, actor: actor, action: "create-token", entity: "token:" + token.name, before: nil,
                               after: "{\"role\":\"\(token.role.rawValue)\"}")
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

    static func tokenFrom(_ row: Row) -> TokenRecord {
        TokenRecord(id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .researcher,
                    createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }
}
