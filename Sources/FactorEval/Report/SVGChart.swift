import Foundation

/// Minimal inline-SVG charts for the HTML report: lines, bars and a heatmap, with axes and labels.
struct SVGChart {
    var width = 760.0
    var height = 220.0
    let left = 56.0, right = 14.0, top = 24.0, bottom = 26.0

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    struct Line {
        var values: [Double]
        var color: String
        var label: String
        var widthPx = 1.2
        var dashed = false
        var fill: String? = nil
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func fmt(_ v: Double) -> String {
        if !v.isFinite { return "–" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e4) { return String(format: "%.1e", v) }
        if a < 0.1 { return String(format: "%.4f", v) }
        return String(format: "%.3f", v)
    }

    private func range(_ all: [Double], includeZero: Bool) -> (Double, Double) {
        var lo = Double.infinity, hi = -Double.infinity
        for v in all where v.isFinite { lo = min(lo, v); hi = max(hi, v) }
        if !lo.isFinite { return (0, 1) }
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if lo == hi { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.05
        return (lo - pad, hi + pad)
    }

    private func frame(_ lo: Double, _ hi: Double, labels: [String], title: String) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\">"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fff\" stroke=\"#d0d7de\"/>"
        for v in Self.niceTicks(lo, hi) {
            let y = yPos(v, lo, hi)
            s += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#eef1f4\"/>"
            s += "<text x=\"\(left - 4)\" y=\"\(y + 3)\" text-anchor=\"end\" class=\"ax\">\(Self.fmt(v))</text>"
        }
        if lo < 0 && hi > 0 {
            let y = yPos(0, lo, hi)
            s += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#8c959f\" stroke-width=\"0.8\"/>"
        }
        if !labels.isEmpty {
            let ticks = min(6, labels.count)
            for k in 0..<ticks {
                let i = ticks == 1 ? 0 : k * (labels.count - 1) / (ticks - 1)
                let anchor = k == 0 ? "start" : (k == ticks - 1 ? "end" : "middle")
                s += "<text x=\"\(xPos(i, labels.count))\" y=\"\(height - 8)\" text-anchor=\"\(anchor)\" class=\"ax\">\(Self.escape(labels[i]))</text>"
            }
        }
        return s
    }

    /// Round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi].
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 4
        guard raw > 0, raw.isFinite else { return [lo] }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 { ticks.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return ticks
    }

    private func xPos(_ i: Int, _ n: Int) -> Double {
        n <= 1 ? left + plotWidth / 2 : left + plotWidth * Double(i) / Double(n - 1)
    }

    private func yPos(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        top + plotHeight * (1 - (v - lo) / (hi - lo))
    }

    /// Lines over a shared x axis of `labels`; NaN breaks a line.
    func lines(_ series: [Line], labels: [String], title: String, includeZero: Bool = true) -> String {
        let (lo, hi) = range(series.flatMap(\.values), includeZero: includeZero)
        var s = frame(lo, hi, labels: labels, title: title)
        for line in series {
            let n = line.values.count
            if let fill = line.fill {
                var d = ""
                var open = false
                let zero = yPos(max(lo, min(hi, 0)), lo, hi)
                for (i, v) in line.values.enumerated() {
                    guard v.isFinite else { continue }
                    let x = xPos(i, n), y = yPos(v, lo, hi)
                    d += open ? "L\(String(format: "%.1f", x)),\(String(format: "%.1f", y))" : "M\(String(format: "%.1f", x)),\(String(format: "%.1f", zero))L\(String(format: "%.1f", x)),\(String(format: "%.1f", y))"
                    open = true
                }
                if open { d += "L\(String(format: "%.1f", xPos(n - 1, n))),\(String(format: "%.1f", zero))Z" }
                s += "<path d=\"\(d)\" fill=\"\(fill)\" stroke=\"none\"/>"
            }
            var d = ""
            var penDown = false
            for (i, v) in line.values.enumerated() {
                guard v.isFinite else { penDown = false; continue }
                d += (penDown ? "L" : "M") + String(format: "%.1f,%.1f", xPos(i, n), yPos(v, lo, hi))
                penDown = true
            }
            let dash = line.dashed ? " stroke-dasharray=\"4 3\"" : ""
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(line.widthPx)\"\(dash)/>"
        }
        s += legend(series.map { ($0.label, $0.color) })
        return s + "</svg>"
    }

    /// Vertical bars, one per label.
    func bars(_ values: [Double], labels: [String], title: String, color: (Double) -> String) -> String {
        let (lo, hi) = range(values, includeZero: true)
        var s = frame(lo, hi, labels: [], title: title)
        let n = max(1, values.count)
        let slot = plotWidth / Double(n)
        for (i, v) in values.enumerated() {
            let x = left + slot * Double(i) + slot * 0.15
            if v.isFinite {
                let y0 = yPos(0, lo, hi), y1 = yPos(v, lo, hi)
                s += "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", min(y0, y1)))\" width=\"\(String(format: "%.1f", slot * 0.7))\" height=\"\(String(format: "%.1f", max(0.5, abs(y1 - y0))))\" fill=\"\(color(v))\"><title>\(Self.escape(labels[i])): \(Self.fmt(v))</title></rect>"
            }
            s += "<text x=\"\(String(format: "%.1f", x + slot * 0.35))\" y=\"\(height - 8)\" text-anchor=\"middle\" class=\"ax\">\(Self.escape(labels[i]))</text>"
        }
        return s + "</svg>"
    }

    /// A heatmap of `cells[row][column]` (NaN blank), diverging around 0.
    func heatmap(_ cells: [[Double]], rows: [String], columns: [String], title: String) -> String {
        let maxAbs = max(1e-12, cells.flatMap { $0 }.filter(\.isFinite).map(abs).max() ?? 1)
        let cw = plotWidth / Double(max(1, columns.count)), ch = min(24, plotHeight / Double(max(1, rows.count)))
        let h = top + ch * Double(rows.count) + bottom
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(h))\" role=\"img\" aria-label=\"\(Self.escape(title))\">"
        for (r, name) in rows.enumerated() {
            let y = top + ch * Double(r)
            s += "<text x=\"\(left - 4)\" y=\"\(String(format: "%.1f", y + ch * 0.65))\" text-anchor=\"end\" class=\"ax\">\(Self.escape(name))</text>"
            for (c, v) in cells[r].enumerated() {
                let x = left + cw * Double(c)
                let fill = v.isFinite ? Self.diverging(v / maxAbs) : "#f6f8fa"
                s += "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", y))\" width=\"\(String(format: "%.1f", cw - 1))\" height=\"\(String(format: "%.1f", ch - 1))\" fill=\"\(fill)\"><title>\(Self.escape(name))-\(Self.escape(columns[c])): \(Self.fmt(v))</title></rect>"
                if v.isFinite && cw > 34 {
                    s += "<text x=\"\(String(format: "%.1f", x + cw / 2))\" y=\"\(String(format: "%.1f", y + ch * 0.65))\" text-anchor=\"middle\" class=\"cell\">\(String(format: "%.3f", v))</text>"
                }
            }
        }
        for (c, name) in columns.enumerated() {
            s += "<text x=\"\(String(format: "%.1f", left + cw * (Double(c) + 0.5)))\" y=\"\(String(format: "%.1f", top + ch * Double(rows.count) + 14))\" text-anchor=\"middle\" class=\"ax\">\(Self.escape(name))</text>"
        }
        return s + "</svg>"
    }

    /// Red for negative, blue for positive, white at 0 (colour-blind safe pair).
    static func diverging(_ x: Double) -> String {
        let t = max(-1, min(1, x))
        let (r, g, b): (Double, Double, Double) = t >= 0
            ? (255 - 222 * t, 255 - 153 * t, 255 - 75 * t)
            : (255 + 41 * t, 255 + 185 * t, 255 + 195 * t)
        return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
    }

    private func legend(_ items: [(String, String)]) -> String {
        var s = ""
        var x = left + 8
        for (label, color) in items where !label.isEmpty {
            s += "<rect x=\"\(x)\" y=\"\(top - 12)\" width=\"10\" height=\"3\" fill=\"\(color)\"/>"
            s += "<text x=\"\(x + 14)\" y=\"\(top - 7)\" class=\"lg\">\(Self.escape(label))</text>"
            x += 22 + Double(label.count) * 6.2
        }
        return s
    }
}
