import FactorCore

/// Reads bars from a Qlib data directory's `.bin` files on demand (only the instruments, fields and rows asked).
struct QlibStore: BarStore {
    let directory: String
    let frequency: Frequency
    let calendar: MarketCalendar
    /// Instruments with data: those of `instruments/all.txt` with a features folder, or every folder.
    let codes: [String]
    /// Every features folder (instruments and benchmarks) by upper-case code.
    let folders: [String: String]
    let fieldNames: [String]
    private let codeSet: Set<String>

    init(directory: String, frequency: Frequency, calendar: MarketCalendar, codes: [String],
         folders: [String: String], fieldNames: [String]) {
        self.directory = directory
        self.frequency = frequency
        self.calendar = calendar
        self.codes = codes
        self.folders = folders
        self.fieldNames = fieldNames
        self.codeSet = Set(codes)
    }

    /// File suffix of this frequency (`.day.bin`, `.5min.bin`).
    var suffix: String { ".\(frequency).bin" }

    func contains(_ code: String) -> Bool { codeSet.contains(code) }

    func fieldNames(of code: String) -> [String] {
        guard let folder = folders[code] else { return [] }
        return Self.fields(in: folder, suffix: suffix)
    }

    /// Field names of the `.bin` files of one folder.
    static func fields(in folder: String, suffix: String) -> [String] {
        (FileSystem.list(folder) ?? []).compactMap { name in
            name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)).lowercased() : nil
        }
    }

    private func binPath(_ code: String, _ field: String) -> String? {
        folders[code].map { FileSystem.join($0, field + suffix) }
    }

    func spans(of codes: [String]) throws -> [Range<Int>] {
        let results = Parallel.map(codes.count) { i in
            Result { () throws -> Range<Int> in
                var lo = Int.max, hi = Int.min
                for field in fieldNames {
                    guard let path = binPath(codes[i], field),
                          let file = try QlibBinFile.openFile(path, calendarCount: calendar.count) else { continue }
                    file.closeFile()
                    if !file.rows.isEmpty {
                        lo = min(lo, file.rows.lowerBound)
                        hi = max(hi, file.rows.upperBound)
                    }
                }
                return lo < hi ? lo..<hi : 0..<0
            }
        }
        return try results.map { try $0.get() }
    }

    func read(codes: [String], fields: [String], rows: Range<Int>) throws -> BarBlock {
        let length = rows.count
        let count = codes.count * length
        // One buffer per field; one task per instrument writes its slice of every buffer.
        let buffers = fields.map { _ -> UnsafeMutableBufferPointer<Double> in
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, count))
            b.initialize(repeating: .nan)
            return b
        }
        defer { for b in buffers { b.deallocate() } }
        let targets = UnsafeTransfer(buffers)
        let results = Parallel.map(codes.count) { i in
            Result { () throws -> Range<Int> in
                var lo = Int.max, hi = Int.min
                for (k, field) in fields.enumerated() {
                    guard let base = targets.value[k].baseAddress, let path = binPath(codes[i], field),
                          let file = try QlibBinFile.openFile(path, calendarCount: calendar.count) else { continue }
                    defer { file.closeFile() }
                    if !file.rows.isEmpty {
                        lo = min(lo, file.rows.lowerBound)
                        hi = max(hi, file.rows.upperBound)
                    }
                    try file.read(rows, into: base + i * length)
                }
                return lo < hi ? lo..<hi : 0..<0
            }
        }
        var spans: [Range<Int>] = []
        for r in results { spans.append(try r.get().clipped(to: rows)) }
        var panels: [String: Panel] = [:]
        for (k, field) in fields.enumerated() {
            panels[field] = Panel(instrumentCount: codes.count, length: length,
                                  values: Array(UnsafeBufferPointer(rebasing: buffers[k][0..<count])))
        }
        return BarBlock(spans: spans, fields: panels)
    }
}
