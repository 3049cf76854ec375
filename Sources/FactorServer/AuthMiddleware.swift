import FactorPlatform
import FactorStore
import Hummingbird

/// Resolves `Authorization: Bearer <token>` to a token; health routes need none, every other route does.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let tokens: TokenService
    static let open: Set<String> = ["/healthz", "/readyz", "/openapi.json", "/", "/console", "/console/console.css", "/console/console.js", "/console/report.js"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.open.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError(.unauthorized, "missing token: send Authorization: Bearer <token> (create one with factorlab create-token)")
        }
        let token: TokenRecord
        switch try tokens.check(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) {
        case .valid(let t): token = t
        case .expired(let t):
            var error = APIError(.unauthorized, "token \(t.name) expired at \(t.expiresAt ?? "?"); ask an admin for a new one", code: "token_expired")
            error.actor = t.name
            throw error
        case .invalid: throw APIError(.unauthorized, "invalid or revoked token")
        }
        var context = context
        context.token = token
        do {
            return try await next(request, context)
        } catch {
            // A refusal carries who was refused to the error middleware, which audits it (its context has no token).
            var api = APIError.from(error)
            guard api.status == .forbidden || api.status == .unauthorized else { throw error }
            api.actor = api.actor ?? token.name
            throw api
        }
    }
}
