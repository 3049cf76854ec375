import Hummingbird

/// Registers routes on the Hummingbird router and remembers each one (method, path, summary), so that the OpenAPI
/// document is built from the very routes that are served and cannot drift from them.
final class APIRouter: @unchecked Sendable {
    struct Route: Sendable, Equatable {
        var method: String
        /// Hummingbird form, e.g. `/factors/:code`.
        var path: String
        var summary: String
        var roles: String
    }

    let router: Router<APIContext>
    private(set) var routes: [Route] = []

    init(router: Router<APIContext>) { self.router = router }

    typealias Handler = @Sendable (Request, APIContext) async throws -> Response

    func get(_ path: String, _ summary: String, roles: String = "researcher, reviewer", _ handler: @escaping Handler) {
        routes.append(Route(method: "get", path: path, summary: summary, roles: roles))
        router.get(RouterPath(path), use: handler)
    }

    func post(_ path: String, _ summary: String, roles: String = "researcher, reviewer", _ handler: @escaping Handler) {
        routes.append(Route(method: "post", path: path, summary: summary, roles: roles))
        router.post(RouterPath(path), use: handler)
    }

    func patch(_ path: String, _ summary: String, roles: String = "researcher (own factors), reviewer", _ handler: @escaping Handler) {
        routes.append(Route(method: "patch", path: path, summary: summary, roles: roles))
        router.patch(RouterPath(path), use: handler)
    }

    func put(_ path: String, _ summary: String, roles: String = "reviewer, admin", _ handler: @escaping Handler) {
        routes.append(Route(method: "put", path: path, summary: summary, roles: roles))
        router.put(RouterPath(path), use: handler)
    }

    func delete(_ path: String, _ summary: String, roles: String = "researcher, reviewer", _ handler: @escaping Handler) {
        routes.append(Route(method: "delete", path: path, summary: summary, roles: roles))
        router.delete(RouterPath(path), use: handler)
    }
}
