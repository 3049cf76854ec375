import FactorCore
import Foundation

/// Writes a small, deterministic, clearly labelled SYNTHETIC daily market into a directory laid out like the CSV
/// source expects: per-instrument CSVs, a calendar, `all` and a point-in-time `core20` universe, and a benchmark.
///
/// It exists so that the README's first command works on a fresh clone without any real data. Prices follow a
/// one-factor random walk with suspensions, late listings, a delisting and a split-adjusted factor.
public enum SyntheticMarket {
    public static let instrumentCount = 40
    public static let benchmarkCode = "SH000300"

    /// Creates the data set in `directory` (which is created; existing files of the same names are replaced).
    public static func write(to directory: String, seed: UInt64 = 20_210_104) throws {
        let fm = FileManager.default
        for sub in ["", "calendars", "instruments", "benchmarks"] {
            try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        var rng = SplitMix64(seed: seed)
        // Weekdays of 2021–2022 minus a deterministic set of holidays.
        var days: [Int] = []
        let first = TimeFormat.daysFromCivil(year: 2021, month: 1, day: 4)
        let last = TimeFormat.daysFromCivil(year: 2022, month: 12, day: 30)
        for d in first...last {
            let weekday = (d + 4) % 7  // 1970-01-01 was a Thursday: 0 = Thursday … 2 = Saturday, 3 = Sunday
            if weekday == 2 || weekday == 3 { continue }
            let (_, m, dd) = TimeFormat.civilFromDays(d)
            if (m == 1 && dd == 1) || (m == 5 && dd <= 3) || (m == 10 && dd <= 7) { continue }
            days.append(d)
        }
        let dates = days.map { TimeFormat.date(Timestamp($0) * 86_400) }
        try (dates.joined(separator: "\n") + "\n").write(toFile: directory + "/calendars/day.txt", atomically: true, encoding: .utf8)

        let n = instrumentCount, length = days.count
        var market = [Double](repeating: 0, count: length)
        for t in 0..<length { market[t] = rng.normal() * 0.012 + 0.0003 }
        var index = [Double](repeating: 0, count: length)
        var indexLevel = 1000.0
        var allLines: [String] = []
        var counts = [Int](repeating: 0, count: length)
        var sums = [Double](repeating: 0, count: length)
        for k in 0..<n {
            let code = String(format: "SYN%03d", k + 1)
            let beta = 0.6 + 0.8 * rng.uniform()
            let vol = 0.01 + 0.02 * rng.uniform()
            let drift = (rng.uniform() - 0.5) * 0.001
            let listing = k % 13 == 5 ? 40 + Int(rng.uniform() * 200) : 0
            let delisting = k == n - 1 ? length - 60 : length
            var close = 5 + 95 * rng.uniform()
            var factor = 1.0
            var volumeBase = 1e6 * (1 + 20 * rng.uniform())
            var lines = ["date,open,high,low,close,volume,amount,vwap,factor"]
            var firstDate: String?, lastDate = ""
            for t in listing..<delisting {
                let ret = beta * market[t] + vol * rng.normal() + drift
                let open = close * (1 + 0.3 * vol * rng.normal())
                close *= exp(ret)
                if k % 7 == 3 && t == length / 2 { factor *= 1.5 }  // a bonus issue: the raw price (price / factor) drops
                let high = max(open, close) * (1 + abs(rng.normal()) * vol * 0.5)
                let low = min(open, close) * (1 - abs(rng.normal()) * vol * 0.5)
                volumeBase *= exp(0.1 * rng.normal())
                let volume = (volumeBase * (1 + 5 * abs(ret))).rounded()
                let vwap = (open + high + low + close) / 4
                // Suspensions: a few rows are missing from the file.
                if (t * 31 + k * 17) % 211 == 0 { continue }
                sums[t] += ret; counts[t] += 1
                let d = dates[t]
                if firstDate == nil { firstDate = d }
                lastDate = d
                lines.append("\(d),\(r(open)),\(r(high)),\(r(low)),\(r(close)),\(Int(volume)),\(r(volume * vwap / factor)),\(r(vwap)),\(factor)")
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/\(code).csv", atomically: true, encoding: .utf8)
            if let firstDate { allLines.append("\(code)\t\(firstDate)\t\(lastDate)") }
        }
        var benchLines = ["date,open,high,low,close,volume"]
        for t in 0..<length {
            let ret = counts[t] > 0 ? sums[t] / Double(counts[t]) : 0
            let open = indexLevel
            indexLevel *= 1 + ret
            index[t] = indexLevel
            benchLines.append("\(dates[t]),\(r(open)),\(r(max(open, indexLevel) * 1.002)),\(r(min(open, indexLevel) * 0.998)),\(r(indexLevel)),\(1_000_000_000 + t * 1000)")
        }
        try (benchLines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/benchmarks/\(benchmarkCode)_daily.csv", atomically: true, encoding: .utf8)
        try (allLines.joined(separator: "\n") + "\n").write(toFile: directory + "/instruments/all.txt", atomically: true, encoding: .utf8)
        // core20: 20 members, half of them replaced every six months (point-in-time membership with several spans).
        var coreLines: [String] = []
        let periods = stride(from: 0, to: length, by: 125).map { $0..<min(length, $0 + 125) }
        for (p, period) in periods.enumerated() {
            for k in 0..<n where (k + p * 10) % n < 20 && k % 13 != 5 && k != n - 1 {
                coreLines.append(String(format: "SYN%03d", k + 1) + "\t\(dates[period.lowerBound])\t\(dates[period.upperBound - 1])")
            }
        }
        try (coreLines.joined(separator: "\n") + "\n").write(toFile: directory + "/instruments/core20.txt", atomically: true, encoding: .utf8)
        let readme = """
        SYNTHETIC DATA — generated by `factorlab demo` (FactorLab's SyntheticMarket, seed \(seed)).
        Not real market data: prices are a one-factor random walk. \(n) instruments SYN001…SYN\(String(format: "%03d", n)),
        \(length) weekdays of 2021–2022 (calendars/day.txt), suspensions as missing rows, late listings, one delisting,
        a bonus-issue adjustment factor. Universes: all, core20 (point-in-time, rebalanced every 125 days).
        Benchmark: benchmarks/\(benchmarkCode)_daily.csv — a SYNTHETIC stand-in named like the CSI 300 index so that
        beta-style catalogue factors run (it is the equal-weighted index of the synthetic instruments, not CSI 300).

        """
        try readme.write(toFile: directory + "/README.txt", atomically: true, encoding: .utf8)
    }

    private static func r(_ v: Double) -> String { String(format: "%.4f", v) }
}

/// A small deterministic PRNG (SplitMix64) with uniform and normal draws.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
