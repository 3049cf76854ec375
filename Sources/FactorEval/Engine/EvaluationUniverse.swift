import FactorCore

/// The shared inputs of every factor's evaluation: instruments, calendar, evaluation rows, point-in-time
/// membership, adjusted closes and (optionally) industries.
public struct EvaluationUniverse: Sendable {
    public var instruments: [String]
    public var calendar: MarketCalendar
    /// The rows evaluated (the requested window); rows after it only supply forward returns.
    public var window: Range<Int>
    /// `member[i * calendar.count + t]`: instrument i is a member of the universe on row t.
    public var member: [Bool]
    /// Adjusted close per instrument and row (NaN when missing).
    public var close: Panel
    /// Industry index per instrument (into `industryNames`), or nil when unknown.
    public var industry: [Int?]
    public var industryNames: [String]
    /// Log market value per instrument × date (instrument-major), for size neutralization; nil when not asked for.
    public var logSize: [Double]?

    public init(instruments: [String], calendar: MarketCalendar, window: Range<Int>, member: [Bool], close: Panel,
                industry: [Int?]? = nil, industryNames: [String] = []) {
        self.instruments = instruments
        self.calendar = calendar
        self.window = window
        self.member = member
        self.close = close
        self.industry = industry ?? Array(repeating: nil, count: instruments.count)
        self.industryNames = industryNames
    }

    /// From loaded market data: the window is its output rows, membership its universe membership.
    public init(data: MarketData, window: Range<Int>, industries: [String: String] = [:]) throws(EvaluationError) {
        guard let close = data.fields["close"] else { throw .missingClose(available: data.fieldNames) }
        var names: [String] = []
        var index: [String: Int] = [:]
        let industry = data.instruments.map { code -> Int? in
            guard let name = industries[code] else { return nil }
            if let k = index[name] { return k }
            names.append(name)
            index[name] = names.count - 1
            return names.count - 1
        }
        self.init(instruments: data.instruments, calendar: data.calendar, window: window,
                  member: data.membership.denseMask(), close: close, industry: industry, industryNames: names)
    }

    @inline(__always)
    func isMember(_ i: Int, _ t: Int) -> Bool { member[i * calendar.count + t] }
}

/// A failure of the evaluation itself (as opposed to loading or expressions).
public enum EvaluationError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingClose(available: [String])
    case badSettings(String)
    case emptyWindow

    public var description: String {
        switch self {
        case .missingClose(let available):
            return "forward returns need a $close field; the data has \(available.map { "$" + $0 }.joined(separator: " "))"
        case .badSettings(let message):
            return message
        case .emptyWindow:
            return "the evaluation window holds no rows"
        }
    }
}
