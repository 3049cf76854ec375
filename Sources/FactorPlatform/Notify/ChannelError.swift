import FactorStore

/// Why a notification could not be built or sent; stored as the delivery's last error.
public enum ChannelError: Error, CustomStringConvertible, Sendable, Equatable {
    case notChat(SubscriptionKind)
    case invalidAddress(String)
    case smtpNotConfigured
    case smtpSetting(name: String, value: String, expected: String)
    /// The server's reply to a command was not what SMTP expects (the command, the reply).
    case smtp(command: String, reply: String)
    case startTLSUnavailable(host: String)

    public var description: String {
        switch self {
        case .notChat(let kind): return "\(kind.rawValue) is not a chat service"
        case .invalidAddress(let address): return "invalid email address '\(address)' (one address per comma, like name@example.com)"
        case .smtpNotConfigured: return "no SMTP server: set FACTOR_SMTP_HOST (and FACTOR_SMTP_FROM) on the process that delivers"
        case .smtpSetting(let name, let value, let expected): return "\(name)=\(value) is not valid: expected \(expected)"
        case .smtp(let command, let reply): return "SMTP \(command) was refused: \(reply)"
        case .startTLSUnavailable(let host): return "\(host) does not offer STARTTLS but FACTOR_SMTP_STARTTLS requires it"
        }
    }
}
