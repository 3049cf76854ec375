import FactorExpr
import FactorStore
import Foundation

/// What a researcher gives to register a factor.
public struct FactorDraft: Sendable, Codable {
    public var code: String
    /// The expression, or the Python source when `kind` is python.
    public var expression: String
    /// Expression (the default) or python.
    public var kind: FactorKind?
    public var name: String?
    public var category: String?
    public var owner: String?
    public var tags: [String]?
    public var description: String?

    public init(code: String, expression: String, kind: FactorKind? = nil, name: String? = nil, category: String? = nil, owner: String? = nil,
                tags: [String]? = nil, description: String? = nil) {
        self.code = code
        self.expression = expression
        self.kind = kind
        self.name = name
        self.category = category
        self.owner = owner
        self.tags = tags
        self.description = description
    }
}

/// Registering, versioning, reviewing and retiring factors. Every change is validated first and audited by the
/// store in the same transaction; a refused change leaves the database as it was.
public struct FactorRegistry: Sendable {
    public let store: any FactorStore
    public let validator: ExpressionValidator

    public init(store: any FactorStore, validator: ExpressionValidator) {
        self.store = store
        self.validator = validator
    }

    static func checkCode(_ code: String) throws(PlatformError) {
        guard let first = code.first, first.isLetter, first.isASCII, code.count <= 64,
              code.allSatisfy({ ($0.isLetter || $0.isNumber || "_.-".contains($0)) && $0.isASCII }) else {
            throw .invalidCode(code)
        }
    }

    /// Registers a new factor (version 1, draft) after validation and duplicate checks.
    @discardableResult
    public func register(_ draft: FactorDraft, actor: String) throws -> (FactorRecord, FactorVersionRecord) {
        try Self.checkCode(draft.code)
        if try store.factor(code: draft.code) != nil { throw PlatformError.store(.duplicateCode(draft.code)) }
        let validation = try validate(code: draft.code, draft.expression, kind: draft.kind ?? .expression)
        try refuseDuplicate(code: draft.code, hash: validation.hash)
        let entry = Self.records(draft, validation, author: actor)
        do {
            try store.insertFactors([entry], actor: actor, action: "register")
        } catch let error as StoreError {
            throw PlatformError.store(error)
        }
        return entry
    }

    /// A new version with a new expression (or Python source: `kind`, default the latest version's); the old versions
    /// stay. An approved factor goes back to draft.
    @discardableResult
    public func update(code: String, expression: String, kind: FactorKind? = nil, note: String, actor: String,
                       expectedVersion: Int? = nil) throws -> FactorRecord {
        guard let factor = try store.factor(code: code) else { throw PlatformError.store(.unknownFactor(code)) }
        try requireVersion(factor, expectedVersion)
        let kind = try kind ?? store.versions(code: code).last?.kind ?? .expression
        let validation = try validate(code: code, expression, kind: kind)
        try refuseDuplicate(code: code, hash: validation.hash)
        let version = FactorVersionRecord(code: code, version: factor.latestVersion + 1, expression: expression, kind: kind,
                                          canonical: validation.canonical, hash: validation.hash, note: note, author: actor,
                                          createdAt: Clock.now(), nanRatio: validation.nanRatio, infRatio: validation.infRatio,
                                          sampleCells: validation.cells)
        return try wrap { try store.appendVersion(version, status: factor.status == .approved ? .draft : nil, actor: actor, action: "update") }
    }

    /// A new version equal to version `target` (audited as a rollback).
    @discardableResult
    public func rollback(code: String, to target: Int, actor: String, expectedVersion: Int? = nil) throws -> FactorRecord {
        guard let factor = try store.factor(code: code) else { throw PlatformError.store(.unknownFactor(code)) }
        try requireVersion(factor, expectedVersion)
        let versions = try store.versions(code: code)
        guard let old = versions.first(where: { $0.version == target }) else {
            throw PlatformError.unknownVersion(code: code, version: target, available: versions.map(\.version))
        }
        var version = old
        version.version = factor.latestVersion + 1
        version.note = "rollback to version \(target)"
        version.author = actor
        version.createdAt = Clock.now()
        return try wrap { try store.appendVersion(version, status: factor.status == .approved ? .draft : nil, actor: actor, action: "rollback") }
    }

