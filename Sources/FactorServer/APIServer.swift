import FactorStore
import Foundation
import Hummingbird

/// The HTTP API over the platform (Hummingbird 2): the same calls as the CLI.
public enum APIServer {
    /// The router with every route and middleware (errors → JSON, then authentication).
    public static func router(_ services: Services) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(tokens: services.tokens))
        router.get("/healthz") { _, _ in try JSONIO.response(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            do {
                _ = try services.store.openTaskCount()
                return try JSONIO.response(["status": "ready"])
            } catch {
                throw APIError(.serviceUnavailable, "the database is not reachable: \(error)")
            }
        }
        FactorRoutes(services: services).register(on: router)
        JobRoutes(services: services).register(on: router)
        ResultRoutes(services: services).register(on: router)
        return router
    }

    /// An application listening on `host:port`.
    public static func application(_ services: Services, host: String, port: Int) -> some ApplicationProtocol {
        Application(router: router(services), configuration: .init(address: .hostname(host, port: port), serverName: "factorlab"))
    }
}
