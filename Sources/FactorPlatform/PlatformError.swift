import FactorExpr
import FactorStore

/// Failures of the platform's use cases, each naming what to fix.
public enum PlatformError: Error, CustomStringConvertible, Sendable {
    case invalidCode(String)
    case invalidExpression(code: String, ExpressionError)
    case warmupFailed(code: String, reason: String)
    case invalidPython(code: String, String)
    case pythonDisabled
    case pythonUnavailable(String)
    case readsFuture(code: String, String)
    case emptyOnSample(code: String, cells: Int)
    case duplicateDefinition(code: String, existing: String)
    case unknownVersion(code: String, version: Int, available: [Int])
    case seedFile(String)
    case seedEntry(index: Int, code: String?, reason: String)
    case notApproved([String])
    case noFactors
    case badTask(String)
    case noSummary(jobId: String, status: WorkStatus)
    case export(path: String, reason: String)
    case store(StoreError)
    /// The four-eyes rule: `actor` is the factor's owner or its latest version's author (`as`).
    case fourEyes(code: String, actor: String, as: String)
    /// A role does not allow an action (the CLI's roles): who, what, and which roles would.
    case forbidden(actor: String, role: String, action: String, allowed: String)
    /// The CLI needs a token (FACTOR_REQUIRE_AUTH=1) or was given one that is not valid.
    case unauthenticated(String)

    public var description: String {
        switch self {
        case .fourEyes(let code, let actor, let role):
            return "\(actor) cannot approve factor \(code): they are its \(role); approval needs a second person (another reviewer)"
        case .forbidden(let actor, let role, let action, let allowed):
            return "\(actor) (\(role)) cannot \(action): that needs \(allowed)"
        case .unauthenticated(let message):
            return message
        case .invalidCode(let code):
            return "'\(code)' is not a valid factor code: use 1–64 letters, digits, '_', '.' or '-', starting with a letter"
        case .invalidExpression(let code, let error):
            return "factor \(code): the expression is invalid: \(error)"
        case .invalidPython(let code, let message):
            return "factor \(code): the Python source is invalid: \(message)"
        case .pythonDisabled:
            return "Python factors are switched off on this host (FACTOR_PYTHON_FACTORS=off): register the factor as an expression, or ask the operator"
        case .pythonUnavailable(let message):
            return message
        case .readsFuture(let code, let detail):
            return "factor \(code) reads the future: \(detail); a factor may use only current and past rows (shift with data[\"close\"][:, :-k], not [:, k:])"
        case .warmupFailed(let code, let reason):
            return "factor \(code): the warm-up run on sample data failed: \(reason)"
        case .emptyOnSample(let code, let cells):
            return "factor \(code): every value is NaN or infinite on the warm-up sample (\(cells) cells); it would score nothing"
        case .duplicateDefinition(let code, let existing):
            return "factor \(code): the same expression (same canonical form) is already registered as \(existing)"
        case .unknownVersion(let code, let version, let available):
            return "factor \(code) has no version \(version); its versions are \(available.map(String.init).joined(separator: ", "))"
        case .seedFile(let message):
            return "seed file: \(message)"
        case .seedEntry(let index, let code, let reason):
            return "seed file entry \(index + 1)\(code.map { " (\($0))" } ?? ""): \(reason)"
        case .notApproved(let codes):
            return "only approved factors can be evaluated here; not approved: \(codes.joined(separator: ", ")) (ask for drafts explicitly)"
        case .noFactors:
            return "the job selects no factors (register and approve some, or ask for drafts with --include-drafts)"
        case .badTask(let message):
            return "task: \(message)"
        case .noSummary(let jobId, let status):
            return "job \(jobId) has no summary yet: it is \(status.rawValue); the summary is stored when its last task ends"
        case .export(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .store(let error):
            return error.description
        }
    }
}
