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

    func run() throws {
        guard let r = Role(rawValue: role) else {
            throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (token, secret) = try TokenService(store: try store.openStore()).create(name: name, role: r, actor: StoreOptions.actor)
        if store.json { try store.printJSON(["name": token.name, "role": token.role.rawValue, "token": secret]); return }
        print(secret)
        Terminal.info("token \(token.name) (\(token.role.rawValue)) created; it is shown only now")
    }
}

struct RevokeTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-token", abstract: "Revoke an API token by name.")
    @OptionGroup var store: StoreOptions
    @Argument var name: String

    func run() throws {
        try store.openStore().revokeToken(name: name, actor: StoreOptions.actor)
        Terminal.info("token \(name) revoked")
    }
}

struct ListTokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-tokens", abstract: "API tokens (names and roles; never the secrets).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let tokens = try store.openStore().tokens()
        if store.json { try store.printJSON(tokens); return }
        print(Terminal.table(["name", "role", "created", "revoked"], tokens.map { [$0.name, $0.role.rawValue, $0.createdAt, $0.revokedAt ?? ""] }))
    }
}
