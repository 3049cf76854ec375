import FactorCore
import Foundation
import Testing

@Suite("ByteWriter")
struct ByteWriterTests {
    static func shortest(_ v: Double) -> String {
        let w = ByteWriter(capacity: 8)
        w.appendShortest(v)
        return w.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test("appendShortest writes exactly Double.description for edge values")
    func edgeValues() {
        let values: [Double] = [0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1e-5, 1e-4, 9.999e-5, 1e15, 1e16, 1e17, 123456789012345680,
                                .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308, .pi, 100, 2.5, 1e22, 1e23,
                                0.008723231172089759, 0.000793044058979566, 119.38651, 4087.401]
        for v in values { #expect(Self.shortest(v) == v.description, "\(v)") }
    }

    @Test("appendShortest matches Double.description on 300,000 random values (bit patterns and decimals)")
    func randomValues() {
        var generator = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        for k in 0..<300_000 {
            let v: Double
            switch k % 3 {
            case 0: v = Double(bitPattern: generator.next())
            case 1: v = Double.random(in: -1...1, using: &generator)
            default: v = Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 1000
            }
            guard v.isFinite else { continue }
            if Self.shortest(v) != v.description { mismatches.append("\(v.bitPattern)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("Appending grows the buffer and keeps every byte; integers are little-endian")
    func growth() {
        let w = ByteWriter(capacity: 1)
        for i in 0..<10_000 { w.append(UInt8(i % 251)) }
        w.appendLittleEndian(UInt32(0x0403_0201))
        w.append("é,")
        let bytes = w.bytes
        #expect(bytes.count == 10_000 + 4 + 3)
        #expect((0..<10_000).allSatisfy { bytes[$0] == UInt8($0 % 251) })
        #expect(Array(bytes[10_000..<10_004]) == [1, 2, 3, 4])
        #expect(Array(bytes[10_004...]) == [0xC3, 0xA9, 0x2C])
    }
}
