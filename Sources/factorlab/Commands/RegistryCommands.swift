import ArgumentParser
import FactorPlatform
import FactorStore
import Foundation

/// Builds the registry over the store and the configured data's warm-up sample.
func makeRegistry(_ store: any PlatformStore, data: String?) throws -> FactorRegistry {
    FactorRegistry(store: store, validator: try ExpressionValidator.forConfiguredData(explicitPath: data))
}

func printFactor(_ f: FactorRecord, _ options: StoreOptions) throws {
    if options.json { try options.printJSON(f); return }
    print("\(f.code) v\(f.latestVersion) [\(f.status.rawValue)] \(f.name) · \(f.category) · owner \(f.owner)")
}

struct InitDBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init-db", abstract: "Create or migrate the database; optionally seed a factor catalogue (idempotent).")

    @OptionGroup var store: StoreOptions
    @Option(help: "Catalogue JSON [{code, name, expression, category}], or a built-in library: alpha158, wq101 (default: $FACTOR_CATALOG_PATH when set).")
    var seed: String?
    @Option(help: "Data for the warm-up run of seeded expressions (default: the configured data, else the synthetic demo set).")
    var data: String?

    func run() throws {
        let path = seed ?? ProcessInfo.processInfo.environment["FACTOR_CATALOG_PATH"]
        let (db, actor) = try store.openStore(for: path == nil ? [] : [.researcher, .reviewer], to: path == nil ? "create or migrate the database" : "seed factors")
        guard let path else {
            if store.json { try store.printJSON(["database": db.locationDescription]) } else { print("database ready: \(db.locationDescription)") }
            return
        }
        let drafts = try FactorRegistry.readCatalogue(path)
        // A catalogue cannot register factors in someone else's name either (as register-factor --owner cannot).
        if actor.enforced, actor.role != .admin, let foreign = drafts.first(where: { $0.owner != nil && $0.owner != actor.name }) {
            let reason = "the catalogue gives \(foreign.code) to \(foreign.owner!); \(actor.name) seeds factors in their own name"
            try? db.recordRefusal(actor: actor.name, action: "seed factors", entity: foreign.code, reason: reason)
            throw PlatformError.forbidden(actor: actor.name, role: actor.role?.rawValue ?? "no role", action: "seed factors owned by \(foreign.owner!)",
                                          allowed: "an admin")
        }
        let registry = FactorRegistry(store: db, validator: try ExpressionValidator.forConfiguredData(explicitPath: data))
        let report = try registry.seed(drafts, actor: actor.name)
        if store.json {
            try store.printJSON(SeedOutput(database: db.locationDescription, inserted: report.inserted, alreadyPresent: report.alreadyPresent,
                                           skipped: report.skipped.map { SeedOutput.Skip(code: $0.code, reason: $0.reason) }))
            return
        }
        print("database \(db.locationDescription): seeded \(report.inserted.count) factors from \(path); \(report.alreadyPresent.count) already present; \(report.skipped.count) skipped")
        for s in report.skipped { print("  skipped \(s.code): \(s.reason)") }
    }

    struct SeedOutput: Encodable {
        struct Skip: Encodable { var code: String; var reason: String }
        var database: String
        var inserted: [String]
        var alreadyPresent: [String]
        var skipped: [Skip]
    }
}

