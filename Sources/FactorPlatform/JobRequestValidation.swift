import FactorCore
import FactorEval
import Foundation

/// Why a job request cannot be planned; the message names the field.
public struct InvalidJobRequest: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The checks every job request passes before planning, shared by `submit-job` and `POST /jobs` so both refuse the
/// same requests with the same words.
extension JobRequest {
    /// A calendar date written `YYYY-MM-DD`.
    public static func isDay(_ text: String) -> Bool { text.count == 10 && TimeFormat.parse(text) != nil }

    public func validate() throws(InvalidJobRequest) {
        func fail(_ message: String) throws(InvalidJobRequest) { throw InvalidJobRequest(description: message) }
        if windows.isEmpty { try fail("give at least one window (start and end)") }
        for w in windows where !(Self.isDay(w.start) && Self.isDay(w.end) && w.start <= w.end) {
            try fail("window \(w.start)…\(w.end) is not a pair of dates YYYY-MM-DD in order")
        }
        if horizons.isEmpty || !horizons.allSatisfy({ (1...1000).contains($0) }) { try fail("horizons must be integers 1…1000") }
        if !(1...1000).contains(batchSize) { try fail("batch size must be 1…1000") }
        if !(1...100).contains(maxAttempts) { try fail("max attempts must be 1…100") }
        if !(1...100).contains(quantiles) { try fail("quantiles must be 1…100") }
        if delay < 0 { try fail("delay must be ≥ 0") }
        if universes.isEmpty || universes.contains(where: \.isEmpty) { try fail("universes must not be empty") }
        if frequencies.isEmpty { try fail("frequencies must not be empty") }
        if let key = idempotencyKey, !(1...200).contains(key.count) { try fail("an idempotency key has 1–200 characters") }
        for f in frequencies where Frequency(f) == nil { try fail("'\(f)' is not a frequency (day, week, month, or minutes such as 5min)") }
        if compareNeutral == true {
            if options?.industry == nil { try fail("compare-neutral needs an industry file (--industry FILE) for the neutral twin, or data whose meta/ has an industry*.csv classification") }
            if options?.neutralize?.lowercased().contains("industry") == true {
                try fail("compare-neutral compares with industry neutralization: the options must not neutralize by industry already")
            }
        }
        for case let options? in optionSets {
            do { _ = try options.settings(horizons: horizons, delay: delay, quantiles: quantiles) } catch { try fail(error.description) }
            if let industry = options.industry, !FileManager.default.isReadableFile(atPath: industry) {
                try fail("the industry file \(industry) cannot be read (workers read it by this path)")
            }
        }
    }
}
