import ArgumentParser
import FactorPlatform
import FactorStore

/// The users the CLI acts as on a shared database, and their roles. The first user turns roles on for the CLI: from
/// then on a name without a user or a token may only read.
struct SetUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-user",
        abstract: "Grant a user a role for the CLI on this database (admin; the first user turns roles on for the CLI).")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The name the CLI acts as ($FACTOR_USER, else $USER).") var name: String
    @Option(help: "researcher, reviewer, admin or worker.") var role: String

    func run() throws {
        guard let r = Role(rawValue: role) else { throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard UserRecord.isValidName(name) else { throw ValidationError(UserRecord.nameRule) }
        let (db, actor) = try store.openStore(for: [], to: "manage users", entity: "user:" + name)
        let user = try db.setUser(name: name, role: r, actor: actor.name)
        if store.json { try store.printJSON(user); return }
        print("user \(user.name): \(user.role.rawValue)")
    }
}

struct RemoveUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-user", abstract: "Remove a user (admin).")
    @OptionGroup var store: StoreOptions
    @Argument var name: String

    func run() throws {
        let (db, actor) = try store.openStore(for: [], to: "manage users", entity: "user:" + name)
        guard try db.removeUser(name: name, actor: actor.name) else { throw CLIError("no user \(name) (see `factorlab users`)") }
        if store.json { try store.printJSON(["removed": name]); return }
        print("removed user \(name)")
    }
}

struct ListUsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Users and their roles for the CLI, and who the CLI acts as now.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let db = try store.openStore()
        let users = try db.users()
        let me = try CLIIdentity.resolve(db)
        if store.json { try store.printJSON(users); return }
        print(Terminal.table(["name", "role", "updated", "by"], users.map { [$0.name, $0.role.rawValue, $0.updatedAt, $0.updatedBy] }))
        Terminal.info("acting as \(me.name): \(me.role?.rawValue ?? "no role") (\(me.source))\(me.enforced ? "" : "; roles do not apply until the first user is set")")
    }
}
