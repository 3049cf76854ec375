import FactorCore
import FactorData
import FactorPython
import Foundation

extension ExpressionValidator {
    /// Rows removed from the end of the sample by the look-ahead check.
    static let lookAheadRows = 20

    /// Validates a Python factor as expressions are validated: the source compiles and declares `fields`, `lookback`
    /// and `factor`; its fields exist; a warm-up run on the sample returns the right shape and not only NaN/inf.
    /// Then the look-ahead check: run again without the sample's last rows, and refuse the factor when a value on an
    /// earlier row changes — it read a later one. The canonical form is the source's syntax tree (comments and
    /// spacing ignored), so the same code registered twice is caught.
    public func validatePython(code: String, source text: String) throws -> Validation {
        let filename = "\(code).py"
        guard python.settings.enabled else { throw PlatformError.pythonDisabled }
        /// A runner failure in platform terms: the user's error, the host's (no interpreter, switched off), or the run's.
        func refusal(_ error: PythonFailure, invalid: Bool) -> PlatformError {
            switch error.kind {
            case .raised where invalid: return .invalidPython(code: code, error.description)
            case .unavailable: return .pythonUnavailable(error.message)
            case .disabled: return .pythonDisabled
            default: return .warmupFailed(code: code, reason: error.description)
            }
        }
        let declaration: PythonFactorRunner.Declaration
        do { declaration = try python.check(source: text, filename: filename) } catch { throw refusal(error, invalid: true) }
        let available = try source.fieldNames()
        let missing = declaration.fields.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw PlatformError.invalidPython(code: code, "it declares \(missing.map { "\"\($0)\"" }.joined(separator: ", ")), which the data lacks; "
                                              + "the data has \(available.joined(separator: ", "))")
        }
        let normalized: String
        do { normalized = try python.normalize(source: text, filename: filename) } catch { throw refusal(error, invalid: true) }
        let loaded = try source.load(DataRequest(universe: universe, fields: declaration.fields, start: start, lookbackRows: declaration.lookback))
        let data = loaded.data
        func run(_ data: MarketData) throws -> Panel {
            do { return try python.run(source: text, filename: filename, fields: declaration.fields, data: data).panel } catch {
                throw refusal(error, invalid: false)
            }
        }
        let full = try run(data)
        var nan = 0, inf = 0, cells = 0
        for (i, span) in data.spans.enumerated() {
            for t in max(span.lowerBound, loaded.outputRows.lowerBound)..<min(span.upperBound, loaded.outputRows.upperBound) {
                cells += 1
                let v = full[i, t]
                if v.isNaN { nan += 1 } else if v.isInfinite { inf += 1 }
            }
        }
        if cells == 0 || nan + inf == cells { throw PlatformError.emptyOnSample(code: code, cells: cells) }
        let kept = data.calendar.count - min(Self.lookAheadRows, max(1, loaded.outputRows.count / 5))
        let shorter = try run(Self.firstRows(kept, of: data))
        for i in 0..<data.instruments.count {
            for t in loaded.outputRows.lowerBound..<kept {
                let a = full[i, t], b = shorter[i, t]
                let same = (a.isNaN && b.isNaN) || a == b || (a.isFinite && b.isFinite && abs(a - b) <= 1e-12 * max(1, abs(a)))
                if !same {
                    throw PlatformError.readsFuture(code: code, "its value for \(data.instruments[i]) on \(data.calendar.label(t)) is \(a) on the "
                                                    + "sample and \(b) when the \(data.calendar.count - kept) rows after \(data.calendar.label(kept - 1)) are removed")
                }
            }
        }
        return Validation(canonical: normalized, hash: SHA256Digest.hex("python\n" + normalized), nanRatio: Double(nan) / Double(cells),
                          infRatio: Double(inf) / Double(cells), cells: cells)
    }

    /// The bars of `data` up to row `rows` (what the look-ahead check feeds a Python factor, which reads bars only).
    static func firstRows(_ rows: Int, of data: MarketData) -> MarketData { data.barsOfRows(0..<rows) }
}
