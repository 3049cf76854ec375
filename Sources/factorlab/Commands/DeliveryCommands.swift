import ArgumentParser
import FactorStore
import Foundation

/// `factorlab deliveries`: the webhook outbox, newest first.
struct DeliveriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "The webhook outbox (newest first): each delivery's status (pending, delivered, dead), attempts and last error.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only this status: pending, delivered or dead.") var status: String?
    @Option(help: "Only this subscription's deliveries.") var subscription: String?
    @Option var limit: Int = 100

    func run() throws {
        var wanted: DeliveryRecord.Status?
        if let status {
            guard let s = DeliveryRecord.Status(rawValue: status.lowercased()) else {
                throw ValidationError("--status must be \(DeliveryRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")), not \(status)")
            }
            wanted = s
        }
        let list = try store.openStore().deliveries(status: wanted, subscriptionId: subscription, limit: max(1, limit))
        if store.json { try store.printJSON(list); return }
        print(Terminal.table(["id", "subscription", "event", "event id", "status", "attempts", "created", "last error"], list.map {
            [String($0.id), String($0.subscriptionId.prefix(8)), $0.event.rawValue, WebhookBody.eventId(of: $0.payload).map { String($0.prefix(8)) } ?? "",
             $0.status.rawValue, String($0.attempts), $0.createdAt, $0.lastError ?? ""]
        }))
    }
}

/// `factorlab redeliver`: dead deliveries back into the outbox, with their bodies (and event ids) unchanged.
struct RedeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeliver",
        abstract: "Put dead webhook deliveries back in the outbox (by id, or --dead for all); receivers get the same event id again.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Delivery ids (see `factorlab deliveries --status dead`).") var ids: [Int64] = []
    @Flag(help: "Every dead delivery (of --subscription when given).") var dead = false
    @Option(help: "With --dead: only this subscription's.") var subscription: String?

    func run() throws {
        guard !ids.isEmpty != dead else { throw ValidationError("give delivery ids, or --dead for every dead delivery") }
        let (db, actor) = try store.openStore(for: [.researcher, .reviewer], to: "redeliver webhooks")
        let requeued = try db.redeliver(ids: dead ? nil : ids, subscriptionId: subscription, actor: actor.name)
        if store.json { try store.printJSON(["redelivered": requeued]); return }
        let skipped = ids.filter { !requeued.contains($0) }
        print("\(requeued.count) deliveries back in the outbox\(requeued.isEmpty ? "" : ": " + requeued.map(String.init).joined(separator: " "))")
        if !skipped.isEmpty { print("not dead, left alone: \(skipped.map(String.init).joined(separator: " "))") }
    }
}
