import Foundation
import HTTPTypes
import Hummingbird

/// Paging of list routes by `limit` and an opaque `cursor`. A list keeps its order (newest first, by code …); the
/// cursor names the last item served, so a page after it starts right behind that item even when items were added
/// before it in the meantime. The body stays a plain JSON array (what clients already read); the next page's cursor is
/// in `X-Next-Cursor` and in a `Link: <…>; rel="next"` header, absent on the last page.
enum Pagination {
    static let nextCursorHeader = HTTPField.Name("X-Next-Cursor")!
    static let linkHeader = HTTPField.Name("Link")!
    static let maximumLimit = 1000

    static func parameters(defaultLimit: Int?) -> [QueryParameter] {
        let whole = defaultLimit.map { "default \($0)" } ?? "default: the whole list"
        return [
            .integer("limit", 1...maximumLimit, "at most this many items (\(whole)); more follow when the reply has X-Next-Cursor"),
            .string("cursor", "X-Next-Cursor of the previous page: the items after it"),
        ]
    }

    struct Page<T> {
        var items: ArraySlice<T>
        var nextCursor: String?
    }

    private struct Position: Codable {
        /// The key of the last item served and its index then (used when that item has gone since).
        var key: String
        var index: Int
    }

    static func page<T>(_ items: [T], key: (T) -> String, request: Request, defaultLimit: Int?) throws -> Page<T> {
        let q = request.uri.queryParameters
        let limit = q["limit"].flatMap { Int($0) } ?? defaultLimit ?? items.count
        var start = 0
        if let text = q["cursor"] {
            guard let position = decode(String(text)), position.index >= 0, position.index < Int(Int32.max) else {
                throw APIError(.badRequest, "cursor is not a cursor this server gave (take X-Next-Cursor of the previous page)", code: "invalid_cursor", field: "cursor")
            }
            if let index = items.firstIndex(where: { key($0) == position.key }) {
                start = index + 1
            } else {
                start = min(position.index + 1, items.count)
            }
        }
        let end = min(items.count, start + max(0, limit))
        let slice = items[start..<end]
        guard end < items.count, let last = slice.last else { return Page(items: slice, nextCursor: nil) }
        return Page(items: slice, nextCursor: encode(Position(key: key(last), index: end - 1)))
    }

    /// A page read in the store: its size and the key of the last item before it.
    struct Keyset: Sendable {
        /// `Int.max`: the whole list (no `limit` and no default).
        var limit: Int
        var after: String?

        /// What to ask the store for: one more than the page (to know whether more follow), or nil for everything.
        var storeLimit: Int? { limit < Int(Int32.max) ? limit + 1 : nil }
    }

    static func keyset(_ request: Request, defaultLimit: Int?) throws -> Keyset {
        let q = request.uri.queryParameters
        var page = Keyset(limit: q["limit"].flatMap { Int($0) } ?? defaultLimit ?? Int.max)
        if let text = q["cursor"] {
            guard let position = decode(String(text)) else {
                throw APIError(.badRequest, "cursor is not a cursor this server gave (take X-Next-Cursor of the previous page)", code: "invalid_cursor", field: "cursor")
            }
            page.after = position.key
        }
        return page
    }

    /// The cursor of the page after the item with `key`.
    static func cursor(after key: String) -> String { encode(Position(key: key, index: 0)) }

    /// Tells the client where the next page starts: `X-Next-Cursor` and `Link: <…>; rel="next"`.
    static func announceNext(_ response: inout Response, request: Request, cursor: String) {
        response.headers[nextCursorHeader] = cursor
        response.headers[linkHeader] = "<\(link(request: request, cursor: cursor))>; rel=\"next\""
    }

    /// The request's URL with `cursor` set to the next page's.
    static func link(request: Request, cursor: String) -> String {
        var components = URLComponents()
        components.path = request.uri.path
        var items = request.uri.queryParameters.filter { $0.key != "cursor" && $0.key != "after" }.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
        items.append(URLQueryItem(name: "cursor", value: cursor))
        components.queryItems = items
        return components.string ?? request.uri.path
    }

    private static func encode(_ position: Position) -> String {
        let data = (try? JSONEncoder().encode(position)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ text: String) -> Position? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONDecoder().decode(Position.self, from: data)
    }
}
