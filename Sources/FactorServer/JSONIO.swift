import Foundation
import Hummingbird
import Synchronization

/// JSON in and out: NaN and infinities as null, unknown fields refused, bodies size-limited.
enum JSONIO {
    /// Encodes `value` with NaN/±inf as null.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "__inf__", negativeInfinity: "__inf__", nan: "__inf__")
        let text = String(decoding: try encoder.encode(value), as: UTF8.self).replacingOccurrences(of: "\"__inf__\"", with: "null")
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Decodes the body as `T`, refusing fields `T` does not read (the fields the document lists for it) so that a typo
    /// is an error, not silently ignored.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: APIContext) async throws -> T {
        let allowed = BodyFields.names(of: T.self)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(context.maxUploadSize) bytes", code: "too_large")
        }
        let data = Data(buffer: buffer)
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw APIError(.badRequest, "the request body is not valid JSON", code: "invalid_json")
        }
        guard let dictionary = object as? [String: Any] else { throw APIError(.badRequest, "the request body must be a JSON object", code: "invalid_body") }
        if let path = nulPath(dictionary, "") {
            throw APIError(.badRequest, "\(path) contains a NUL character, which no text field can hold", code: "invalid_body", field: path)
        }
        let unknown = Set(dictionary.keys).subtracting(allowed)
        if !unknown.isEmpty {
            throw APIError(.badRequest, "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.sorted().joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))",
                           code: "unknown_field", field: unknown.sorted().first)
        }
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// The first string (or key) of a JSON value holding U+0000, as a field path ("windows.0.start").
private func nulPath(_ value: Any, _ path: String) -> String? {
    func join(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    switch value {
    case let text as String: return text.contains("\0") ? (path.isEmpty ? "the body" : path) : nil
    case let object as [String: Any]:
        for (key, item) in object {
            if key.contains("\0") { return join(key.replacingOccurrences(of: "\0", with: "\\0")) }
            if let found = nulPath(item, join(key)) { return found }
        }
        return nil
    case let array as [Any]:
        for (index, item) in array.enumerated() { if let found = nulPath(item, join(String(index))) { return found } }
        return nil
    default: return nil
    }
}

/// The top-level fields each request body type reads, derived once from its `Decodable` implementation.
enum BodyFields {
    private static let cache = Mutex<[ObjectIdentifier: Set<String>]>([:])

    static func names<T: Decodable>(of type: T.Type) -> Set<String> {
        if let known = cache.withLock({ $0[ObjectIdentifier(type)] }) { return known }
        // A body type the reader cannot describe is a programming error caught by the contract's tests.
        let names = Set((try? SchemaReader(direction: .request).fieldNames(type)) ?? [])
        cache.withLock { $0[ObjectIdentifier(type)] = names }
        return names
    }
}
