@testable import FactorData
import Testing

@Suite("Decimal parsing")
struct DecimalParserTests {
    @Test("Equals Double(text) bit for bit on 200,000 random decimals")
    func randomDecimals() {
        var rng = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        for _ in 0..<200_000 {
            var s = ""
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: s += "-"
            case 1: s += "+"
            default: break
            }
            let intDigits = Int.random(in: 0...20, using: &rng)
            for _ in 0..<intDigits { s += String(Int.random(in: 0...9, using: &rng)) }
            if Bool.random(using: &rng) || intDigits == 0 {
                s += "."
                for _ in 0..<Int.random(in: intDigits == 0 ? 1...20 : 0...20, using: &rng) {
                    s += String(Int.random(in: 0...9, using: &rng))
                }
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                s += Bool.random(using: &rng) ? "e" : "E"
                if Bool.random(using: &rng) { s += Bool.random(using: &rng) ? "-" : "+" }
                s += String(Int.random(in: 0...330, using: &rng))
            }
            let expected = Double(s)
            let got = DecimalParser.parse(s)
            if expected?.bitPattern != got?.bitPattern && !(expected?.isNaN == true && got?.isNaN == true) {
                mismatches.append(s)
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    }

    @Test("Shortest float32 round-trip texts, as in the data sets, parse exactly")
    func float32Texts() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let f = Float(bitPattern: UInt32.random(in: 0x3000_0000...0x5000_0000, using: &rng))
            let text = "\(f)"
            #expect(DecimalParser.parse(text)?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    @Test("Special values and rejects")
    func specials() {
        #expect(DecimalParser.parse("nan")?.isNaN == true)
        #expect(DecimalParser.parse("NaN")?.isNaN == true)
        #expect(DecimalParser.parse("inf") == .infinity)
        #expect(DecimalParser.parse("-inf") == -.infinity)
        #expect(DecimalParser.parse("-0")?.sign == .minus)
        #expect(DecimalParser.parse("1e5") == 100_000)
        #expect(DecimalParser.parse("0.1") == 0.1)
        #expect(DecimalParser.parse("123456789012345678901234567890") == 123456789012345678901234567890.0)
        for bad in ["abc", "1.2.3", "1e", "-", ".", "1,5", "12abc", "--1", "1 2"] {
            #expect(DecimalParser.parse(bad) == nil, "\(bad)")
        }
    }
}
