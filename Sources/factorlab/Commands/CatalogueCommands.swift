import ArgumentParser
import FactorPlatform
import FactorStore
import Foundation

struct ListFactorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-factors", abstract: "List registered factors.")
    @OptionGroup var store: StoreOptions
    @Option var category: String?
    @Option(help: "draft, in_review, approved or deprecated.") var status: String?
    @Option var owner: String?
    @Option var tag: String?

    func run() throws {
        var filter = FactorFilter(category: category, owner: owner, tag: tag)
        if let status {
            guard let s = FactorStatus(rawValue: status) else {
                throw ValidationError("--status must be one of \(FactorStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = s
        }
        let factors = try store.openStore().factors(matching: filter)
        if store.json { try store.printJSON(factors); return }
        print(Terminal.table(["code", "version", "status", "category", "owner", "tags", "name"],
                             factors.map { [$0.code, String($0.latestVersion), $0.status.rawValue, $0.category, $0.owner,
                                            $0.tags.joined(separator: ","), $0.name] }))
        print("\(factors.count) factors")
    }
}

struct ShowFactorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-factor", abstract: "A factor's versions (with the diff between them), audit trail and latest results.")
    @OptionGroup var store: StoreOptions
    @Argument var code: String

    struct Output: Encodable {
        var factor: FactorRecord
        var versions: [FactorVersionRecord]
        var audit: [AuditRecord]
        var latestResults: [ResultRecord]
    }

    func run() throws {
        let db = try store.openStore()
        guard let factor = try db.factor(code: code) else { throw StoreError.unknownFactor(code) }
        let versions = try db.versions(code: code)
        let audit = try db.audit(entity: code, limit: 50)
        let all = try db.results(matching: ResultFilter(factorCode: code))
        // The latest run of each evaluation setting: raw and neutralized results side by side.
        var latestRunBySettings: [String: String] = [:]
        for r in all { latestRunBySettings[r.key.settingsHash] = r.key.runId }
        let latest = all.filter { latestRunBySettings[$0.key.settingsHash] == $0.key.runId }
        let labels = SettingsLabels.labels(try db.runs())
        if store.json { try store.printJSON(Output(factor: factor, versions: versions, audit: audit, latestResults: latest)); return }
        print("\(factor.code) — \(factor.name)")
        print("status \(factor.status.rawValue) · category \(factor.category) · owner \(factor.owner) · tags \(factor.tags.joined(separator: ", "))")
        if !factor.description.isEmpty { print(factor.description) }
        print("\nversions:")
        for (k, v) in versions.enumerated() {
            let current = v.version == factor.latestVersion ? " (current)" : ""
            print(String(format: "  v%d%@ %@ by %@ — %@ [NaN %.1f%%, inf %.1f%% on %d warm-up cells]", v.version, current, v.createdAt,
                         v.author, v.note, v.nanRatio * 100, v.infRatio * 100, v.sampleCells))
            if k == 0 {
                print("      \(v.expression)")
            } else {
                for line in ExpressionDiff.lines(versions[k - 1].expression, v.expression) { print("      \(line)") }
            }
        }
        print("\naudit (newest first):")
        for a in audit.prefix(12) { print("  \(a.at) \(a.actor) \(a.action)") }
        if latest.isEmpty { print("\nno results yet (factorlab evaluate --factor \(code) --save)"); return }
        print("\nlatest results, one run per evaluation setting:")
        print(Terminal.table(["settings", "run", "universe", "freq", "window", "h", "n", "IC", "RankIC", "RankICIR", "LS Sharpe"],
                             latest.map { r in
                                 [labels[r.key.settingsHash] ?? String(r.key.settingsHash.prefix(8)), String(r.key.runId.prefix(8)),
                                  r.key.universe, r.key.frequency, "\(r.key.start)…\(r.key.end)", String(r.key.horizon), String(r.n),
                                  Terminal.number(r.icMean), Terminal.number(r.rankICMean), Terminal.number(r.rankICIR),
                                  Terminal.number(r.lsSharpe)]
                             }))
    }
}

/// A token-level diff of two expressions: `- old` / `+ new` with the changed tokens marked.
enum ExpressionDiff {
    static func lines(_ old: String, _ new: String) -> [String] {
        if old == new { return ["= \(new)"] }
        let a = tokens(old), b = tokens(new)
        // Longest common subsequence of tokens.
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var i = 0, j = 0
        var removed = "", added = ""
        while i < a.count || j < b.count {
            if i < a.count && j < b.count && a[i] == b[j] {
                removed += a[i]; added += b[j]; i += 1; j += 1
            } else if j < b.count && (i == a.count || table[i][j + 1] >= table[i + 1][j]) {
                added += "[+\(b[j])]"; j += 1
            } else {
                removed += "[-\(a[i])]"; i += 1
            }
        }
        return ["- \(removed)", "+ \(added)"]
    }

    static func tokens(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        for c in s {
            if c.isLetter || c.isNumber || c == "$" || c == "." || c == "_" {
                current.append(c)
            } else {
                if !current.isEmpty { out.append(current); current = "" }
                out.append(String(c))
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
