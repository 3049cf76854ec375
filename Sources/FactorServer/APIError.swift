import FactorExpr
import FactorPlatform
import FactorStore
import Foundation
import Hummingbird

/// An error answered as `{"error": {"code", "message", "field", "status", …}}` with a 4xx/5xx status: `code` is a
/// stable machine word (`invalid_expression`, `unknown_field`, `not_found` …), `field` names the body field, query
/// parameter or header at fault (null when none is), and an expression error adds its `position`, `length`, `kind`
/// and `suggestion`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var code: String
    public var field: String?
    public var details: [String: String]
    /// Who was refused when the context does not know yet (an expired token's name).
    var actor: String?

    public init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil, field: String? = nil, details: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.code = code ?? Self.code(for: status)
        var details = details
        self.field = field ?? details.removeValue(forKey: "field")
        self.details = details
    }

    /// The code of an error that has no more specific one.
    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 409: return "conflict"
        case 412: return "precondition_failed"
        case 413: return "too_large"
        case 422: return "unprocessable"
        case 428: return "precondition_required"
        case 503: return "unavailable"
        default: return status.code >= 500 ? "internal" : "error"
        }
    }

    /// Maps the platform's errors to statuses; anything unexpected is a 500 whose message is logged, not sent.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as HTTPError:
            return APIError(e.status, e.body ?? e.status.reasonPhrase)
        case let e as ExpressionError:
            return APIError(.unprocessableContent, e.summary, code: "invalid_expression", field: "expression", details: expressionDetails(e))
        case let e as PlatformError:
            switch e {
            case .invalidExpression(_, let inner):
                return APIError(.unprocessableContent, e.description, code: "invalid_expression", field: "expression", details: expressionDetails(inner))
            case .duplicateDefinition: return APIError(.conflict, e.description, code: "duplicate_definition", field: "expression")
            case .unknownVersion: return APIError(.notFound, e.description, code: "unknown_version", field: "version")
            case .pythonDisabled: return APIError(.forbidden, e.description, code: "python_disabled")
            case .pythonUnavailable: return APIError(.serviceUnavailable, e.description, code: "python_unavailable")
            case .store(let s): return from(s)
            case .fourEyes: return APIError(.forbidden, e.description, code: "four_eyes")
            case .forbidden: return APIError(.forbidden, e.description)
            case .unauthenticated: return APIError(.unauthorized, e.description)
            default: return APIError(.unprocessableContent, e.description)
            }
        case let e as StoreError:
            switch e {
            case .duplicateCode: return APIError(.conflict, e.description, code: "duplicate_code", field: "code")
            case .duplicateToken: return APIError(.conflict, e.description, code: "duplicate_token", field: "name")
            case .invalidTransition: return APIError(.conflict, e.description, code: "invalid_transition")
            case .versionConflict: return APIError(.conflict, e.description, code: "version_conflict")
            case .unknownFactor: return APIError(.notFound, e.description, code: "unknown_factor")
            case .unknownJob: return APIError(.notFound, e.description, code: "unknown_job")
            case .unknownTask: return APIError(.notFound, e.description, code: "unknown_task")
            case .unknownToken: return APIError(.notFound, e.description, code: "unknown_token")
            case .sameAuthor: return APIError(.forbidden, e.description, code: "four_eyes")
            case .unknownMetric: return APIError(.badRequest, e.description, code: "unknown_metric", field: "by")
            case .database, .schemaTooNew, .targetNotEmpty, .targetMissingColumns: return APIError(.serviceUnavailable, e.description)
            }
        case let e as DecodingError:
            return APIError(.badRequest, "malformed request body: \(describe(e))", code: "invalid_body", field: fieldPath(e))
        default:
            return APIError(.internalServerError, "internal error")
        }
    }

    static func expressionDetails(_ e: ExpressionError) -> [String: String] {
        var d = ["position": String(e.position), "length": String(e.length), "kind": e.kind.rawValue]
        if let s = e.suggestion { d["suggestion"] = s }
        return d
    }

    /// The body field a decoding error is about ("windows.0.start"), nil for the body as a whole.
    static func fieldPath(_ e: DecodingError) -> String? {
        let path: [any CodingKey]
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: return nil
        }
        let text = path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return text.isEmpty ? nil : text
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
        var body: [String: Any] = ["status": Int(status.code), "message": message, "code": code, "field": field.map { $0 as Any } ?? NSNull()]
        for (k, v) in details { body[k] = Int(v).map { $0 as Any } ?? v }
        let data = (try? JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every thrown error into a JSON error response; a route never answers with an HTML page or a bare 500. A
/// refused request is audited — who (the token's name, or "anonymous" for a token that is not one), what, and why —
/// when it presented a token: a request without any (a probe, a scanner) is answered 401 and not written down, so
/// that it cannot fill the log or queue behind the database's writers.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let store: any FactorStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let api = APIError.from(error)
            if api.status == .internalServerError { context.logger.error("\(request.method) \(request.uri.path): \(error)") }
            // The four-eyes refusal is audited where it is decided (for the CLI too).
            let presented = request.headers[.authorization] != nil
            if presented && (api.status == .unauthorized || api.status == .forbidden) && api.code != "four_eyes" {
                let actor = api.actor ?? context.token?.name ?? "anonymous"
                do {
                    // Bounded: the entity is indexed, and a refused request may carry any path.
                    let path = String(request.uri.path.prefix(200))
                    try store.recordRefusal(actor: String(actor.prefix(64)), action: "\(request.method) \(path)", entity: path, reason: api.message)
                } catch {
                    context.logger.warning("could not audit a refused request: \(error)")
                }
            }
            return api.response()
        }
    }
}
