import ArgumentParser
import FactorData
import FactorPlatform
import FactorServer
import FactorStore
import Foundation
import Hummingbird

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the HTTP API (every route but /healthz and /readyz needs a token).")

    @OptionGroup var store: StoreOptions
    @Option var host: String = "127.0.0.1"
    @Option var port: Int = 8080
    @Option(help: "Data for expression validation and jobs (default: the configured data, else the synthetic demo set).") var data: String?

    func run() async throws {
        let db = try store.openStore()
        let validator = try ExpressionValidator.forConfiguredData(explicitPath: data)
        let location = try? DataLocator.resolve(explicitPath: data, kind: nil)
        let directory = location?.directory ?? ColumnCacheLocation.directory + "/synthetic-demo"
        let source = try DataSources.open(directory: directory, kind: location?.kind)
        let services = Services(store: db, validator: validator, fields: Set(try source.fieldNames()),
                                dataDirectory: (directory as NSString).standardizingPath, sourceKind: source.kind.rawValue)
        Terminal.info("factorlab API on http://\(host):\(port) · database \(db.locationDescription) · data \(directory)")
        // Webhooks leave from the outbox in the background; nothing is lost while a receiver is down.
        let deliveries = WebhookDeliverer(store: db).start()
        defer { deliveries.cancel() }
        try await APIServer.application(services, host: host, port: port).runService()
    }
}

struct CreateTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-token", abstract: "Create an API token (printed once; stored hashed).")
    @OptionGroup var store: StoreOptions
    @Argument var name: String
    @Option(help: "researcher, reviewer, admin or worker.") var role: String = "researcher"
    @Option(help: "How long the token is valid: 30d, 12h, 90m (default: until revoked).") var expiresIn: String?

    func run() throws {
        guard let r = Role(rawValue: role) else {
            throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let lifetime = try expiresIn.map(TokenService.lifetime)
        let db: any PlatformStore, actor: String
        do {
            let opened = try store.openStore(for: [], to: "create tokens", entity: "token:" + name)
            (db, actor) = (opened.store, opened.actor.name)
        } catch PlatformError.unauthenticated(let message) {
            // The first admin token of a host that requires tokens has to come from somewhere: while the database has
            // never had an admin token, creating one needs none (once one existed, even expired, it takes a token).
            let bare = try StoreLocation.open(StoreLocation.resolve(store.db))
            guard r == .admin, ProcessInfo.processInfo.environment["FACTOR_TOKEN"] == nil,
                  try !bare.tokens().contains(where: { $0.role == .admin }) else {
                throw PlatformError.unauthenticated(message)
            }
            (db, actor) = (bare, StoreOptions.actor)
        }
        let (token, secret) = try TokenService(store: db).create(name: name, role: r, actor: actor, lifetime: lifetime)
        if store.json { try store.printJSON(["name": token.name, "role": token.role.rawValue, "token": secret, "expiresAt": token.expiresAt ?? ""]); return }
        print(secret)
        Terminal.info("token \(token.name) (\(token.role.rawValue)) created\(token.expiresAt.map { ", valid until \($0)" } ?? ""); it is shown only now")
    }
}

struct RevokeTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-token", abstract: "Revoke an API token by name.")
    @OptionGroup var store: StoreOptions
    @Argument var name: String

    func run() throws {
        let (db, actor) = try store.openStore(for: [], to: "revoke tokens", entity: "token:" + name)
        try db.revokeToken(name: name, actor: actor.name)
        Terminal.info("token \(name) revoked")
    }
}

struct ListTokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-tokens", abstract: "API tokens (names and roles; never the secrets).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let tokens = try store.openStore(for: [], to: "list tokens").store.tokens()
        if store.json { try store.printJSON(tokens); return }
        print(Terminal.table(["name", "role", "created", "expires", "revoked"],
                             tokens.map { [$0.name, $0.role.rawValue, $0.createdAt, $0.expiresAt ?? "", $0.revokedAt ?? ""] }))
    }
}
