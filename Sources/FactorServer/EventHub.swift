import FactorStore
import Foundation

/// The server's one reader of the event log, shared by every live-stream client: while anyone listens it reads new
/// events every `pollInterval` (one query however many clients there are) and keeps the newest `capacity` in memory,
/// so a client costs a cursor, not a queue. A client further behind than memory reads the log itself, up to what the
/// hub has accepted. Events are accepted in id order. Writers take ids in commit order (on PostgreSQL under a
/// transaction-level advisory lock, `PostgresFactorStore.appendEvent`), so an id missing from the middle is one whose
/// transaction rolled back; it holds back the ones after it for `gapWait` (a margin), then is passed.
public actor EventHub {
    public enum Read: Sendable {
        /// Events after the cursor (of the job asked for), and the id the cursor may move to.
        case events([StreamEvent], through: Int64)
        /// The cursor is older than memory: read the log up to `through`.
        case database(through: Int64)
    }

    let store: any EventLog
    let pollInterval: Duration
    let capacity: Int
    let gapWait: Duration
    private var recent: [StreamEvent] = []
    /// The newest accepted id; nil until the first client starts the hub.
    private var accepted: Int64?
    private var gap: (id: Int64, since: ContinuousClock.Instant)?
    private var poller: Task<Void, Never>?
    private var clients = 0
    private var idleSince = ContinuousClock.now

    public init(store: any EventLog, pollInterval: Duration = .milliseconds(200), capacity: Int = 4096, gapWait: Duration = .seconds(1)) {
        self.store = store
        self.pollInterval = pollInterval
        self.capacity = capacity
        self.gapWait = gapWait
    }

    /// A client arrives; returns the newest accepted id (where a client that asks for nothing older starts).
    public func attach() throws -> Int64 {
        if accepted == nil { accepted = try store.latestEventId() }
        clients += 1
        if poller == nil {
            poller = Task { [weak self] in
                while !Task.isCancelled, let self, await self.pollOnce() {
                    try? await Task.sleep(for: self.pollInterval)
                }
            }
        }
        return accepted ?? 0
    }

    public func detach() {
        clients -= 1
        if clients == 0 { idleSince = .now }
    }

    public var clientCount: Int { clients }
    public var memoryEvents: Int { recent.count }

    /// What a client whose cursor is `cursor` gets next.
    public func read(after cursor: Int64, jobId: String?) -> Read {
        let through = accepted ?? cursor
        guard cursor < through else { return .events([], through: cursor) }
        if let first = recent.first, cursor < first.id - 1 { return .database(through: through) }
        if recent.isEmpty { return .database(through: through) }
        let start = recent.partitionPoint { $0.id <= cursor }
        let slice = recent[start...].filter { jobId == nil || $0.jobId == jobId }
        return .events(Array(slice), through: through)
    }

    /// One read of the log; false when the hub has been idle long enough to stop polling.
    func pollOnce() -> Bool {
        if clients == 0 && ContinuousClock.now - idleSince > .seconds(30) {
            poller = nil
            accepted = nil
            recent = []
            return false
        }
        guard let from = accepted, let rows = try? store.events(after: from, upTo: nil, jobId: nil, limit: 2000) else { return true }
        var expected = from + 1
        var taken: [StreamEvent] = []
        for row in rows {
            if row.id != expected {
                // A hole: wait for it to fill (a late commit), or give it up once it has stayed empty for gapWait.
                if let gap, gap.id == expected, ContinuousClock.now - gap.since > gapWait {
                    self.gap = nil
                } else {
                    if gap?.id != expected { gap = (expected, .now) }
                    break
                }
            }
            taken.append(row)
            expected = row.id + 1
        }
        if let last = taken.last {
            accepted = last.id
            if gap.map({ $0.id <= last.id }) == true { gap = nil }
            recent += taken
            if recent.count > capacity { recent.removeFirst(recent.count - capacity) }
        }
        return true
    }
}

extension Array {
    /// The index of the first element for which `belongsAfter` is false, in an array where it is true for a prefix.
    func partitionPoint(_ belongsBefore: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsBefore(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
