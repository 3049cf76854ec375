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
        guard let token = try tokens.authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            throw APIError(.unauthorized, "invalid or revoked token")
        }
        var context = context
        context.token = token
        return try await next(request, context)
    }
}
