import FactorStore
import Foundation
import Hummingbird

/// The HTTP API over the platform (Hummingbird 2): the same calls as the CLI.
public enum APIServer {
    /// The router with every route and middleware (errors → JSON, then authentication).
    public static func router(_ services: Services) -> Router<APIContext> {
        build(services).router
    }

    /// The documented routes, in registration order (method, Hummingbird path).
    public static func documentedRoutes(_ services: Services) -> [(method: String, path: String)] {
        build(services).routes.map { ($0.method, $0.path) }
    }

    static func build(_ services: Services) -> APIRouter {
        let router = Router(context: APIContext.self)
        let monitoring = Monitoring.shared
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(tokens: services.tokens))
        let api = APIRouter(router: router)
        api.get("/healthz", "Liveness", roles: "none") { _, _ in try JSONIO.response(["status": "ok"]) }
        api.get("/readyz", "Readiness: the database answers", roles: "none") { _, _ in
            do {
                _ = try services.store.openTaskCount()
                return try JSONIO.response(["status": "ready"])
            } catch {
                throw APIError(.serviceUnavailable, "the database is not reachable: \(error)")
            }
        }
        api.get("/me", "The caller's token name and role (what the console shows and which actions it offers)", roles: "any") { _, context in
            let token = try context.caller()
            return try JSONIO.response(["name": token.name, "role": token.role.rawValue])
        }
        FactorRoutes(services: services).register(on: api)
        JobRoutes(services: services).register(on: api)
        ResultRoutes(services: services).register(on: api)
        WebhookRoutes(services: services).register(on: api)
        EventRoutes(services: services).register(on: api)
        api.get("/metrics", "Prometheus metrics: task durations, queue depth, running, retries, failures, evaluations per second, HTTP requests and latencies",
                roles: "any") { _, context in
            _ = try context.caller()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: try monitoring.scrape(services.store))))
        }
        @Sendable func asset(_ text: String, _ type: String) -> Response {
            Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console"]) }
        router.get("/console") { _, _ in asset(ConsoleAssets.html, "text/html; charset=utf-8") }
        router.get("/console/console.css") { _, _ in asset(ConsoleAssets.css, "text/css; charset=utf-8") }
        router.get("/console/console.js") { _, _ in asset(ConsoleAssets.javascript, "text/javascript; charset=utf-8") }
        router.get("/console/report.js") { _, _ in asset(ConsoleAssets.reportScript, "text/javascript; charset=utf-8") }
        let document = OpenAPIDocument.json(routes: api.routes + [.init(method: "get", path: "/openapi.json", summary: "This document", roles: "none")])
        api.get("/openapi.json", "This document", roles: "none") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document)))
        }
        return api
    }

    /// An application listening on `host:port`; `onRunning` receives the bound port (useful with port 0).
    public static func application(_ services: Services, host: String, port: Int,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(services), configuration: .init(address: .hostname(host, port: port), serverName: "factorlab"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}