    /// A caller that read version `expected` acts only on that version (the store refuses a new version whose number
    /// is taken, so a change between this check and the write is refused too).
    private func requireVersion(_ factor: FactorRecord, _ expected: Int?) throws {
        if let expected, expected != factor.latestVersion {
            throw PlatformError.store(.versionConflict(code: factor.code, expected: expected + 1, got: factor.latestVersion + 1))
        }
    }

    /// Review-state moves, which need no validator.
    public var lifecycle: FactorLifecycle { FactorLifecycle(store: store) }

    /// Outcome of seeding from a catalogue.
    public struct SeedReport: Sendable {
        public var inserted: [String] = []
        public var alreadyPresent: [String] = []
        /// Entries the data cannot evaluate (for example a field it lacks), with the reason.
        public var skipped: [(code: String, reason: String)] = []
    }

    /// Seeds from catalogue entries: a malformed entry (missing field, bad code, duplicate code, invalid syntax) is
    /// an error naming it and nothing is written; entries the sample data cannot evaluate are skipped and reported;
    /// codes already registered are left alone (seeding is idempotent). The rest is inserted in one transaction.
    public func seed(_ drafts: [FactorDraft], actor: String) throws -> SeedReport {
        var seen = Set<String>()
        for (k, d) in drafts.enumerated() {
            do { try Self.checkCode(d.code) } catch { throw PlatformError.seedEntry(index: k, code: d.code, reason: "\(error)") }
            guard seen.insert(d.code).inserted else { throw PlatformError.seedEntry(index: k, code: d.code, reason: "the code appears twice") }
            guard d.kind != .python else { continue }
            do {
                _ = try Parser.parse(d.expression)
            } catch {
                throw PlatformError.seedEntry(index: k, code: d.code, reason: "invalid expression: \(error.summary)")
            }
        }
        var report = SeedReport()
        var pending: [(Int, FactorDraft)] = []
        for (k, d) in drafts.enumerated() {
            if try store.factor(code: d.code) != nil { report.alreadyPresent.append(d.code) } else { pending.append((k, d)) }
        }
        // Expressions in one batch; Python sources one by one, each with its own warm-up.
        let expressions = pending.filter { $0.1.kind != .python }
        var validated = Dictionary(uniqueKeysWithValues: zip(expressions.map(\.0), try validator.validate(expressions.map { ($0.1.code, $0.1.expression) })))
        for (k, d) in pending where d.kind == .python {
            do { validated[k] = .success(try validator.validatePython(code: d.code, source: d.expression)) } catch {
                validated[k] = .failure(error as? PlatformError ?? .warmupFailed(code: d.code, reason: "\(error)"))
            }
        }
        let outcomes = pending.map { validated[$0.0]! }
        var entries: [(factor: FactorRecord, version: FactorVersionRecord)] = []
        var byHash: [String: String] = [:]
        for ((k, d), outcome) in zip(pending, outcomes) {
            switch outcome {
            case .success(let v):
                if let other = byHash[v.hash] {
                    throw PlatformError.seedEntry(index: k, code: d.code, reason: "same expression (canonical form) as \(other) in the same file")
                }
                byHash[v.hash] = d.code
                if let existing = try store.factorsWithLatestHash(v.hash).first {
                    report.skipped.append((d.code, "same expression as the registered factor \(existing.code)"))
                    continue
                }
                entries.append(Self.records(d, v, author: actor))
            case .failure(.invalidExpression(_, let e)) where e.kind != .unknownField && e.kind != .unknownInstrument:
                throw PlatformError.seedEntry(index: k, code: d.code, reason: "invalid expression: \(e.summary)")
            case .failure(let error):
                report.skipped.append((d.code, "\(error)"))
            }
        }
        if !entries.isEmpty { try wrap { try store.insertFactors(entries, actor: actor, action: "seed") } }
        report.inserted = entries.map(\.factor.code)
        return report
    }

