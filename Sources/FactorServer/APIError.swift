import FactorExpr
import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// An error answered as `{"error": {"status", "message", …}}` with a 4xx/5xx status.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var details: [String: String]

    public init(_ status: HTTPResponse.Status, _ message: String, details: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.details = details
    }

    /// Maps the platform's errors to statuses; anything unexpected is a 500 whose message is logged, not sent.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as HTTPError:
            return APIError(e.status, e.body ?? e.status.reasonPhrase)
        case let e as ExpressionError:
            return APIError(.unprocessableContent, e.summary, details: expressionDetails(e))
        case let e as PlatformError:
            switch e {
            case .invalidExpression(_, let inner):
                return APIError(.unprocessableContent, e.description, details: expressionDetails(inner))
            case .duplicateDefinition: return APIError(.conflict, e.description)
            case .unknownVersion: return APIError(.notFound, e.description)
            case .pythonDisabled: return APIError(.forbidden, e.description)
            case .pythonUnavailable: return APIError(.serviceUnavailable, e.description)
            case .store(let s): return from(s)
            default: return APIError(.unprocessableContent, e.description)
            }
        case let e as StoreError:
            switch e {
            case .duplicateCode, .duplicateToken, .invalidTransition, .versionConflict: return APIError(.conflict, e.description)
            case .unknownFactor, .unknownJob, .unknownTask, .unknownToken: return APIError(.notFound, e.description)
            case .unknownMetric: return APIError(.badRequest, e.description)
            case .database, .schemaTooNew, .targetNotEmpty, .targetMissingColumns: return APIError(.serviceUnavailable, e.description)
            }
        case let e as DecodingError:
            return APIError(.badRequest, "malformed request body: \(describe(e))")
        default:
            return APIError(.internalServerError, "internal error")
        }
    }

    static func expressionDetails(_ e: ExpressionError) -> [String: String] {
        var d = ["position": String(e.position), "length": String(e.length), "kind": e.kind.rawValue]
        if let s = e.suggestion { d["suggestion"] = s }
        return d
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at '\(p)'"
        }
        switch e {
        case .typeMismatch(let type, let c): return "expected \(type)\(path(c))"
        case .valueNotFound(let type, let c): return "missing \(type) value\(path(c))"
        case .keyNotFound(let key, let c): return "missing field '\(key.stringValue)'\(path(c))"
        case .dataCorrupted(let c): return "invalid JSON\(path(c))"
        @unknown default: return "\(e)"
        }
    }

    func response() -> Response {
        var body: [String: Any] = ["status": Int(status.code), "message": message]
        for (k, v) in details { body[k] = Int(v).map { $0 as Any } ?? v }
        let data = (try? JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every thrown error into a JSON error response; a route never answers with an HTML page or a bare 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let api = APIError.from(error)
            if api.status == .internalServerError { context.logger.error("\(request.method) \(request.uri.path): \(error)") }
            return api.response()
        }
    }
}
