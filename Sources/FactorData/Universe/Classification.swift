import FactorCore
import Foundation

/// What each instrument belongs to, from the data directory's classification file: `meta/industry.csv`, or the one
/// `meta/industry_*.csv` (e.g. `industry_csrc.csv`). Columns: `symbol` (or `instrument`/`code`), `industry_code` (or
/// `industry`, `industry_name`) for `$industry`, `csrc_section` (or `sector`) for `$sector`, and optionally `as_of`.
///
/// Point in time: a row takes effect on its `as_of` date; a symbol's earliest row also stands for the dates before it
/// (the file holds no earlier record, so a one-date snapshot classifies the whole history — which reads today's
/// classification into the past; give dated rows to avoid that); rows without `as_of` hold for every date.
struct Classification: Sendable {
    struct Entry: Sendable {
        var asOf: Timestamp?
        /// By category name (`industry`, `sector`).
        var values: [String: String]
    }

    let path: String
    /// Upper-case symbol → entries ascending by `as_of` (undated first).
    let entries: [String: [Entry]]
    /// The categories the file has columns for.
    let categories: Set<String>

    /// The classification file of `directory`, or nil when there is none; several candidates are an error.
    static func find(in directory: String) throws -> Classification? {
        let meta = (directory as NSString).appendingPathComponent("meta")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: meta)) ?? []).filter {
            $0 == "industry.csv" || ($0.hasPrefix("industry_") && $0.hasSuffix(".csv"))
        }.sorted()
        if names.contains("industry.csv") { return try read((meta as NSString).appendingPathComponent("industry.csv")) }
        guard let only = names.first else { return nil }
        guard names.count == 1 else {
            throw DataError.unreadable(path: meta, reason: "several classification files (\(names.joined(separator: ", "))): keep one, or name one industry.csv")
        }
        return try read((meta as NSString).appendingPathComponent(only))
    }

    static let columns: [String: [String]] = ["industry": ["industry_code", "industry", "industry_name"],
                                              "sector": ["csrc_section", "sector"]]

    static func read(_ path: String) throws -> Classification {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot read the classification file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        guard let headerLine = lines.first else { throw DataError.unreadable(path: path, reason: "the file is empty") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let symbolColumn = header.firstIndex(where: { ["symbol", "instrument", "code"].contains($0) }) else {
            throw DataError.unreadable(path: path, reason: "line 1: no symbol (or instrument/code) column in \(header.joined(separator: ","))")
        }
        var columnOf: [String: Int] = [:]
        for (category, candidates) in columns {
            if let k = candidates.compactMap({ header.firstIndex(of: $0) }).first { columnOf[category] = k }
        }
        guard !columnOf.isEmpty else {
            throw DataError.unreadable(path: path, reason: "line 1: no industry_code/industry/industry_name or csrc_section/sector column")
        }
        let asOfColumn = header.firstIndex(of: "as_of")
        var entries: [String: [Entry]] = [:]
        for (k, line) in lines.enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw DataError.unreadable(path: path, reason: "line \(k + 1): \(cells.count) cells, the header has \(header.count)")
            }
            var asOf: Timestamp?
            if let c = asOfColumn, !cells[c].isEmpty {
                guard let t = TimeFormat.parse(cells[c]) else {
                    throw DataError.unreadable(path: path, reason: "line \(k + 1): as_of '\(cells[c])' is not a date")
                }
                asOf = t
            }
            var values: [String: String] = [:]
            for (category, column) in columnOf where !cells[column].isEmpty { values[category] = cells[column] }
            entries[cells[symbolColumn].uppercased(), default: []].append(Entry(asOf: asOf, values: values))
        }
        for key in entries.keys { entries[key]!.sort { ($0.asOf ?? .min) < ($1.asOf ?? .min) } }
        return Classification(path: path, entries: entries, categories: Set(columnOf.keys))
    }

    /// `category` over `instruments` × `calendar`, each cell the classification in effect at the row's time.
    func panel(_ category: String, instruments: [String], calendar: MarketCalendar) -> CategoryPanel {
        var names: [String] = []
        var index: [String: Int32] = [:]
        func code(_ name: String?) -> Int32 {
            guard let name else { return -1 }
            if let k = index[name] { return k }
            names.append(name)
            index[name] = Int32(names.count - 1)
            return Int32(names.count - 1)
        }
        let length = calendar.count
        var codes = [Int32](repeating: -1, count: instruments.count * length)
        for (i, symbol) in instruments.enumerated() {
            guard let list = entries[symbol], !list.isEmpty else { continue }
            var k = 0
            for t in 0..<length {
                // The latest entry in effect at this row (the earliest one before any took effect).
                while k + 1 < list.count, let next = list[k + 1].asOf, next <= calendar.times[t] { k += 1 }
                codes[i * length + t] = code(list[k].values[category])
            }
        }
        return CategoryPanel(instrumentCount: instruments.count, length: length, codes: codes, names: names)
    }
}
