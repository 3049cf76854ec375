import FactorCore

/// A universe resolved against a source: its members with data and notes about the others.
struct ResolvedUniverse: Sendable {
    /// Display name for messages.
    var label: String
    /// Members that have data, sorted by code.
    var members: [UniverseCatalog.Member]
    var warnings: [String]

    /// Resolves `spec` against the instruments with data and the directory's universe files.
    /// `allFromFile`: whether `.all` reads `instruments/all.txt` when it exists.
    static func resolve(_ spec: UniverseSpec, catalog: UniverseCatalog, store: BarStore,
                        benchmarks: [String], allFromFile: Bool = true) throws -> ResolvedUniverse {
        switch spec {
        case .all:
            if allFromFile, let members = try catalog.members(of: "all") {
                return fromFile("all", members, store: store)
            }
            return ResolvedUniverse(label: "all", members: store.codes.map { .init(code: $0, spans: nil) }, warnings: [])
        case .named(let raw):
            let name = raw.trimmedASCII().lowercased()
            if name == "all" { return try resolve(.all, catalog: catalog, store: store, benchmarks: benchmarks) }
            if let members = try catalog.members(of: name) { return fromFile(name, members, store: store) }
            let code = raw.trimmedASCII().uppercased()
            if store.contains(code) {
                return ResolvedUniverse(label: code, members: [.init(code: code, spans: nil)], warnings: [])
            }
            throw DataError.unknownUniverse(name: raw, available: catalog.names, directory: catalog.directory)
        case .codes(let list):
            let codes = list.map { $0.trimmedASCII().uppercased() }.filter { !$0.isEmpty }
            guard !codes.isEmpty else { throw DataError.emptyUniverse }
            let unknown = codes.filter { !store.contains($0) }
            if !unknown.isEmpty {
                throw DataError.unknownCodes(unknown: unknown, availableCount: store.codes.count,
                                             examples: Array(store.codes.prefix(5)), benchmarks: benchmarks)
            }
            let unique = Set(codes).sorted()
            return ResolvedUniverse(label: spec.description, members: unique.map { .init(code: $0, spans: nil) },
                                    warnings: [])
        }
    }

    private static func fromFile(_ name: String, _ members: [UniverseCatalog.Member], store: BarStore) -> ResolvedUniverse {
        var kept: [UniverseCatalog.Member] = []
        var missing: [String] = []
        for m in members {
            if store.contains(m.code) { kept.append(m) } else { missing.append(m.code) }
        }
        var warnings: [String] = []
        if !missing.isEmpty {
            let shown = missing.prefix(20).joined(separator: ", ")
            warnings.append("universe \(name): \(missing.count) member\(missing.count == 1 ? "" : "s") without data "
                + "skipped: \(shown)\(missing.count > 20 ? ", …" : "")")
        }
        return ResolvedUniverse(label: name, members: kept, warnings: warnings)
    }
}
