import Hummingbird

/// Registers routes on the Hummingbird router together with their contracts, so that the OpenAPI document is built
/// from the very routes that are served, and the router enforces what the document says about query parameters and
/// list paging before a handler runs.
final class APIRouter: @unchecked Sendable {
    struct Route: @unchecked Sendable {
        var method: String
        /// Hummingbird form, e.g. `/factors/:code`.
        var path: String
        var summary: String
        var roles: String
        var contract: RouteContract
    }

    let router: Router<APIContext>
    private(set) var routes: [Route] = []

    init(router: Router<APIContext>) { self.router = router }

    typealias Handler = @Sendable (Request, APIContext) async throws -> Response

    func get(_ path: String, _ summary: String, roles: String = "researcher, reviewer", query: [QueryParameter] = [],
             headers: [HeaderParameter] = [], errors: Set<Int> = [], replies: [Reply], _ handler: @escaping Handler) {
        add("get", path, summary, roles, RouteContract(query: query, headers: headers, replies: replies, errors: errors), handler)
    }

    func post(_ path: String, _ summary: String, roles: String = "researcher, reviewer", query: [QueryParameter] = [],
              headers: [HeaderParameter] = [], body: (any Decodable.Type)? = nil, example: String? = nil, errors: Set<Int> = [],
              replies: [Reply], _ handler: @escaping Handler) {
        add("post", path, summary, roles, RouteContract(query: query, headers: headers, body: body, example: example, replies: replies, errors: errors), handler)
    }

    func patch(_ path: String, _ summary: String, roles: String = "researcher (own factors), reviewer", headers: [HeaderParameter] = [],
               body: (any Decodable.Type)? = nil, example: String? = nil, errors: Set<Int> = [], replies: [Reply], _ handler: @escaping Handler) {
        add("patch", path, summary, roles, RouteContract(headers: headers, body: body, example: example, replies: replies, errors: errors), handler)
    }

    func put(_ path: String, _ summary: String, roles: String = "reviewer, admin", body: (any Decodable.Type)? = nil, example: String? = nil,
             errors: Set<Int> = [], replies: [Reply], _ handler: @escaping Handler) {
        add("put", path, summary, roles, RouteContract(body: body, example: example, replies: replies, errors: errors), handler)
    }

    func delete(_ path: String, _ summary: String, roles: String = "researcher, reviewer", errors: Set<Int> = [], replies: [Reply],
                _ handler: @escaping Handler) {
        add("delete", path, summary, roles, RouteContract(replies: replies, errors: errors), handler)
    }

    /// A list route: the handler returns every matching item in its order; the router pages it by `limit` and `cursor`
    /// (`cursorKey` names an item uniquely) and sets `X-Next-Cursor` and `Link` when more follow.
    func list<T: Codable & Sendable>(_ path: String, _ summary: String, roles: String = "researcher, reviewer", of type: T.Type,
                          query: [QueryParameter] = [], defaultLimit: Int? = nil, cursorKey: @escaping @Sendable (T) -> String,
                          _ handler: @escaping @Sendable (Request, APIContext) async throws -> [T]) {
        let contract = RouteContract(query: query + Pagination.parameters(defaultLimit: defaultLimit), replies: [.list(T.self)])
        add("get", path, summary, roles, contract) { request, context in
            let items = try await handler(request, context)
            let page = try Pagination.page(items, key: cursorKey, request: request, defaultLimit: defaultLimit)
            var response = try JSONIO.response(Array(page.items))
            if let next = page.nextCursor {
                Pagination.announceNext(&response, request: request, cursor: next)
            }
            return response
        }
    }

    /// A list paged in the store (keyset): the handler gets the page's size and the key of the last item of the
    /// previous page, and returns at most `limit + 1` items after it (one more than the page says whether more follow).
    func keysetList<T: Codable & Sendable>(_ path: String, _ summary: String, roles: String = "researcher, reviewer", of type: T.Type,
                                           query: [QueryParameter] = [], defaultLimit: Int?, cursorKey: @escaping @Sendable (T) -> String,
                                           _ handler: @escaping @Sendable (Request, APIContext, Pagination.Keyset) async throws -> [T]) {
        let contract = RouteContract(query: query + Pagination.parameters(defaultLimit: defaultLimit), replies: [.list(T.self)])
        add("get", path, summary, roles, contract) { request, context in
            let page = try Pagination.keyset(request, defaultLimit: defaultLimit)
            let items = try await handler(request, context, page)
            var response = try JSONIO.response(Array(items.prefix(page.limit)))
            if page.limit > 0, items.count > page.limit {
                let next = Pagination.cursor(after: cursorKey(items[page.limit - 1]))
                Pagination.announceNext(&response, request: request, cursor: next)
            }
            return response
        }
    }

    private func add(_ method: String, _ path: String, _ summary: String, _ roles: String, _ contract: RouteContract, _ handler: @escaping Handler) {
        routes.append(Route(method: method, path: path, summary: summary, roles: roles, contract: contract))
        let parameters = contract.query
        let checked: Handler = { request, context in
            let q = request.uri.queryParameters
            // Text the stores cannot hold (PostgreSQL refuses NUL in TEXT) is refused here, naming where it was.
            for (name, value) in q where value.contains("\0") || name.contains("\0") {
                throw APIError(.badRequest, "query parameter \(name.replacingOccurrences(of: "\0", with: "\\0")) contains a NUL character", code: "invalid_parameter",
                               field: String(name))
            }
            for (name, value) in context.parameters where value.contains("\0") {
                throw APIError(.badRequest, "path parameter \(name) contains a NUL character", code: "invalid_parameter", field: String(name))
            }
            for parameter in parameters { try parameter.check(q[Substring(parameter.name)]) }
            return try await handler(request, context)
        }
        let routerPath = RouterPath(path)
        switch method {
        case "get": router.get(routerPath, use: checked)
        case "post": router.post(routerPath, use: checked)
        case "patch": router.patch(routerPath, use: checked)
        case "put": router.put(routerPath, use: checked)
        default: router.delete(routerPath, use: checked)
        }
    }
}
