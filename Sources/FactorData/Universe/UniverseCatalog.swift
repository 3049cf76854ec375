import FactorCore

/// The universe files of a data directory: `instruments/<name>.txt`, one `SYMBOL<TAB>START<TAB>END` per line.
///
/// Spans are inclusive at both ends; a symbol may have several lines. A line holding only a symbol makes it a
/// member over its whole span. Separators may be tabs, spaces or commas.
struct UniverseCatalog: Sendable {
    /// One member: a code and its inclusive membership spans (nil: its whole span).
    struct Member: Sendable, Equatable {
        var code: String
        var spans: [ClosedRange<Timestamp>]?
    }

    let directory: String
    /// Lower-case universe name → file path.
    let files: [String: String]

    init(directory: String) {
        self.directory = directory
        let folder = FileSystem.join(directory, "instruments")
        var files: [String: String] = [:]
        for name in FileSystem.list(folder) ?? [] where name.lowercased().hasSuffix(".txt") && !name.hasPrefix(".") {
            let path = FileSystem.join(folder, name)
            if FileSystem.isRegularFile(path) { files[String(name.dropLast(4)).lowercased()] = path }
        }
        self.files = files
    }

    /// `all` and every universe file's name, sorted.
    var names: [String] { (Set(files.keys).union(["all"])).sorted() }

    /// The members listed in the universe file `name` (lower case), sorted by code.
    func members(of name: String) throws -> [Member]? {
        guard let path = files[name] else { return nil }
        var spans: [String: [ClosedRange<Timestamp>]] = [:]
        var wholeSpan = Set<String>()
        for (number, text) in try TextFiles.lines(path) {
            let parts = text.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "," }).map(String.init)
            guard let first = parts.first else { continue }
            let code = first.uppercased()
            if parts.count == 1 {
                wholeSpan.insert(code)
                continue
            }
            guard parts.count == 3 else {
                throw DataError.badInstrumentsFile(path: path, line: number,
                                                   problem: "expected 3 columns, found \(parts.count)")
            }
            guard let start = TimeFormat.parse(parts[1]) else {
                throw DataError.badInstrumentsFile(path: path, line: number, problem: "bad start date '\(parts[1])'")
            }
            guard let end = TimeFormat.parse(parts[2]) else {
                throw DataError.badInstrumentsFile(path: path, line: number, problem: "bad end date '\(parts[2])'")
            }
            guard start <= end else {
                throw DataError.badInstrumentsFile(path: path, line: number,
                                                   problem: "start \(parts[1]) is after end \(parts[2])")
            }
            spans[code, default: []].append(start...end)
        }
        var members: [Member] = []
        for code in Set(spans.keys).union(wholeSpan).sorted() {
            if wholeSpan.contains(code) {
                members.append(Member(code: code, spans: nil))
            } else {
                members.append(Member(code: code, spans: (spans[code] ?? []).sorted { $0.lowerBound < $1.lowerBound }))
            }
        }
        return members
    }
}
