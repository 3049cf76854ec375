/// A failure while running a plan on data.
public enum ExpressionEvaluationError: Error, CustomStringConvertible, Sendable {
    case missingField(String, available: [String])
    case missingInstrument(String, available: [String])
    case missingCategory(String)
    case missingPeriodField(String, available: [String])

    public var description: String {
        switch self {
        case .missingField(let f, let available):
            return "the data has no field $\(f); it has \(available.map { "$" + $0 }.joined(separator: " "))"
        case .missingInstrument(let code, let available):
            let list = available.isEmpty ? "none was loaded" : "loaded: \(available.joined(separator: ", "))"
            return "instrument \(code) named by ChangeInstrument is not in the data (\(list))"
        case .missingPeriodField(let name, let available):
            return "the data has no point-in-time reports of $$\(name) (loaded: \(available.isEmpty ? "none" : available.map { "$$" + $0 }.joined(separator: " ")))"
        case .missingCategory(let name):
            return "the data has no $\(name) classification (a meta/industry*.csv file with symbol and industry_code/csrc_section columns)"
        }
    }
}