    /// A built-in library as a catalogue: its codes (`A158_KMID`, `WQ_001`) under the library's category.
    public static func libraryCatalogue(_ library: ExpressionLibrary) -> [FactorDraft] {
        library.entries.map { entry in
            let name: String
            switch library {
            case .alpha158: name = "Alpha158 " + entry.name
            case .wq101: name = "WorldQuant Alpha#" + String(Int(entry.name.dropFirst(3)) ?? 0)
            }
            return FactorDraft(code: entry.code, expression: entry.expression, name: name, category: library.category,
                               tags: [library.rawValue])
        }
    }

    /// Reads a catalogue file `[{"code","name","expression","category", …}]`, or, when no file `path` exists, the
    /// built-in library of that name (`alpha158`, `wq101`).
    public static func readCatalogue(_ path: String) throws -> [FactorDraft] {
        if !FileManager.default.fileExists(atPath: path), let library = ExpressionLibrary.named(path) {
            return libraryCatalogue(library)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw PlatformError.seedFile("cannot read \(path)") }
        guard let array = (try? JSONSerialization.jsonObject(with: data)) as? [Any] else {
            throw PlatformError.seedFile("\(path) is not a JSON array of factors [{\"code\", \"name\", \"expression\", \"category\"}]")
        }
        return try array.enumerated().map { k, element in
            guard let object = element as? [String: Any] else { throw PlatformError.seedEntry(index: k, code: nil, reason: "not a JSON object") }
            let code = object["code"] as? String
            for key in ["code", "expression"] where !(object[key] is String) || (object[key] as? String)?.isEmpty == true {
                throw PlatformError.seedEntry(index: k, code: code, reason: "missing or empty \"\(key)\"")
            }
            for key in ["name", "category", "owner", "description"] where object[key] != nil && !(object[key] is String) {
                throw PlatformError.seedEntry(index: k, code: code, reason: "\"\(key)\" must be a string")
            }
            if let tags = object["tags"], !(tags is [String]) {
                throw PlatformError.seedEntry(index: k, code: code, reason: "\"tags\" must be an array of strings")
            }
            var kind: FactorKind?
            if let text = object["kind"] {
                guard let k2 = (text as? String).flatMap(FactorKind.init(rawValue:)) else {
                    throw PlatformError.seedEntry(index: k, code: code, reason: "\"kind\" must be \"expression\" or \"python\"")
                }
                kind = k2
            }
            return FactorDraft(code: code ?? "", expression: object["expression"] as? String ?? "", kind: kind, name: object["name"] as? String,
                               category: object["category"] as? String, owner: object["owner"] as? String,
                               tags: object["tags"] as? [String], description: object["description"] as? String)
        }
    }

    /// Validates an expression, or a Python factor (refused when the host switched the kind off).
    func validate(code: String, _ definition: String, kind: FactorKind) throws -> ExpressionValidator.Validation {
        switch kind {
        case .expression: return try validator.validate(code: code, expression: definition)
        case .python: return try validator.validatePython(code: code, source: definition)
        }
    }

    private func refuseDuplicate(code: String, hash: String) throws {
        if let other = try store.factorsWithLatestHash(hash).first(where: { $0.code != code }) {
            throw PlatformError.duplicateDefinition(code: code, existing: "\(other.code) (version \(other.latestVersion))")
        }
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError { throw PlatformError.store(error) }
    }

    static func records(_ d: FactorDraft, _ v: ExpressionValidator.Validation, author: String) -> (factor: FactorRecord, version: FactorVersionRecord) {
        let now = Clock.now()
        let factor = FactorRecord(code: d.code, name: d.name ?? d.code, category: d.category ?? "uncategorized",
                                  owner: d.owner ?? author, tags: d.tags ?? [], description: d.description ?? "",
                                  status: .draft, latestVersion: 1, createdAt: now, updatedAt: now)
        let version = FactorVersionRecord(code: d.code, version: 1, expression: d.expression, kind: d.kind ?? .expression,
                                          canonical: v.canonical, hash: v.hash,
                                          note: "registered", author: author, createdAt: now, nanRatio: v.nanRatio,
                                          infRatio: v.infRatio, sampleCells: v.cells)
        return (factor, version)
    }
}
