import FactorCore

/// Which instruments a request covers.
///
/// Membership is point-in-time: a named universe lists, per symbol, one or more inclusive date spans
/// (`instruments/<name>.txt`), and an instrument is a member on the calendar rows inside them.
public enum UniverseSpec: Sendable, Hashable, CustomStringConvertible {
    /// Every instrument with data (over its whole span), or `instruments/all.txt` when the directory has one.
    case all
    /// The point-in-time members listed in `instruments/<name>.txt` (name case-insensitive), e.g. `csi300`.
    case named(String)
    /// These instrument codes, each over its whole span.
    case codes([String])

    /// Reads `all`, a universe name (`csi300`) or a comma-separated code list (`SH600000,SZ000001`).
    ///
    /// A single word other than `all` becomes `.named`; when the directory has no such universe file but has an
    /// instrument of that code, loading treats it as that one code.
    public init(parsing text: String) throws {
        let trimmed = text.trimmedASCII()
        guard !trimmed.isEmpty else { throw DataError.emptyUniverse }
        if trimmed.contains(",") {
            var seen = Set<String>()
            var codes: [String] = []
            for part in trimmed.split(separator: ",") {
                let code = String(part).trimmedASCII().uppercased()
                if !code.isEmpty && seen.insert(code).inserted { codes.append(code) }
            }
            guard !codes.isEmpty else { throw DataError.emptyUniverse }
            self = .codes(codes)
        } else if trimmed.lowercased() == "all" {
            self = .all
        } else {
            self = .named(trimmed)
        }
    }

    /// `all`, the name, or the codes joined by commas (the form `init(parsing:)` reads).
    public var description: String {
        switch self {
        case .all: return "all"
        case .named(let name): return name
        case .codes(let codes): return codes.joined(separator: ",")
        }
    }
}
