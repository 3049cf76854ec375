import FactorCore

/// The load path both sources share: frequency, rows, fields, point-in-time universe, auxiliary series.
enum DataLoader {
    /// What a source hands the loader.
    struct Context {
        /// Bars at the source's stored frequency.
        var store: BarStore
        /// The directory's universe files.
        var catalog: UniverseCatalog
        /// Benchmark codes (not instruments), for auxiliary series and messages.
        var benchmarks: [String]
        /// A store that can read the given benchmark codes on `store`'s calendar.
        var benchmarkStore: ([String]) throws -> BarStore
        /// Notes from building the store.
        var warnings: [String]
        var origin: DataOrigin
    }

    /// Field names as requested: lower case, without `$`, without repeats; every field when nil.
    static func resolveFields(_ requested: [String]?, available: [String]) throws -> [String] {
        guard let requested else { return available }
        var seen = Set<String>()
        var fields: [String] = []
        for raw in requested {
            var name = raw.trimmedASCII().lowercased()
            if name.hasPrefix("$") { name.removeFirst() }
            if !name.isEmpty && seen.insert(name).inserted { fields.append(name) }
        }
        let unknown = fields.filter { !available.contains($0) }
        if !unknown.isEmpty { throw DataError.unknownFields(unknown: unknown, available: available) }
        return fields
    }

    /// Sorted, merged, non-empty ranges.
    /// Fails when the request needs an instrument whose file could not be read, naming the file's error.
    static func checkReadable(_ spec: UniverseSpec, _ context: Context) throws {
        guard let table = context.store as? ColumnTable, !table.unreadable.isEmpty else { return }
        let needed: [String]
        switch spec {
        case .all: needed = Array(table.unreadable.keys)
        case .codes(let codes): needed = codes.map { $0.uppercased() }
        case .named(let name):
            needed = ((try? context.catalog.members(of: name.lowercased())) ?? nil)?.map(\.code) ?? [name.uppercased()]
        }
        let broken = needed.filter { table.unreadable[$0] != nil }.sorted()
        if !broken.isEmpty { throw DataError.unreadableFiles(broken.map { table.unreadable[$0]! }) }
    }

