/// The expression sets FactorLab ships, selectable by name wherever a file of expressions is accepted
/// (`--library wq101`, `--expr-file wq101`) and as catalogues to seed (`init-db --seed wq101`).
public enum ExpressionLibrary: String, CaseIterable, Sendable {
    /// Qlib's Alpha158 features (columns KMID …, catalogue codes A158_KMID …).
    case alpha158
    /// WorldQuant's 101 Formulaic Alphas in the WQ operators (WQ_001 …).
    case wq101

    /// The library called `name` (case-insensitive), if there is one.
    public static func named(_ name: String) -> ExpressionLibrary? { ExpressionLibrary(rawValue: name.lowercased()) }

    /// The category its factors are seeded under.
    public var category: String { rawValue }

    /// One expression of the library.
    public struct Entry: Sendable, Equatable {
        /// The column name in features output (`KMID`, `WQ_001`).
        public var name: String
        /// The factor code in the catalogue (`A158_KMID`, `WQ_001`).
        public var code: String
        public var expression: String
    }

    public var entries: [Entry] {
        switch self {
        case .alpha158:
            return Alpha158.features.map { Entry(name: $0.name, code: "A158_" + $0.name, expression: $0.expression) }
        case .wq101:
            return WorldQuant101.alphas.map {
                let code = WorldQuant101.code($0.number)
                return Entry(name: code, code: code, expression: $0.expression)
            }
        }
    }

    /// Members of the original set that the library leaves out, with the reason.
    public var omitted: [(name: String, reason: String)] {
        switch self {
        case .alpha158: return []
        case .wq101: return WorldQuant101.omitted.map { (WorldQuant101.code($0.number), $0.reason) }
        }
    }

    /// The entries whose fields `fields` and categorical fields `categories` (lower case) the data has, and for each
    /// left out, what it lacks (`vwap`, `industry`).
    public func split(fields: Set<String>, categories: Set<String>) -> (usable: [Entry], lacking: [(entry: Entry, missing: [String])]) {
        let checker = Checker()
        var usable: [Entry] = [], lacking: [(Entry, [String])] = []
        for entry in entries {
            guard let expr = try? checker.check(entry.expression) else { continue }
            let plan = Plan.compile([("e", expr)])
            let missing = plan.fields.filter { !$0.hasPrefix("$") && !fields.contains($0) }.sorted()
                + plan.categories.filter { !categories.contains($0) }.sorted()
            if missing.isEmpty { usable.append(entry) } else { lacking.append((entry, missing)) }
        }
        return (usable, lacking)
    }
}

extension WorldQuant101 {
    /// The library's name for alpha `number`: `WQ_001`.
    public static func code(_ number: Int) -> String {
        let digits = String(number)
        return "WQ_" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
