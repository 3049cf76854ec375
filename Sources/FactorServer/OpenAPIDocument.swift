import Foundation

/// The OpenAPI 3.1 description of the API, generated from the registered routes.
enum OpenAPIDocument {
    static func json(routes: [APIRouter.Route]) -> String {
        var paths: [String: [String: Any]] = [:]
        for route in routes {
            let openPath = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            let parameters: [[String: Any]] = route.path.split(separator: "/").filter { $0.hasPrefix(":") }.map {
                ["name": String($0.dropFirst()), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            var operation: [String: Any] = [
                "summary": route.summary,
                "description": "Roles: \(route.roles).",
                "responses": [
                    "200": ["description": "OK", "content": ["application/json": ["schema": ["type": ["object", "array"]]]]],
                    "4XX": ["description": "The request is wrong; the body says why", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
                ],
            ]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if route.roles != "none" { operation["security"] = [["bearer": [String]()]] }
            if route.method != "get" {
                operation["requestBody"] = ["required": false, "content": ["application/json": ["schema": ["type": "object"]]]]
            }
            paths["/" + openPath, default: [:]][route.method] = operation
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": "FactorLab API", "version": "1.0.0",
                     "description": "Factor registry, jobs, the worker protocol and results. Errors: {\"error\": {\"status\", \"message\", …}}; NaN as null."],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "factorlab create-token NAME --role …"]],
                "schemas": ["Error": ["type": "object", "required": ["error"],
                                      "properties": ["error": ["type": "object", "required": ["status", "message"],
                                                               "properties": ["status": ["type": "integer"], "message": ["type": "string"],
                                                                              "position": ["type": "integer"], "suggestion": ["type": "string"]]]]]],
            ],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
