import Foundation
import Hummingbird

/// What a route promises, declared where it is registered: its query parameters (checked by the router before the
/// handler runs, so a documented constraint is an enforced one), its request body type (the JSON decoder of the
/// handler reads the same type, and its fields are the only ones accepted), and its successful replies. Error replies
/// follow from the route's shape (see `OpenAPIDocument`).
struct RouteContract: @unchecked Sendable {
    var query: [QueryParameter] = []
    var headers: [HeaderParameter] = []
    var body: (any Decodable.Type)?
    /// An example request body (JSON text), shown in the document and tried first by contract fuzzers.
    var example: String?
    var replies: [Reply]
    /// A request whose path does not name an existing thing answers 404 (routes with path parameters).
    var notFound = true
    /// Extra error statuses beyond the shape's (409 for a state conflict, 412 for a stale ETag …).
    var errors: Set<Int> = []
}

/// A query parameter: its name, type and what it means.
struct QueryParameter: Sendable {
    enum Kind: Sendable {
        case string
        case integer(ClosedRange<Int>)
        case boolean
        case choice([String])
        case date
    }

    var name: String
    var kind: Kind
    var help: String
    var required = false

    static func string(_ name: String, _ help: String, required: Bool = false) -> Self { .init(name: name, kind: .string, help: help, required: required) }
    static func integer(_ name: String, _ range: ClosedRange<Int>, _ help: String, required: Bool = false) -> Self {
        .init(name: name, kind: .integer(range), help: help, required: required)
    }
    static func boolean(_ name: String, _ help: String) -> Self { .init(name: name, kind: .boolean, help: help) }
    static func choice(_ name: String, _ values: [String], _ help: String) -> Self { .init(name: name, kind: .choice(values), help: help) }
    static func date(_ name: String, _ help: String, required: Bool = false) -> Self { .init(name: name, kind: .date, help: help, required: required) }

    /// Refuses a value the document does not allow (400 naming the parameter).
    func check(_ value: Substring?) throws {
        guard let value else {
            if required { throw APIError(.badRequest, "missing query parameter \(name): \(help)", code: "missing_parameter", field: name) }
            return
        }
        switch kind {
        case .string:
            break
        case .integer(let range):
            guard let n = Int(value), range.contains(n) else {
                throw APIError(.badRequest, "\(name) must be an integer \(range.lowerBound)…\(range.upperBound), not '\(value)'", code: "invalid_parameter", field: name)
            }
        case .boolean:
            guard Self.booleans[String(value)] != nil else {
                throw APIError(.badRequest, "\(name) must be true or false, not '\(value)'", code: "invalid_parameter", field: name)
            }
        case .choice(let values):
            guard values.contains(String(value)) else {
                throw APIError(.badRequest, "\(name) must be one of \(values.joined(separator: ", ")), not '\(value)'", code: "invalid_parameter", field: name)
            }
        case .date:
            guard Self.isDate(value) else {
                throw APIError(.badRequest, "\(name) must be a date YYYY-MM-DD, not '\(value)'", code: "invalid_parameter", field: name)
            }
        }
    }

    static let booleans = ["true": true, "false": false, "1": true, "0": false]

    static func isDate(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        for (i, b) in bytes.enumerated() where i != 4 && i != 7 { guard (48...57).contains(b) else { return false } }
        let month = Int(text.dropFirst(5).prefix(2)) ?? 0, day = Int(text.suffix(2)) ?? 0
        return (1...12).contains(month) && (1...31).contains(day)
    }

    var schema: [String: Any] {
        switch kind {
        case .string: return ["type": "string"]
        case .integer(let r): return ["type": "integer", "minimum": r.lowerBound, "maximum": r.upperBound]
        case .boolean: return ["type": "boolean"]
        case .choice(let values): return ["type": "string", "enum": values]
        case .date: return ["type": "string", "format": "date", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"]
        }
    }
}

/// A request header the route reads (conditional requests, stream resumption).
struct HeaderParameter: Sendable {
    var name: String
    var help: String
    var pattern: String?
}

/// A successful reply.
struct Reply: @unchecked Sendable {
    enum Content {
        case json(any Decodable.Type)
        /// A JSON array of the type, paged by `limit`/`cursor` with `X-Next-Cursor` and `Link` headers.
        case list(any Decodable.Type)
        case text(String)
        /// Any JSON object (the OpenAPI document itself).
        case object
        case stream
        /// A JSON array of the type, or with `Accept: text/event-stream` a stream of it.
        case streamOrList(any Decodable.Type)
        case none
    }

    var status: Int
    var content: Content
    var help: String
    /// Response headers set on this reply (name → description).
    var headers: [String: String] = [:]

    static func ok(_ type: any Decodable.Type, _ help: String = "OK", headers: [String: String] = [:]) -> Reply {
        Reply(status: 200, content: .json(type), help: help, headers: headers)
    }
    static func created(_ type: any Decodable.Type, _ help: String = "Created", headers: [String: String] = [:]) -> Reply {
        Reply(status: 201, content: .json(type), help: help, headers: headers)
    }
    static func list(_ type: any Decodable.Type, _ help: String = "A page of the list") -> Reply {
        Reply(status: 200, content: .list(type), help: help)
    }
}

/// Small reply bodies that handlers write as dictionaries elsewhere, named so the document can describe them.
struct StatusReply: Codable { var status: String }
struct Identity: Codable { var name: String; var role: String }