struct RegisterFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register-factor", abstract: "Register a factor (validated by a warm-up run on sample data).")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Factor code, e.g. MOM20.") var code: String
    @Argument(help: "Expression, e.g. '$close/Ref($close, 20) - 1' (or give --python FILE.py).") var expression: String?
    @Option(help: "A Python factor file instead of an expression (docs/python-factors.md).") var python: String?
    @Option var name: String?
    @Option var category: String?
    @Option var owner: String?
    @Option(help: "Comma-separated tags.") var tags: String?
    @Option var description: String?
    @Option(help: "Data for the warm-up run (default: the configured data, else the synthetic demo set).") var data: String?

    func run() throws {
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "register factors", entity: code)
        if let owner, owner != actor.name, actor.enforced, actor.role != .admin {
            let reason = "\(actor.name) (\(actor.role?.rawValue ?? "no role")) registers factors in their own name, not \(owner)"
            try? db.recordRefusal(actor: actor.name, action: "register factors", entity: code, reason: reason)
            throw PlatformError.forbidden(actor: actor.name, role: actor.role?.rawValue ?? "no role", action: "register a factor for \(owner)", allowed: "an admin")
        }
        let registry = try makeRegistry(db, data: data)
        let tagList = tags?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let (definition, kind) = try Self.definition(expression, python: python)
        let (factor, version) = try registry.register(FactorDraft(code: code, expression: definition, kind: kind, name: name, category: category,
                                                                 owner: owner ?? actor.name, tags: tagList, description: description),
                                                      actor: actor.name)
        if store.json { try store.printJSON(["factor": AnyEncodable(factor), "version": AnyEncodable(version)]); return }
        try printFactor(factor, store)
        let canonical = version.kind == .python ? "python source, hash \(version.hash.prefix(12))" : version.canonical
        print(String(format: "  canonical %@; warm-up on %d cells: %.1f%% NaN, %.1f%% inf", canonical, version.sampleCells,
                     version.nanRatio * 100, version.infRatio * 100))
    }

    /// The expression argument, or the source of `--python FILE` (exactly one of them).
    static func definition(_ expression: String?, python: String?) throws -> (String, FactorKind) {
        switch (expression, python) {
        case (let e?, nil): return (e, .expression)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the Python factor file \(path)") }
            return (String(decoding: data, as: UTF8.self), .python)
        case (nil, nil): throw ValidationError("give the factor's expression, or --python FILE.py")
        default: throw ValidationError("give an expression or --python FILE.py, not both")
        }
    }
}

struct UpdateFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update-factor", abstract: "Give a factor a new expression (a new version; old versions stay).")

    @OptionGroup var store: StoreOptions
    @Argument var code: String
    @Argument var expression: String?
    @Option(help: "A Python factor file as the new version (docs/python-factors.md).") var python: String?
    @Option var note: String = ""
    @Option var data: String?

    func run() throws {
        let (definition, kind) = try RegisterFactorCommand.definition(expression, python: python)
        let (db, actor) = try store.openStore(owning: code, to: "edit factors")
        try printFactor(try makeRegistry(db, data: data).update(code: code, expression: definition, kind: kind, note: note, actor: actor.name), store)
    }
}

struct RollbackFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback-factor", abstract: "Make an earlier version current again (as a new, audited version).")

    @OptionGroup var store: StoreOptions
    @Argument var code: String
    @Option(name: .customLong("to-version")) var toVersion: Int
    @Option var data: String?

    func run() throws {
        let (db, actor) = try store.openStore(owning: code, to: "roll back factors")
        try printFactor(try makeRegistry(db, data: data).rollback(code: code, to: toVersion, actor: actor.name), store)
    }
}

struct SubmitReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit-review", abstract: "Move a draft factor to review.")
    @OptionGroup var store: StoreOptions
    @Argument var code: String

    func run() throws {
        let (db, actor) = try store.openStore(owning: code, to: "submit factors for review")
        try printFactor(try FactorLifecycle(store: db).submitForReview(code: code, actor: actor.name), store)
    }
}

struct ApproveFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve-factor", abstract: "Approve a factor in review.")
    @OptionGroup var store: StoreOptions
    @Argument var code: String
    @Option(help: "Reviewer name recorded in the audit log, on a database without users (default: $FACTOR_USER or $USER; where roles apply, the acting user).") var by: String?

    func run() throws {
        let (db, actor) = try store.openStore(for: [.reviewer], to: "approve factors", entity: code)
        // Where roles apply, --by cannot name someone else: the four-eyes rule would mean nothing.
        if let by, by != actor.name, actor.enforced {
            let reason = "--by \(by) is not the acting user \(actor.name); act as \(by) with their FACTOR_TOKEN"
            try? db.recordRefusal(actor: actor.name, action: "approve", entity: code, reason: reason)
            throw PlatformError.forbidden(actor: actor.name, role: actor.role?.rawValue ?? "no role", action: "approve as \(by)", allowed: "\(by) themselves")
        }
        try printFactor(try FactorLifecycle(store: db).approve(code: code, actor: by ?? actor.name), store)
    }
}

struct DeprecateFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deprecate-factor", abstract: "Retire a factor.")
    @OptionGroup var store: StoreOptions
    @Argument var code: String

    func run() throws {
        let store = try self.store.openStore()
        let actor = try CLIIdentity.resolve(store)
        if actor.role != .reviewer { try actor.requireOwner(of: code, to: "deprecate factors", store: store) }
        try printFactor(try FactorLifecycle(store: store).deprecate(code: code, actor: actor.name), self.store)
    }
}

/// Type-erased Encodable for ad-hoc JSON objects.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
