import FactorCore

/// `P(x)` and `PRef($$f, period)` over `MarketData.periodFields`, with Qlib's point-in-time semantics
/// (`qlib/data/pit.py`, `LocalPITProvider.period_feature`): on a row dated d, a field's reported periods are those
/// announced on or before d, from the earliest to the latest, consecutive; each period holds its latest revision
/// announced on or before d (NaN for a period never reported by then). `P(x)` evaluates x over that series and takes
/// its last period's value; `PRef` takes one named period's. A report never appears before its announcement date.
extension ChunkEvaluation {
    static func pointInTime(_ inner: Plan, _ context: Context) throws(ExpressionEvaluationError) -> NodeValue {
        let data = context.data
        let fields = inner.fields  // `$roe_q`
        var periodFields: [PeriodField] = []
        for field in fields {
            guard let f = data.periodFields[String(field.dropFirst())] else {
                throw .missingPeriodField(String(field.dropFirst()), available: data.periodFields.keys.sorted())
            }
            periodFields.append(f)
        }
        let length = data.calendar.count
        let days = data.calendar.times.map(TimeFormat.dayNumber)
        var out = context.buffer(outside: data.spans)
        for (i, span) in data.spans.enumerated() where !span.isEmpty {
            let records = periodFields.map { $0.records[i] }
            // Announcement days of any of the fields, each a moment the value can change.
            var events = Array(Set(records.flatMap { $0.map(\.announced) })).sorted()
            events = events.filter { $0 <= days[span.upperBound - 1] }
            var t = span.lowerBound
            var current = Double.nan
            var next = 0
            // Rows before the first announcement in the span: the value known then (reports before the span count).
            while t < span.upperBound {
                while next < events.count && events[next] <= days[t] { next += 1 }
                let known = next > 0 ? events[next - 1] : nil
                current = try known.map { day throws(ExpressionEvaluationError) in
                    try latestPeriodValue(inner, fields: fields, records: records, quarterly: periodFields.map(\.quarterly), knownOn: day)
                } ?? .nan
                // The value holds until the next announcement.
                let until = next < events.count ? events[next] : Int.max
                while t < span.upperBound && days[t] < until {
                    out[i * length + t] = current
                    t += 1
                }
            }
        }
        return .series(SeriesPanel(values: out, spans: data.spans, length: length))
    }

    static func periodReference(_ field: String, _ period: Int, _ context: Context) throws(ExpressionEvaluationError) -> NodeValue {
        let data = context.data
        guard let f = data.periodFields[field] else { throw .missingPeriodField(field, available: data.periodFields.keys.sorted()) }
        let length = data.calendar.count
        let days = data.calendar.times.map(TimeFormat.dayNumber)
        var out = context.buffer(outside: data.spans)
        for (i, span) in data.spans.enumerated() where !span.isEmpty {
            let reports = f.records[i].filter { $0.period == period }  // announcement order
            var k = 0
            var value = Double.nan
            for t in span {
                while k < reports.count && reports[k].announced <= days[t] { value = reports[k].value; k += 1 }
                out[i * length + t] = value
            }
        }
        return .series(SeriesPanel(values: out, spans: data.spans, length: length))
    }

    /// The inner plan over the periods known on `day`, its last period's value.
    private static func latestPeriodValue(_ inner: Plan, fields: [String], records: [[PeriodRecord]], quarterly: [Bool],
                                          knownOn day: Int) throws(ExpressionEvaluationError) -> Double {
        // Each field's known periods, first through last, consecutive; the axis is their union (pandas aligns the
        // fields' series on the union of their periods).
        var first = Int.max, last = Int.min
        var latest: [[Int: Double]] = []
        for list in records {
            var values: [Int: Double] = [:]
            for r in list where r.announced <= day {
                values[r.period] = r.value  // later revisions come later in the list
                first = min(first, r.period)
                last = max(last, r.period)
            }
            latest.append(values)
        }
        guard first <= last else { return .nan }
        let axis = PeriodField.periods(from: first, through: last, quarterly: quarterly.first ?? true)
        var panels: [String: Panel] = [:]
        for (k, field) in fields.enumerated() {
            panels[field] = Panel(instrumentCount: 1, length: axis.count, values: axis.map { latest[k][$0] ?? .nan })
        }
        let calendar = MarketCalendar(times: axis.map { Timestamp($0) }, frequency: .day)
        let single = MarketData(instruments: ["P"], calendar: calendar, spans: [0..<axis.count], fields: panels)
        var ignored: EvaluationProfile?
        return try run(inner, data: single, threads: 1, profile: &ignored)[0].values[axis.count - 1]
    }
}
