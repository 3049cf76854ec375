import Foundation

/// Where email goes: `FACTOR_SMTP_HOST`, `FACTOR_SMTP_PORT` (25, or 587 with STARTTLS), `FACTOR_SMTP_FROM`,
/// `FACTOR_SMTP_USER`/`FACTOR_SMTP_PASSWORD` (AUTH PLAIN, sent only over TLS unless the server is on loopback),
/// `FACTOR_SMTP_STARTTLS` (`auto`: when offered, the default; `required`; `none`) and `FACTOR_SMTP_CA_FILE` (a PEM
/// bundle to trust instead of the system's, for a private relay).
public struct SMTPSettings: Sendable, Equatable {
    public enum StartTLS: String, Sendable { case auto, required, none }

    public var host: String
    public var port: Int
    public var from: String
    public var user: String?
    public var password: String?
    public var startTLS: StartTLS
    public var caFile: String?

    public init(host: String, port: Int = 25, from: String, user: String? = nil, password: String? = nil, startTLS: StartTLS = .auto,
                caFile: String? = nil) {
        self.host = host
        self.port = port
        self.from = from
        self.user = user
        self.password = password
        self.startTLS = startTLS
        self.caFile = caFile
    }

    /// The settings from the environment; nil when `FACTOR_SMTP_HOST` is unset. Bad values are errors naming the
    /// variable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SMTPSettings? {
        guard let host = environment["FACTOR_SMTP_HOST"], !host.isEmpty else { return nil }
        var port = 25
        if let text = environment["FACTOR_SMTP_PORT"], !text.isEmpty {
            guard let p = Int(text), (1...65535).contains(p) else {
                throw ChannelError.smtpSetting(name: "FACTOR_SMTP_PORT", value: text, expected: "a port number 1–65535")
            }
            port = p
        }
        let from = environment["FACTOR_SMTP_FROM"].flatMap { $0.isEmpty ? nil : $0 } ?? "factorlab@\(ProcessInfo.processInfo.hostName)"
        guard EmailAddress.isValid(from) else {
            throw ChannelError.smtpSetting(name: "FACTOR_SMTP_FROM", value: from, expected: "one address like factorlab@example.com")
        }
        var startTLS = StartTLS.auto
        if let text = environment["FACTOR_SMTP_STARTTLS"]?.lowercased(), !text.isEmpty {
            switch text {
            case "auto": startTLS = .auto
            case "required", "1", "true", "yes", "on": startTLS = .required
            case "none", "0", "false", "no", "off": startTLS = .none
            default: throw ChannelError.smtpSetting(name: "FACTOR_SMTP_STARTTLS", value: text, expected: "auto, required or none")
            }
        }
        return SMTPSettings(host: host, port: port, from: from,
                            user: environment["FACTOR_SMTP_USER"].flatMap { $0.isEmpty ? nil : $0 },
                            password: environment["FACTOR_SMTP_PASSWORD"], startTLS: startTLS,
                            caFile: environment["FACTOR_SMTP_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// Email addresses as subscriptions and settings take them: `local@domain`, nothing that could end a header line.
public enum EmailAddress {
    public static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              address.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }

    /// The addresses of a subscription's target ("a@x.org, b@y.org"); throws naming the first bad one.
    public static func list(_ target: String) throws -> [String] {
        let addresses = target.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !addresses.isEmpty else { throw ChannelError.invalidAddress(target) }
        for a in addresses where !isValid(a) { throw ChannelError.invalidAddress(a) }
        return addresses
    }
}
