import FactorCore
import Foundation

/// Point-in-time fundamentals from the data directory's `financial/` folder, in either layout:
///
/// - CSV: every `*.csv` in it with the columns `code,period,announce_date,field,value` (also `symbol`/`instrument`
///   for the code, `date` for the announcement date), one row per report. `period` is `YYYYQQ` or `YYYYQn` for
///   quarterly fields (names ending in `_q`) and `YYYY` for annual ones (`_a`).
/// - Qlib's binary PIT files, as Qlib's `dump_pit.py` writes them: `financial/<code>/<field>.data`, 20-byte records
///   (`date` uint32 YYYYMMDD, `period` uint32, `value` float64, `_next` uint32: the byte offset of the period's next
///   revision), little-endian, in announcement order, with `<field>.index` beside it.
///
/// A period reported again later is a revision: it takes effect from its own announcement date; reports of one day
/// take effect in file order.
struct FinancialReports: Sendable {
    let directory: String
    /// Field → upper-case code → reports in announcement order.
    let reports: [String: [String: [PeriodRecord]]]

    /// The reports under `directory/financial`, or nil when the folder is absent.
    static func find(in directory: String) throws -> FinancialReports? {
        let folder = (directory as NSString).appendingPathComponent("financial")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var reports: [String: [String: [PeriodRecord]]] = [:]
        for name in entries {
            let path = (folder as NSString).appendingPathComponent(name)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                try readQlib(instrument: path, code: name.uppercased(), into: &reports)
            } else if name.lowercased().hasSuffix(".csv") {
                try read(path, into: &reports)
            }
        }
        for field in reports.keys {
            for code in reports[field]!.keys {
                // By announcement day, and in file order within a day (the later line is the later revision).
                reports[field]![code] = reports[field]![code]!.enumerated()
                    .sorted { ($0.element.announced, $0.offset) < ($1.element.announced, $1.offset) }.map(\.element)
            }
        }
        return FinancialReports(directory: folder, reports: reports)
    }

    /// Whether `name` is a point-in-time field name: letters, digits and `_`, ending in `_q` or `_a`.
    static func isFieldName(_ name: String) -> Bool {
        (name.hasSuffix("_q") || name.hasSuffix("_a")) && name.count > 2
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// A period as written in the file: `201803` or `2018Q3` for a quarterly field, `2018` for an annual one.
    static func period(_ text: String, quarterly: Bool) -> Int? {
        let t = text.uppercased()
        if quarterly {
            if t.count == 6, let year = Int(t.prefix(4)), t.dropFirst(4).first == "Q", let q = Int(t.suffix(1)), (1...4).contains(q) {
                return year * 100 + q
            }
            guard t.count == 6, let p = Int(t), (1...4).contains(p % 100), (1900...2099).contains(p / 100) else { return nil }
            return p
        }
        guard t.count == 4, let year = Int(t), (1900...2099).contains(year) else { return nil }
        return year
    }

    private static func read(_ path: String, into reports: inout [String: [String: [PeriodRecord]]]) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot read the point-in-time file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        guard let headerLine = lines.first, !headerLine.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DataError.unreadable(path: path, reason: "the file is empty")
        }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ names: [String]) throws -> Int {
            guard let k = names.compactMap({ header.firstIndex(of: $0) }).first else {
                throw DataError.unreadable(path: path, reason: "line 1: no \(names.joined(separator: "/")) column (the layout is code,period,announce_date,field,value)")
            }
            return k
        }
        let codeColumn = try column(["code", "symbol", "instrument"]), periodColumn = try column(["period"])
        let dateColumn = try column(["announce_date", "date"]), fieldColumn = try column(["field"]), valueColumn = try column(["value"])
        for (k, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let where_ = "line \(k + 1)"
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw DataError.unreadable(path: path, reason: "\(where_): \(cells.count) cells, the header has \(header.count)")
            }
            let field = cells[fieldColumn].lowercased()
            guard isFieldName(field) else {
                throw DataError.unreadable(path: path, reason: "\(where_): field '\(cells[fieldColumn])' must end in _q (quarterly) or _a (annual), as Qlib's PIT fields do")
            }
            let quarterly = field.hasSuffix("_q")
            guard let period = period(cells[periodColumn], quarterly: quarterly) else {
                throw DataError.unreadable(path: path, reason: "\(where_): period '\(cells[periodColumn])' of \(field) is not \(quarterly ? "YYYYQQ (201803) or 2018Q3" : "a year YYYY")")
            }
            guard let announced = TimeFormat.parse(cells[dateColumn]) else {
                throw DataError.unreadable(path: path, reason: "\(where_): announce_date '\(cells[dateColumn])' is not a date")
            }
            let text = cells[valueColumn]
            guard let value = text.isEmpty ? Double.nan : Double(text) else {
                throw DataError.unreadable(path: path, reason: "\(where_): value '\(text)' is not a number")
            }
            let code = cells[codeColumn].uppercased()
            guard !code.isEmpty else { throw DataError.unreadable(path: path, reason: "\(where_): empty code") }
            reports[field, default: [:]][code, default: []].append(
                PeriodRecord(announced: TimeFormat.dayNumber(announced), period: period, value: value))
        }
    }

    /// The `<field>.data` files of one instrument's folder in Qlib's binary layout.
    private static func readQlib(instrument folder: String, code: String, into reports: inout [String: [String: [PeriodRecord]]]) throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".data") }.sorted()
        for file in files {
            let path = (folder as NSString).appendingPathComponent(file)
            let field = String(file.dropLast(".data".count)).lowercased()
            guard isFieldName(field) else {
                throw DataError.unreadable(path: path, reason: "field '\(field)' must end in _q (quarterly) or _a (annual), as Qlib's PIT fields do")
            }
            guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(String(file.dropLast(".data".count)) + ".index")) else {
                throw DataError.unreadable(path: path, reason: "its .index file is missing (Qlib's PIT layout has both)")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataError.unreadable(path: path, reason: "cannot read the point-in-time file")
            }
            let recordSize = 20
            guard data.count % recordSize == 0 else {
                throw DataError.unreadable(path: path, reason: "\(data.count) bytes is not a whole number of 20-byte records (date, period, value, next)")
            }
            let quarterly = field.hasSuffix("_q")
            var records: [PeriodRecord] = []
            records.reserveCapacity(data.count / recordSize)
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                var lastDate: UInt32 = 0
                for k in 0..<(data.count / recordSize) {
                    let base = k * recordSize
                    let date = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base, as: UInt32.self))
                    let period = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self)))
                    let value = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)))
                    let year = Int(date / 10000), month = Int(date / 100 % 100), day = Int(date % 100)
                    guard (1900...2099).contains(year), (1...12).contains(month), (1...TimeFormat.daysInMonth(year: year, month: month)).contains(day) else {
                        throw DataError.unreadable(path: path, reason: "record \(k + 1): date \(date) is not YYYYMMDD")
                    }
                    guard date >= lastDate else {
                        throw DataError.unreadable(path: path, reason: "record \(k + 1): date \(date) comes after \(lastDate): Qlib's records are in announcement order")
                    }
                    lastDate = date
                    guard self.period(String(period), quarterly: quarterly) != nil else {
                        throw DataError.unreadable(path: path, reason: "record \(k + 1): period \(period) is not \(quarterly ? "YYYYQQ" : "a year")")
                    }
                    records.append(PeriodRecord(announced: TimeFormat.daysFromCivil(year: year, month: month, day: day), period: period, value: value))
                }
            }
            reports[field, default: [:]][code, default: []].append(contentsOf: records)
        }
    }

    /// `field` over `instruments` (an instrument without reports has none).
    func field(_ field: String, instruments: [String]) -> PeriodField {
        let byCode = reports[field] ?? [:]
        return PeriodField(quarterly: field.hasSuffix("_q"), records: instruments.map { byCode[$0] ?? [] })
    }
}
