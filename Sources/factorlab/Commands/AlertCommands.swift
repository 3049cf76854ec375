import ArgumentParser
import FactorPlatform
import FactorStore
import Foundation

/// `factorlab alerts`: alerts raised when jobs ended, newest first.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "Alerts raised when jobs ended (newest first), with their figures.")
    @OptionGroup var store: StoreOptions
    @Option var limit: Int = 50
    @Flag(help: "Only alerts nobody has acknowledged.") var open = false

    func run() throws {
        let alerts = try store.openStore().alerts(limit: limit, unacknowledged: open)
        if store.json { try store.printJSON(alerts); return }
        print(Terminal.table(["id", "time", "rule", "severity", "subject", "message", "figures", "acknowledged"], alerts.map {
            [String($0.id), $0.createdAt, $0.rule, $0.severity, $0.subject, $0.message,
             $0.figures.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%g", $0.value))" }.joined(separator: " "),
             $0.acknowledgedBy.map { "by \($0)" } ?? ""]
        }))
    }
}

/// `factorlab acknowledge-alert ID`.
struct AcknowledgeAlertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "acknowledge-alert", abstract: "Acknowledge an alert (the first acknowledgement stands).")
    @OptionGroup var store: StoreOptions
    @Argument var id: Int64

    func run() throws {
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "acknowledge alerts", entity: "alert:\(id)")
        guard let alert = try db.acknowledgeAlert(id: id, actor: actor.name) else {
            throw CLIError("no alert with id \(id) (see `factorlab alerts`)")
        }
        if store.json { try store.printJSON(alert); return }
        print("alert \(alert.id) (\(alert.rule): \(alert.subject)) acknowledged by \(alert.acknowledgedBy ?? "?") at \(alert.acknowledgedAt ?? "?")")
    }
}

/// `factorlab alert-rules`: the rules evaluated when a job ends.
struct AlertRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alert-rules", abstract: "The alert rules: kind, threshold, lookback, severity, scope, muted.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let rules = try store.openStore().alertRules()
        if store.json { try store.printJSON(rules); return }
        print(Terminal.table(["id", "kind", "threshold", "lookback", "severity", "scope", "state", "updated"], rules.map {
            [$0.id, $0.kind.rawValue, String(format: "%g", $0.threshold), $0.kind.lookbackMeaning == nil ? "" : String($0.lookback), $0.severity,
             $0.scope.summary, $0.muted ? "muted" : "active", "\($0.updatedAt) by \($0.updatedBy)"]
        }))
    }
}

/// `factorlab set-alert-rule ID …`: creates or changes a rule; what is not given stays.
struct SetAlertRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-alert-rule",
        abstract: "Create or change an alert rule; it takes effect for the next job that ends.",
        discussion: """
            Kinds: slow_task (threshold: the quantile, 0.95 = P95; lookback: earlier tasks needed), task_failures (share of \
            failed tasks), ic_drop (fall of the mean IC against the previous comparable run), rank_ic_drift (|Rank IC − mean \
            of the last lookback runs|), coverage (share of member-rows in the sample, alert below), sample_size (dates with \
            an IC, alert below), nan_ratio (share of member-rows without a factor value, alert above). A scope of factors, \
            categories or universes limits the rule ('' clears one).
            """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "The rule's id (an existing one, or a new name).") var id: String
    @Option(help: "The rule's kind (a new rule needs one).") var kind: String?
    @Option var threshold: Double?
    @Option var lookback: Int?
    @Option(help: "info, warning or critical.") var severity: String?
    @Option(help: "Only these factor codes (comma-separated).") var factors: String?
    @Option(help: "Only factors of these categories.") var categories: String?
    @Option(help: "Only these universes.") var universes: String?
    @Flag(inversion: .prefixedNo, help: "Mute the rule (it raises nothing), or --no-mute to unmute it.") var mute: Bool?

    func run() throws {
        let (opened, actor) = try store.openStore(for: [.reviewer], to: "manage alert rules", entity: "alert-rule:" + id)
        let existing = try opened.alertRules().first { $0.id == id }
        var scope: AlertRuleScope?
        if factors != nil || categories != nil || universes != nil {
            func list(_ s: String?, _ old: [String]) -> [String] {
                guard let s else { return old }
                return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            let old = existing?.scope ?? AlertRuleScope()
            scope = AlertRuleScope(factors: list(factors, old.factors), categories: list(categories, old.categories), universes: list(universes, old.universes))
        }
        let change = AlertRuleChange(kind: kind, threshold: threshold, lookback: lookback, severity: severity, scope: scope, muted: mute)
        let rule: AlertRuleRecord
        do {
            rule = try change.save(id: id, store: opened, actor: actor.name)
        } catch let problem as AlertRuleChange.Problem {
            throw ValidationError("--\(problem.field): \(problem.reason)")
        }
        if store.json { try store.printJSON(rule); return }
        print("\(existing == nil ? "added" : "changed") rule \(rule.id): \(rule.kind.rawValue) threshold \(String(format: "%g", rule.threshold))"
              + (rule.kind.lookbackMeaning.map { ", lookback \(rule.lookback) (\($0))" } ?? "")
              + ", \(rule.severity), scope \(rule.scope.summary)\(rule.muted ? ", muted" : "")")
    }
}

/// `factorlab remove-alert-rule ID`.
struct RemoveAlertRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-alert-rule", abstract: "Delete an alert rule (its alerts stay).")
    @OptionGroup var store: StoreOptions
    @Argument var id: String

    func run() throws {
        let (db, actor) = try store.openStore(for: [.reviewer], to: "manage alert rules", entity: "alert-rule:" + id)
        guard try db.removeAlertRule(id: id, actor: actor.name) else {
            throw CLIError("no alert rule with id \(id) (see `factorlab alert-rules`)")
        }
        if store.json { try store.printJSON(["removed": id]); return }
        print("removed alert rule \(id)")
    }
}
