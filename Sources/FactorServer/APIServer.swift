import FactorStore
import Foundation
import Hummingbird

/// The HTTP API over the platform (Hummingbird 2): the same calls as the CLI.
public enum APIServer {
    /// The router with every route and middleware (errors → JSON, then authentication).
    public static func router(_ services: Services) throws -> Router<APIContext> {
        try build(services).router
    }

    /// The documented routes, in registration order (method, Hummingbird path).
    public static func documentedRoutes(_ services: Services) throws -> [(method: String, path: String)] {
        try build(services).routes.map { ($0.method, $0.path) }
    }

    /// The OpenAPI document `GET /openapi.json` serves.
    public static func openAPIDocument(_ services: Services) throws -> String {
        try OpenAPIDocument.json(routes: build(services).routes)
    }

    static func build(_ services: Services) throws -> APIRouter {
        let router = Router(context: APIContext.self)
        let monitoring = Monitoring.shared
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ErrorMiddleware(store: services.store))
        router.add(middleware: AuthMiddleware(tokens: services.tokens))
        let api = APIRouter(router: router)
        api.get("/healthz", "Liveness", roles: "none", replies: [.ok(StatusReply.self, "The server runs")]) { _, _ in try JSONIO.response(StatusReply(status: "ok")) }
        api.get("/readyz", "Readiness: the database answers", roles: "none", replies: [.ok(StatusReply.self, "The database answers")]) { _, _ in
            do {
                _ = try services.store.openTaskCount()
                return try JSONIO.response(StatusReply(status: "ready"))
            } catch {
                throw APIError(.serviceUnavailable, "the database is not reachable: \(error)")
            }
        }
        api.get("/me", "The caller's token name and role (what the console shows and which actions it offers)", roles: "any",
                replies: [.ok(Identity.self)]) { _, context in
            let token = try context.caller()
            return try JSONIO.response(Identity(name: token.name, role: token.role.rawValue))
        }
        FactorRoutes(services: services).register(on: api)
        JobRoutes(services: services).register(on: api)
        ResultRoutes(services: services).register(on: api)
        WebhookRoutes(services: services).register(on: api)
        EventRoutes(services: services).register(on: api)
        api.get("/metrics", "Prometheus metrics: task durations, queue depth, running, retries, failures, evaluations per second, HTTP requests and latencies",
                roles: "any", replies: [Reply(status: 200, content: .text("text/plain"), help: "The Prometheus text format")]) { _, context in
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
        let documentReply = Reply(status: 200, content: .object, help: "The OpenAPI 3.1 document")
        let document = try OpenAPIDocument.json(routes: api.routes + [.init(method: "get", path: "/openapi.json", summary: "This document", roles: "none",
                                                                           contract: RouteContract(replies: [documentReply]))])
        api.get("/openapi.json", "This document", roles: "none", replies: [documentReply]) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document)))
        }
        return api
    }

    /// An application listening on `host:port`; `onRunning` receives the bound port (useful with port 0).
    public static func application(_ services: Services, host: String, port: Int,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(router: try router(services), configuration: .init(address: .hostname(host, port: port), serverName: "factorlab"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}