    static func normalize(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The calendar of `store` at `frequency`, with the plan that builds it (nil: no resampling).
    static func calendar(_ store: BarStore, frequency: Frequency?) throws -> (MarketCalendar, ResamplePlan?) {
        let target = frequency ?? store.frequency
        if target == store.frequency { return (store.calendar, nil) }
        let plan = try Resampler.plan(from: store.calendar, to: target)
        return (plan.target, plan)
    }

    static func load(_ request: DataRequest, _ context: Context) throws -> LoadedData {
        let store = context.store
        let (calendar, plan) = try calendar(store, frequency: request.frequency)

        // Rows.
        if let s = request.start, let e = request.end, s > e {
            throw DataError.startAfterEnd(start: TimeCellParser.label(s), end: TimeCellParser.label(e))
        }
        let output = calendar.rows(from: request.start, through: request.end)
        guard !output.isEmpty, calendar.count > 0 else {
            let first = calendar.count > 0 ? calendar.label(0) : "(empty)"
            let last = calendar.count > 0 ? calendar.label(calendar.count - 1) : "(empty)"
            throw DataError.noRowsInRange(start: request.start.map(TimeCellParser.label) ?? first,
                                          end: request.end.map(TimeCellParser.label) ?? last,
                                          calendarFirst: first, calendarLast: last)
        }
        let lo = request.lookbackRows.map { max(0, output.lowerBound - max(0, $0)) } ?? 0
        let hi = min(calendar.count, output.upperBound + max(0, request.lookaheadRows))
        let loaded = lo..<hi

        // Fields and universe.
        let fields = try resolveFields(request.fields, available: store.fieldNames)
        try checkReadable(request.universe, context)
        let universe = try ResolvedUniverse.resolve(request.universe, catalog: context.catalog, store: store,
                                                    benchmarks: context.benchmarks)
        let baseSpans = try store.spans(of: universe.members.map(\.code))
        var selected: [String] = []
        var memberRows: [[Range<Int>]] = []
        var spans: [Range<Int>] = []
        var anyOutputMember = false
        // Members of the look-back rows are loaded too, even when they left the universe before the output rows: a
        // cross-sectional operator inside a time-series one ranks them on those rows, so leaving them out would make
        // the values depend on the requested start date.
        let considered = lo..<output.upperBound
        for (member, baseSpan) in zip(universe.members, baseSpans) {
            let span = plan?.targetRows(covering: baseSpan) ?? baseSpan
            let rows: [Range<Int>]
            if let dateSpans = member.spans {
                rows = normalize(dateSpans.map { calendar.rows(from: $0.lowerBound, through: $0.upperBound) })
            } else {
                rows = span.isEmpty ? [] : [span]
            }
            guard rows.contains(where: { $0.overlaps(considered) }) else { continue }
            if rows.contains(where: { $0.overlaps(output) }) { anyOutputMember = true }
            selected.append(member.code)
            memberRows.append(rows.map { $0.clipped(to: loaded) }.filter { !$0.isEmpty })
            spans.append(span.clipped(to: loaded))
        }
        guard anyOutputMember else {
            throw DataError.noMembers(universe: universe.label, start: calendar.label(output.lowerBound),
                                      end: calendar.label(output.upperBound - 1))
        }

        // Bars.
        let baseRows = plan?.sourceRows(of: loaded) ?? loaded
        let groups = plan.map { p in
            p.groups[loaded].map { ($0.lowerBound - baseRows.lowerBound)..<($0.upperBound - baseRows.lowerBound) }
        }
        let panels = try readFields(fields, codes: selected, store: store, rows: baseRows, groups: groups)

        // Auxiliary series.
        var auxiliary: [String: AuxiliarySeries] = [:]
        let auxCodes = request.auxiliary.map { $0.trimmedASCII().uppercased() }.filter { !$0.isEmpty }
        let unknown = auxCodes.filter { !store.contains($0) && !context.benchmarks.contains($0) }
        if !unknown.isEmpty { throw DataError.unknownAuxiliary(unknown: unknown, benchmarks: context.benchmarks) }
        let benchCodes = auxCodes.filter { !store.contains($0) }
        let benchStore = benchCodes.isEmpty ? nil : try context.benchmarkStore(Array(Set(benchCodes)).sorted())
        for code in Set(auxCodes) {
            let source: BarStore = store.contains(code) ? store : (benchStore ?? store)
            let available = source.fieldNames(of: code)
            let auxFields = request.fields == nil ? available : fields.filter { available.contains($0) }
            let auxPanels = try readFields(auxFields, codes: [code], store: source, rows: baseRows, groups: groups)
            let baseSpan = try source.spans(of: [code])[0]
            let span = (plan?.targetRows(covering: baseSpan) ?? baseSpan).clipped(to: loaded)
            auxiliary[code] = AuxiliarySeries(span: span, fields: auxPanels.mapValues(\.values))
        }

        // Categorical fields, point in time from the classification file.
        var categories: [String: CategoryPanel] = [:]
        if !request.categories.isEmpty {
            guard let classification = try Classification.find(in: context.catalog.directory) else {
                throw DataError.noClassification(directory: context.catalog.directory, categories: request.categories)
            }
            for category in request.categories {
                guard classification.categories.contains(category) else {
                    throw DataError.unknownCategory(category, path: classification.path, available: classification.categories.sorted())
                }
                categories[category] = classification.panel(category, instruments: selected, calendar: calendar.slice(loaded))
            }
        }

        // Point-in-time fundamentals, every report of the selected instruments (the history before the window counts).
        var periodFields: [String: PeriodField] = [:]
        if !request.periodFields.isEmpty {
            guard let reports = try FinancialReports.find(in: context.catalog.directory) else {
                throw DataError.noFinancialReports(directory: context.catalog.directory, fields: request.periodFields)
            }
            for field in request.periodFields {
                guard reports.reports[field] != nil else {
                    throw DataError.unknownPeriodField(field, directory: reports.directory, available: reports.reports.keys.sorted())
                }
                periodFields[field] = reports.field(field, instruments: selected)
            }
        }

        let data = MarketData(instruments: selected, calendar: calendar.slice(loaded), spans: spans, fields: panels,
                              membership: Membership(rows: memberRows, length: loaded.count), auxiliary: auxiliary,
                              categories: categories, periodFields: periodFields)
        return LoadedData(data: data, outputRows: (output.lowerBound - lo)..<(output.upperBound - lo),
                          warnings: context.warnings + universe.warnings, origin: context.origin)
    }

    /// Reads `fields` over base `rows` and aggregates them over `groups` when resampling.
    private static func readFields(_ fields: [String], codes: [String], store: BarStore, rows: Range<Int>,
                                   groups: [Range<Int>]?) throws -> [String: Panel] {
        var readList = fields
        if groups != nil && fields.contains("vwap") && !fields.contains("volume") && store.fieldNames.contains("volume") {
            readList.append("volume")
        }
        let block = try store.read(codes: codes, fields: readList, rows: rows)
        guard let groups else { return block.fields }
        return Resampler.aggregate(fields: block.fields, groups: groups).filter { fields.contains($0.key) }
    }
}

extension BarStore {
    /// The fields `code` has (default: every field of the store).
    func fieldNames(of code: String) -> [String] { fieldNames }
}
