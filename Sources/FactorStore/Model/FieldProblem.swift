/// A request the platform cannot accept, by field: the CLI shows it as `--field: reason`, the API as a 400 naming
/// the field.
public struct FieldProblem: Error, CustomStringConvertible, Sendable {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
