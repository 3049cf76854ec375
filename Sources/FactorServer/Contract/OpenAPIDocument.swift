import Foundation

/// The OpenAPI 3.1 document, built from the registered routes and their contracts: request and response schemas come
/// from the Codable types the handlers read and write (`SchemaReader`), query parameters from the declarations the
/// router enforces, and error replies from each route's shape (a secured route can answer 401/403, a route with path
/// parameters 404, one with a body 413 …), all with the one error body.
enum OpenAPIDocument {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func json(routes: [APIRouter.Route]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: try document(routes: routes), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func document(routes: [APIRouter.Route]) throws -> [String: Any] {
        let responses = SchemaReader(direction: .response)
        // Replies first, so that the request reader knows their names and names a differing request type apart.
        for route in routes {
            for reply in route.contract.replies {
                switch reply.content {
                case .json(let type), .list(let type), .streamOrList(let type): _ = try describe(type, with: responses, route: route)
                default: break
                }
            }
        }
        let requests = SchemaReader(direction: .request)
        requests.reserved = responses.components
        var paths: [String: [String: Any]] = [:]
        var operationIds: Set<String> = []
        for route in routes {
            let segments = route.path.split(separator: "/").map(String.init)
            let openPath = "/" + segments.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 }.joined(separator: "/")
            let pathNames = segments.filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
            let contract = route.contract
            var parameters: [[String: Any]] = pathNames.map {
                ["name": $0, "in": "path", "required": true, "description": pathHelp[$0] ?? $0,
                 "schema": ["type": "string", "pattern": pathPatterns[$0] ?? "^[^/]+$", "maxLength": 200]]
            }
            for q in contract.query {
                parameters.append(["name": q.name, "in": "query", "required": q.required, "description": q.help, "schema": q.schema])
            }
            for h in contract.headers {
                var schema: [String: Any] = ["type": "string"]
                if let pattern = h.pattern { schema["pattern"] = pattern }
                parameters.append(["name": h.name, "in": "header", "required": false, "description": h.help, "schema": schema])
            }
            var replies: [String: Any] = [:]
            for reply in contract.replies {
                var entry: [String: Any] = ["description": reply.help]
                var headers: [String: Any] = reply.headers.mapValues { ["description": $0, "schema": ["type": "string"]] }
                switch reply.content {
                case .json(let type):
                    entry["content"] = ["application/json": ["schema": try describe(type, with: responses, route: route)]]
                case .list(let type):
                    entry["content"] = ["application/json": ["schema": ["type": "array", "items": try describe(type, with: responses, route: route)]]]
                    headers["X-Next-Cursor"] = ["description": "The cursor of the next page (absent on the last one)", "schema": ["type": "string"]]
                    headers["Link"] = ["description": "<URL of the next page>; rel=\"next\" (absent on the last one)", "schema": ["type": "string"]]
                case .text(let type):
                    entry["content"] = [type: ["schema": ["type": "string"]]]
                case .object:
                    entry["content"] = ["application/json": ["schema": ["type": "object"]]]
                case .stream:
                    entry["content"] = ["text/event-stream": ["schema": ["type": "string"]]]
                case .streamOrList(let type):
                    entry["content"] = ["application/json": ["schema": ["type": "array", "items": try describe(type, with: responses, route: route)]],
                                        "text/event-stream": ["schema": ["type": "string"]]]
                case .none:
                    break
                }
                if !headers.isEmpty { entry["headers"] = headers }
                replies[String(reply.status)] = entry
            }
            for status in errorStatuses(route, pathParameters: !pathNames.isEmpty) where replies[String(status)] == nil {
                replies[String(status)] = ["description": errorHelp[status] ?? "Error",
                                           "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
            }
            var operation: [String: Any] = [
                "summary": route.summary,
                "description": "Roles: \(route.roles).",
                "operationId": operationId(route.method, segments, taken: &operationIds),
                "tags": [segments.first ?? "service"],
                "responses": replies,
            ]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            operation["security"] = route.roles == "none" ? [[String: [String]]]() : [["bearer": [String]()]]
            if let body = contract.body {
                var media: [String: Any] = ["schema": try describe(body, with: requests, route: route)]
                if let example = contract.example {
                    // The example must be a body the handler reads: decoded with the body type and no unknown field.
                    func decodes<T: Decodable>(_ t: T.Type) -> Bool { (try? JSONDecoder().decode(t, from: Data(example.utf8))) != nil }
                    guard let value = try? JSONSerialization.jsonObject(with: Data(example.utf8)) as? [String: Any], decodes(body),
                          Set(value.keys).isSubset(of: try requests.fieldNames(body)) else {
                        throw Failure(description: "\(route.method.uppercased()) \(route.path): its example is not a \(body) body")
                    }
                    media["example"] = value
                }
                operation["requestBody"] = ["required": true, "content": ["application/json": media]]
            }
            paths[openPath, default: [:]][route.method] = operation
        }
        var schemas = responses.components
        for (name, schema) in requests.components {
            // A body refuses fields its type does not read — at its top level, where JSONIO checks them.
            var body = schema
            if !requests.nestedComponents.contains(name) { body["additionalProperties"] = false }
            if let existing = schemas[name] {
                guard NSDictionary(dictionary: existing).isEqual(to: body) else {
                    throw Failure(description: "component \(name) is both a reply and a whole request body with different schemas")
                }
                continue
            }
            schemas[name] = body
        }
        schemas["Error"] = errorSchema
        return [
            "openapi": "3.1.0",
            "info": ["title": "FactorLab API", "version": "1.1.0",
                     "description": """
                     Factor registry, jobs, results, notifications and the worker protocol. Every error is \
                     {"error": {"code", "message", "field", "status", …}}. Numbers that are undefined (NaN) are null. \
                     Lists are JSON arrays paged by limit and cursor (X-Next-Cursor, Link). A factor's ETag guards \
                     its changes (If-Match).
                     """],
            "servers": [["url": "/"]],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "A token from factorlab create-token NAME --role …"]],
                "schemas": schemas,
            ],
        ]
    }

    private static func describe(_ type: any Decodable.Type, with reader: SchemaReader, route: APIRouter.Route) throws -> [String: Any] {
        func open<T: Decodable>(_ t: T.Type) throws -> [String: Any] { try reader.schema(t) }
        do { return try open(type) } catch {
            throw Failure(description: "\(route.method.uppercased()) \(route.path): \(error)")
        }
    }

    /// What a route can answer besides its replies.
    static func errorStatuses(_ route: APIRouter.Route, pathParameters: Bool) -> [Int] {
        let contract = route.contract
        var statuses: Set<Int> = [500, 503]
        if route.roles != "none" { statuses.formUnion([401, 403]) }
        if pathParameters && contract.notFound { statuses.insert(404) }
        if !contract.query.isEmpty || !contract.headers.isEmpty || contract.body != nil || pathParameters { statuses.insert(400) }
        if contract.body != nil { statuses.formUnion([413, 422]) }
        if route.method != "get" { statuses.insert(409) }
        statuses.formUnion(contract.errors)
        return statuses.sorted()
    }

    static let errorHelp: [Int: String] = [
        400: "The request is wrong: error.field names the parameter or body field",
        401: "No token, or an invalid, revoked or expired one",
        403: "The token's role may not do this (or the action needs a second person)",
        404: "Nothing with that id",
        409: "The state does not allow it (a duplicate, a finished task, another worker's lease …)",
        412: "If-Match does not match the factor's current ETag: it changed since it was read",
        413: "The body is larger than 1 MiB",
        422: "The expression or definition is invalid: error.position, error.length, error.suggestion",
        500: "A bug: the message is logged on the server",
        503: "The database (or the Python runner) is not available",
    ]

    static let pathHelp: [String: String] = [
        "code": "A factor code", "id": "The id", "name": "A token's name",
    ]
    /// Path parameters never contain a slash; ids are of known forms.
    static let pathPatterns: [String: String] = [
        "code": "^[A-Za-z0-9_.-]+$", "id": "^[A-Za-z0-9_.:-]+$", "name": "^[A-Za-z0-9_.@-]+$",
    ]

    static var errorSchema: [String: Any] { [
        "type": "object", "required": ["error"],
        "properties": ["error": [
            "type": "object", "required": ["code", "message", "field", "status"],
            "properties": [
                "code": ["type": "string", "description": "A stable word: bad_request, unknown_field, invalid_expression, not_found, version_conflict …"],
                "message": ["type": "string", "description": "What is wrong, in words"],
                "field": ["type": ["string", "null"], "description": "The body field, query parameter or header at fault"],
                "status": ["type": "integer"],
                "position": ["type": "integer", "description": "Expression errors: the offset of the fault"],
                "length": ["type": "integer"],
                "kind": ["type": "string"],
                "suggestion": ["type": "string"],
            ],
        ] as [String: Any]],
    ] }

    /// `get /factors/:code/versions` → `get_factors_by_code_versions`.
    static func operationId(_ method: String, _ segments: [String], taken: inout Set<String>) -> String {
        let words = segments.map { $0.hasPrefix(":") ? "by_" + $0.dropFirst() : $0.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_") }
        var id = ([method] + words).joined(separator: "_")
        while taken.contains(id) { id += "_" }
        taken.insert(id)
        return id
    }
}
