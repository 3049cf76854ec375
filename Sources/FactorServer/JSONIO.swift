import Foundation
import Hummingbird

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

    /// Decodes the body as `T`, refusing fields outside `allowed` so that a typo is an error, not silently ignored.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: APIContext, allowed: Set<String>) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(context.maxUploadSize) bytes")
        }
        let data = Data(buffer: buffer)
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw APIError(.badRequest, "the request body is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw APIError(.badRequest, "the request body must be a JSON object") }
        let unknown = Set(dictionary.keys).subtracting(allowed)
        if !unknown.isEmpty {
            throw APIError(.badRequest, "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.sorted().joined(separator: ", ")); allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        return try JSONDecoder().decode(T.self, from: data)
    }
}
